import { match } from "ts-pattern";
import { parseServiceOptions } from "./annotations.js";
import type { Config } from "./config.js";
import { ident } from "./_ident.js";
import { describeRef, sortDiagnostics } from "./ingest.js";
import { allocate, type AddressRequest } from "./ipam.js";
import type { ClusterSnapshot, Diagnostic, Ident, Ip, Node, Service } from "./model.js";
import { backendAddress, isEligible } from "./nodes.js";
import type { Backend, Condition, Frontend, HealthCheck, IngressPort, Plan, Server, ServicePlan } from "./plan.js";
import { NO_VRRP_STATE, planVrrp, type VrrpState } from "./vrrp.js";

/** The condition type Portico sets on every Service it is responsible for. */
export const READY_CONDITION = "portico.dev/LoadBalancerReady";
/** Set (status True) while a Service has warnings: bad annotations, ports not served. */
export const DEGRADED_CONDITION = "portico.dev/Degraded";

/**
 * Whether Portico is responsible for a Service: `type: LoadBalancer` with our
 * `loadBalancerClass`, or with none when the config handles unclassed Services. A foreign class
 * is never touched, and a Service being deleted leaves the plan.
 */
export const isResponsibleFor = (service: Service, config: Config): boolean =>
  service.type === "LoadBalancer" &&
  !service.deleting &&
  (service.loadBalancerClass === undefined ? config.handleUnclassed : service.loadBalancerClass === config.loadBalancerClass);

/** Oldest first (creationTimestamp, then namespace/name); Services without a time sort last. */
export const byAge = (a: Service, b: Service): number => {
  const ta = a.creationTimestamp || "\uffff";
  const tb = b.creationTimestamp || "\uffff";
  return ta < tb ? -1 : ta > tb ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
};

/**
 * Plan the load balancers for a cluster snapshot: total and deterministic. The same snapshot and
 * config give the same Plan in any order of input objects; a Service that cannot be planned gets
 * diagnostics and a failed status while every other Service is planned normally. Never throws.
 * `vrrp` is what runs now (the previous plan's `vrrpStateOf`, or the VRIDs read from the
 * installed keepalived.conf): with it, VRIDs never change and masters move only when they must.
 */
export const plan = (snapshot: ClusterSnapshot, config: Config, vrrp: VrrpState = NO_VRRP_STATE): Plan => {
  const services = snapshot.services.filter((s) => isResponsibleFor(s, config)).sort(byAge);
  const nodes = snapshot.nodes.filter(isEligible);
  const ingestProblems = groupByService(snapshot.diagnostics);

  // Only Services with something to serve take an address; the others would hold it for nothing.
  const requests: AddressRequest[] = services.filter(isServable).map((s) => ({ key: s.key, family: s.ipFamilies[0] ?? 4, current: s.statusIps }));
  const allocations = allocate(requests, config.pools);

  const frontends: Frontend[] = [];
  const backends: Backend[] = [];
  const vipsOldestFirst: Ip[] = [];
  const drafts: { service: Service; vip?: Ip; readonly planDiagnostics: Diagnostic[]; ports: IngressPort[]; frontends: Ident[]; proxy: ServicePlan["proxyProtocol"] }[] = [];

  for (const service of services) {
    const ref = { kind: "Service", namespace: service.namespace, name: service.name };
    const diag: Diagnostic[] = [];
    const say = (severity: Diagnostic["severity"], reason: string, field: string | undefined, message: string): void => {
      diag.push({ severity, reason, object: ref, ...(field === undefined ? {} : { field }), message: `${describeRef(ref)}: ${field === undefined ? "" : `${field}: `}${message}` });
    };
    const { options, diagnostics: optionDiagnostics } = parseServiceOptions(service);
    diag.push(...optionDiagnostics);

    const allocation = allocations.get(service.key);
    const family = service.ipFamilies[0] ?? 4;
    if (service.ipFamilies.length > 1) {
      say("warning", "SecondFamilyNotServed", "spec.ipFamilies", `asks for ${service.ipFamilies.map((f) => `IPv${f}`).join(" and ")}; only IPv${family} (the first) is served in this version`);
    }
    const vip = allocation?.kind === "allocated" ? allocation.ip : undefined;
    if (allocation?.kind === "exhausted") {
      say(
        "error",
        "AddressPoolExhausted",
        undefined,
        allocation.pools.length === 0
          ? `no pool has IPv${family} addresses (spec.ipFamilies asks for IPv${family})`
          : `no free IPv${family} address left in pool(s) ${allocation.pools.join(", ")}`,
      );
    }

    const healthCheck = healthCheckFor(service, config);
    if (healthCheck === undefined) {
      say("error", "MissingHealthCheckNodePort", "spec.healthCheckNodePort", "externalTrafficPolicy is Local but no healthCheckNodePort is allocated, so nodes without endpoints cannot be told apart");
    }

    const ingressPorts: IngressPort[] = [];
    const fronts: Ident[] = [];
    service.ports.forEach((port, i) => {
      const field = `spec.ports[${i}]`;
      if (port.protocol !== "TCP") {
        say("warning", "ProtocolNotServed", `${field}.protocol`, `${port.protocol} port ${port.port} is not served yet (HAProxy serves TCP only)`);
        ingressPorts.push({ port: port.port, protocol: port.protocol, error: "portico.dev/ProtocolNotServed" });
        return;
      }
      if (port.nodePort === undefined) {
        say("warning", "NoNodePort", `${field}.nodePort`, `TCP port ${port.port} has no nodePort (allocateLoadBalancerNodePorts: false?); not served`);
        ingressPorts.push({ port: port.port, protocol: port.protocol, error: "portico.dev/NoNodePort" });
        return;
      }
      if (vip === undefined || healthCheck === undefined) {
        ingressPorts.push({ port: port.port, protocol: port.protocol, error: "portico.dev/NotServed" });
        return;
      }
      const backendId = ident("be", service.namespace, service.name, port.port, `v${family}`);
      const servers: Server[] = nodes.flatMap((node: Node) => {
        const address = backendAddress(node, family);
        return address === undefined ? [] : [{ id: ident("node", node.name), node: node.name, address, port: port.nodePort!, weight: 1 }];
      });
      backends.push({ id: backendId, service: service.key, servicePort: port.port, family, balance: "roundrobin", proxyProtocol: options.proxyProtocol, healthCheck, servers });
      const frontendId = ident("fe", service.namespace, service.name, port.port, `v${family}`);
      frontends.push({ id: frontendId, service: service.key, vip, port: port.port, protocol: "TCP", backend: backendId });
      fronts.push(frontendId);
      ingressPorts.push({ port: port.port, protocol: port.protocol });
    });
    if (service.ports.length === 0) say("error", "NoPorts", "spec.ports", "the Service has no valid ports");
    else if (!service.ports.some((p) => p.protocol === "TCP" && p.nodePort !== undefined)) say("error", "NoServablePorts", "spec.ports", "no TCP port with a nodePort, so there is nothing to serve and no address is assigned");
    if (vip !== undefined) vipsOldestFirst.push(vip);
    drafts.push({ service, ...(vip === undefined ? {} : { vip }), planDiagnostics: diag, ports: ingressPorts, frontends: fronts, proxy: options.proxyProtocol });
  }

  const vrrpPlan = planVrrp(vipsOldestFirst, config.lbNodes, config.vrrp, vrrp);
  const unplaced = new Set(vrrpPlan.unplaced);

  const planned: Diagnostic[] = [];
  const servicePlans: ServicePlan[] = drafts.map((d) => {
    const vipUnplaced = d.vip !== undefined && unplaced.has(d.vip);
    if (vipUnplaced) {
      d.planDiagnostics.push({
        severity: "error",
        reason: "VridExhausted",
        object: { kind: "Service", namespace: d.service.namespace, name: d.service.name },
        message: `${describeRef({ kind: "Service", namespace: d.service.namespace, name: d.service.name })}: no VRRP router id left in ${config.vrrp.vridFirst}-${config.vrrp.vridLast} for VIP ${d.vip}`,
      });
    }
    planned.push(...d.planDiagnostics);
    const sorted = sortDiagnostics([...(ingestProblems.get(d.service.key) ?? []), ...d.planDiagnostics]);
    const hasError = sorted.some((x) => x.severity === "error");
    const served = d.frontends.length;
    const state: ServicePlan["state"] = served === 0 || vipUnplaced ? "failed" : hasError || served < d.ports.length ? "partial" : "ready";
    const ipMode = d.proxy === "none" ? "VIP" : "Proxy";
    const published = state !== "failed" && d.vip !== undefined;
    return {
      key: d.service.key,
      state,
      vips: d.vip === undefined ? [] : [d.vip],
      ipMode,
      proxyProtocol: d.proxy,
      frontends: state === "failed" ? [] : [...d.frontends].sort(),
      status: {
        loadBalancer: { ingress: published ? [{ ip: d.vip!, ipMode, ports: d.ports }] : [] },
        conditions: conditionsFor(state, sorted, d.service.generation),
      },
      diagnostics: sorted,
    };
  });

  // Failed services hold no frontends in the data plane.
  const failed = new Set(servicePlans.filter((s) => s.state === "failed").map((s) => s.key));
  const liveFrontends = frontends.filter((f) => !failed.has(f.service)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const liveBackends = backends.filter((b) => !failed.has(b.service)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  return {
    services: servicePlans.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    frontends: liveFrontends,
    backends: liveBackends.map((b) => ({ ...b, servers: [...b.servers].sort((x, y) => (x.node < y.node ? -1 : x.node > y.node ? 1 : 0)) })),
    vrrpInstances: vrrpPlan.instances,
    lbNodes: config.lbNodes,
    diagnostics: sortDiagnostics([...snapshot.diagnostics, ...planned]),
    settings: { haproxy: config.haproxy, keepalived: config.keepalived, vrrp: config.vrrp, healthCheck: config.healthCheck },
  };
};

const healthCheckFor = (service: Service, config: Config): HealthCheck | undefined => {
  const timing = { intervalMs: config.healthCheck.intervalMs, rise: config.healthCheck.rise, fall: config.healthCheck.fall };
  return match(service.externalTrafficPolicy)
    .with("Local", (): HealthCheck | undefined =>
      service.healthCheckNodePort === undefined
        ? undefined
        : { kind: "http", source: "healthCheckNodePort", path: "/healthz", port: service.healthCheckNodePort, expectStatus: 200, ...timing },
    )
    .with("Cluster", (): HealthCheck => ({ kind: "http", source: "kubeProxy", path: "/healthz", port: config.healthCheck.kubeProxyPort, expectStatus: 200, ...timing }))
    .exhaustive();
};

/** A Service can be served when it has a health check and at least one TCP port with a nodePort. */
const isServable = (service: Service): boolean =>
  (service.externalTrafficPolicy === "Cluster" || service.healthCheckNodePort !== undefined) &&
  service.ports.some((p) => p.protocol === "TCP" && p.nodePort !== undefined);

const groupByService = (diagnostics: readonly Diagnostic[]): Map<string, Diagnostic[]> => {
  const out = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    if (d.object.kind !== "Service" || d.object.namespace === undefined || d.object.name === undefined) continue;
    const key = `${d.object.namespace}/${d.object.name}`;
    out.set(key, [...(out.get(key) ?? []), d]);
  }
  return out;
};

const conditionsFor = (state: ServicePlan["state"], diagnostics: readonly Diagnostic[], generation: number): Condition[] => {
  const errors = diagnostics.filter((d) => d.severity === "error");
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  const ready: Condition = match(state)
    .with("ready", () => ({ type: READY_CONDITION, status: "True", reason: "Ready", message: "every port is served", observedGeneration: generation }) as const)
    .with("partial", () => ({ type: READY_CONDITION, status: "True", reason: "PartiallyServed", message: summary([...errors, ...warnings]), observedGeneration: generation }) as const)
    .with("failed", () => ({ type: READY_CONDITION, status: "False", reason: errors[0]?.reason ?? "NotServed", message: summary(errors.length > 0 ? errors : warnings), observedGeneration: generation }) as const)
    .exhaustive();
  const degraded: Condition =
    warnings.length === 0
      ? { type: DEGRADED_CONDITION, status: "False", reason: "NoWarnings", message: "no warnings", observedGeneration: generation }
      : { type: DEGRADED_CONDITION, status: "True", reason: warnings[0]!.reason, message: summary(warnings), observedGeneration: generation };
  return [ready, degraded];
};

// Condition messages are capped by the API at 32768 bytes; keep them readable well below that.
const summary = (list: readonly Diagnostic[]): string => {
  const text = list.map((d) => d.message).join("; ") || "not served";
  return text.length > 4000 ? `${text.slice(0, 3999)}…` : text;
};
