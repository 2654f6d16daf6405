import type { Ip, Port } from "../model.js";
import { READY_CONDITION, withPortsCondition } from "./status.js";
import type { Condition, Frontend, Plan, ServicePlan } from "./types.js";

/** TakenPort: a port an LB node cannot give a frontend, on one address or (no `address`) on all. */
export interface TakenPort {
  readonly port: Port;
  readonly address?: Ip;
  /** Who has it, for the condition: `reservedPorts`, `a listener on 0.0.0.0:22` ... */
  readonly owner: string;
}

/** PORT_IN_USE: the reason, and the ingress port error, for a Service port that an LB node already uses. */
export const PORT_IN_USE = "PortInUse";

/**
 * withoutTakenPorts: `plan` without the frontends on ports the LB node already uses, and with each
 * Service that had one saying so: `partial` while it keeps another frontend, `failed` when none
 * is left, its ingress port marked {@link PORT_IN_USE} and its Ready condition naming the port and
 * its owner. Every other Service is untouched, so one taken port never stops another's reload.
 * The plan itself when nothing is taken.
 */
export const withoutTakenPorts = (plan: Plan, taken: readonly TakenPort[]): Plan => {
  if (taken.length === 0) return plan;
  const takenBy = (f: Frontend): TakenPort | undefined =>
    taken.find((t) => t.port === f.port && (t.address === undefined || t.address === f.vip));
  const refused = new Map<string, { frontend: Frontend; by: TakenPort }[]>();
  for (const f of plan.frontends) {
    const by = takenBy(f);
    if (by !== undefined) refused.set(f.service, [...(refused.get(f.service) ?? []), { frontend: f, by }]);
  }
  if (refused.size === 0) return plan;
  const frontends = plan.frontends.filter((f) => takenBy(f) === undefined);
  const usedBackends = new Set(frontends.map((f) => f.backend));
  const refusedBackends = new Set([...refused.values()].flat().map((r) => r.frontend.backend));
  return {
    ...plan,
    frontends,
    backends: plan.backends.filter((b) => !refusedBackends.has(b.id) || usedBackends.has(b.id)),
    services: plan.services.map((sp) => {
      const mine = refused.get(sp.key);
      return mine === undefined ? sp : refuse(sp, mine);
    }),
  };
};

const refuse = (sp: ServicePlan, refused: readonly { frontend: Frontend; by: TakenPort }[]): ServicePlan => {
  const ids = new Set<string>(refused.map((r) => r.frontend.id));
  const left = sp.frontends.filter((id) => !ids.has(id));
  const state: ServicePlan["state"] = left.length === 0 ? "failed" : "partial";
  const isRefused = (ip: Ip, port: Port): boolean =>
    refused.some((r) => r.frontend.vip === ip && r.frontend.port === port);
  const ingress = sp.status.loadBalancer.ingress.map((i) => ({
    ...i,
    ports: i.ports.map((p) =>
      p.protocol === "TCP" && p.error === undefined && isRefused(i.ip, p.port)
        ? { ...p, error: `portico.dev/${PORT_IN_USE}` }
        : p,
    ),
  }));
  const named = [...new Set(refused.map((r) => `${r.frontend.vip}:${r.frontend.port} (${r.by.owner})`))].sort();
  const before = sp.status.conditions.find((c) => c.type === READY_CONDITION);
  const ready: Condition = {
    type: READY_CONDITION,
    status: state === "failed" ? "False" : "True",
    reason: PORT_IN_USE,
    message: `Service ${sp.key}: port already in use on the LB node: ${named.join(", ")}`,
    observedGeneration: before?.observedGeneration ?? 0,
  };
  const published = state === "failed" ? [] : ingress;
  const conditions = [ready, ...sp.status.conditions.filter((c) => c.type !== READY_CONDITION)];
  return {
    ...sp,
    state,
    frontends: left,
    status: {
      loadBalancer: { ingress: published },
      conditions: withPortsCondition(conditions, published, ready.observedGeneration),
    },
  };
};
