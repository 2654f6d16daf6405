import { match } from "ts-pattern";
import type { Config } from "../settings.js";
import { boundDiagnostics, describeRef, sortDiagnostics } from "../diagnostics.js";
import type { Ip } from "../ip.js";
import { poolOf } from "../ipam.js";
import type { Diagnostic, Service } from "../model.js";
import { NO_ELIGIBLE_NODE, type SecondPass } from "./backends.js";
import { LAST_GOOD_KEPT } from "./lastGood.js";
import { isOurClass, isResponsibleFor } from "./responsible.js";
import type { Condition, Ingress, ServicePlan } from "./types.js";

/** The condition type Portico sets on every Service it is responsible for. */
export const READY_CONDITION = "portico.dev/LoadBalancerReady";
/** Set (status True) while a Service has warnings: bad annotations, ports not served. */
export const DEGRADED_CONDITION = "portico.dev/Degraded";

/** The upstream condition type for ports a load balancer cannot serve (KEP-1435). */
export const PORTS_ERROR_CONDITION = "LoadBalancerPortsError";

/**
 * The {@link PORTS_ERROR_CONDITION} for a Service whose ingress lists ports that are not served,
 * or `undefined` when every port is: reason `LoadBalancerMixedProtocolNotSupported`, as upstream,
 * when a port's protocol is served by no data plane this LB node has.
 */
export const portsCondition = (ingress: readonly Ingress[], generation: number): Condition | undefined => {
  if (ingress.every((i) => i.ports.every((p) => p.error === undefined))) return undefined;
  const failing = [
    ...new Set(
      ingress.flatMap((i) =>
        i.ports.flatMap((p) => (p.error === undefined ? [] : [`${p.port}/${p.protocol} (${p.error})`])),
      ),
    ),
  ];
  if (failing.length === 0) return undefined;
  const protocol = ingress.some((i) => i.ports.some((p) => p.error === "portico.dev/ProtocolNotServed"));
  return {
    type: PORTS_ERROR_CONDITION,
    status: "True",
    reason: protocol ? "LoadBalancerMixedProtocolNotSupported" : "LoadBalancerPortsNotServed",
    message: `ports not served: ${failing.join(", ")}`.slice(0, 4000),
    observedGeneration: generation,
  };
};

/** One Service once VRRP is planned: every diagnostic of its passes, and whether it is served. */
export interface Outcome {
  readonly diag: readonly Diagnostic[];
  /** Some VIP of the Service got no VRRP instance. */
  readonly vipUnplaced: boolean;
  readonly failed: boolean;
}

/** A Service's {@link Outcome}, given the VIPs VRRP could not place. */
export const outcomeOf = (second: SecondPass, unplaced: ReadonlySet<Ip>, config: Config): Outcome => {
  const { first, served } = second;
  const lost = served.vips.filter((v) => unplaced.has(v.ip)).map((v) => v.ip);
  const diag = [...first.diag, ...served.diag];
  if (lost.length > 0) {
    const ref = { kind: "Service", namespace: first.service.namespace, name: first.service.name };
    const range = `${config.vrrp.vridFirst}-${config.vrrp.vridLast}`;
    diag.push({
      severity: "error",
      reason: "VridExhausted",
      object: ref,
      message: `${describeRef(ref)}: no VRRP router id left in ${range} for VIP ${lost.join(", ")}`,
    });
  }
  const failed = served.frontends.length + served.l4.length === 0 || lost.length > 0 || served.dualStackBroken;
  return { diag, vipUnplaced: lost.length > 0, failed };
};

/**
 * A Service's plan: its state, addresses and frontends, and the status and conditions to publish;
 * `problems` are what ingest found wrong with it.
 */
export const servicePlanOf = (second: SecondPass, outcome: Outcome, problems: readonly Diagnostic[]): ServicePlan => {
  const { service, options } = second.first;
  const d = second.served;
  const sorted = sortDiagnostics([...problems, ...outcome.diag]);
  const hasError = sorted.some((x) => x.severity === "error");
  const servedAll = !hasError && d.frontends.length + d.l4.length >= d.wanted;
  const state: ServicePlan["state"] = outcome.failed ? "failed" : servedAll ? "ready" : "partial";
  const ipMode = options.proxyProtocol === "none" ? "VIP" : "Proxy";
  const ingress: Ingress[] = state === "failed" ? [] : d.vips.map((v) => ({ ip: v.ip, ipMode, ports: d.ports }));
  return {
    key: service.key,
    state,
    vips: d.vips.map((v) => v.ip),
    ipMode,
    proxyProtocol: options.proxyProtocol,
    frontends: state === "failed" ? [] : d.frontends.map((f) => f.id).sort(),
    status: {
      loadBalancer: { ingress },
      conditions: withPortsCondition(conditionsFor(state, sorted, service.generation), ingress, service.generation),
    },
    diagnostics: boundDiagnostics(sorted),
  };
};

/** `conditions` with the {@link PORTS_ERROR_CONDITION} that `ingress` calls for, and no stale one. */
export const withPortsCondition = (
  conditions: readonly Condition[],
  ingress: readonly Ingress[],
  generation: number,
): Condition[] => {
  const ports = portsCondition(ingress, generation);
  const rest = conditions.filter((c) => c.type !== PORTS_ERROR_CONDITION);
  return ports === undefined ? rest : [...rest, ports];
};

/**
 * The Services Portico is no longer responsible for whose status still holds an address of our
 * pools, by key: their status is to be cleared.
 */
export const statusToClear = (services: readonly Service[], config: Config): Service["key"][] =>
  services
    .filter((s) => !isResponsibleFor(s, config) && wasOurs(s, config))
    .map((s) => s.key)
    .sort();

// The API server drops the class when the type leaves LoadBalancer: such a Service was ours if
// its status holds an address of our pools, whatever handleUnclassed says.
const wasOurs = (s: Service, config: Config): boolean => {
  const leftLoadBalancer = s.type !== "LoadBalancer" || s.deleting;
  const classDropped = s.type !== "LoadBalancer" && s.loadBalancerClass === undefined;
  if (!leftLoadBalancer || !(isOurClass(s, config) || classDropped)) return false;
  return s.statusIps.some((ip) => poolOf(ip, config.pools) !== undefined);
};

const conditionsFor = (
  state: ServicePlan["state"],
  diagnostics: readonly Diagnostic[],
  generation: number,
): Condition[] => {
  const errors = diagnostics.filter((d) => d.severity === "error");
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  const ready: Condition = match(state)
    .with(
      "ready",
      () =>
        ({
          type: READY_CONDITION,
          status: "True",
          reason: "Ready",
          message: "every port is served",
          observedGeneration: generation,
        }) as const,
    )
    .with(
      "partial",
      () =>
        ({
          type: READY_CONDITION,
          status: "True",
          reason: "PartiallyServed",
          message: summary([...errors, ...warnings]),
          observedGeneration: generation,
        }) as const,
    )
    .with(
      "failed",
      () =>
        ({
          type: READY_CONDITION,
          status: "False",
          reason: errors[0]?.reason ?? "NotServed",
          message: summary(errors.length > 0 ? errors : warnings),
          observedGeneration: generation,
        }) as const,
    )
    .exhaustive();
  // A live Service whose new request is invalid is served as before, but not as asked.
  const kept = errors.find((d) => d.reason === LAST_GOOD_KEPT);
  const readyNow: Condition =
    kept === undefined || state === "failed"
      ? ready
      : { ...ready, status: "False", reason: LAST_GOOD_KEPT, message: summary(errors) };
  const degraded: Condition =
    warnings.length === 0
      ? {
          type: DEGRADED_CONDITION,
          status: "False",
          reason: "NoWarnings",
          message: "no warnings",
          observedGeneration: generation,
        }
      : {
          type: DEGRADED_CONDITION,
          status: "True",
          // No node to send to is the one warning that leaves every port unanswered; it names the condition.
          reason: (warnings.find((w) => w.reason === NO_ELIGIBLE_NODE) ?? warnings[0]!).reason,
          message: summary(warnings),
          observedGeneration: generation,
        };
  return [readyNow, degraded];
};

// Condition messages are capped by the API at 32768 bytes; keep them readable well below that.
const summary = (list: readonly Diagnostic[]): string => {
  const text =
    list
      .slice(0, 20)
      .map((d) => d.message)
      .join("; ") || "not served";
  return text.length > 4000 ? `${text.slice(0, 3999)}…` : text;
};
