import type { ServiceKey } from "../model.js";
import { READY_CONDITION } from "./status.js";
import type { Condition, Frontend, Ingress, Plan, ServicePlan } from "./types.js";

/** InstalledFrontend: one frontend as an LB node's running HAProxy serves it. */
export type InstalledFrontend = Pick<Frontend, "id" | "service" | "vip" | "port">;

/** InstalledState: what one LB node serves now, and why its last apply failed, when it did. */
export interface InstalledState {
  /** The frontends the running HAProxy serves; `undefined` while not known (no apply confirmed yet). */
  readonly frontends: readonly InstalledFrontend[] | undefined;
  /** `false` while no HAProxy worker runs: nothing is served, whatever is installed. Default true. */
  readonly running?: boolean;
  /** The last apply's error, when it failed. */
  readonly applyError?: string;
}

/** APPLY_FAILED: the Ready condition's reason for a Service whose planned frontends the last apply did not install. */
export const APPLY_FAILED = "ApplyFailed";

/** InstalledStatus: a plan's Service status restated as what is installed. */
export interface InstalledStatus {
  /** The plan's Services; one whose frontends a failed apply did not install is `failed` with {@link APPLY_FAILED}. */
  readonly services: readonly ServicePlan[];
  /** Services not installed yet though nothing failed (their status waits), by key. */
  readonly pending: readonly ServiceKey[];
  /**
   * Whether a Service's status and finalizer are to be left as they are: it is pending, or it left
   * the plan while its frontends still serve, or nothing is known of what is installed.
   */
  readonly holds: (key: string) => boolean;
  /** How many of the plan's Services are not (fully) installed. */
  readonly behind: number;
}

// An ApplyFailed message names at most this many frontends; the rest are counted.
const NAMED_FRONTENDS = 3;

/**
 * statusAsInstalled: restate `plan`'s Service status by what `installed` serves, so status never
 * says more than the LB node runs. A Service whose planned frontends all serve keeps its status;
 * one with a frontend missing after a failed apply becomes `failed` with Ready=False
 * {@link APPLY_FAILED} naming the missing frontends, and its ingress keeps only the addresses and
 * ports that do serve; one missing a frontend with no failure (HAProxy not running yet) is held.
 * A Service that left the plan is held while the installed config still has its frontends, so
 * its finalizer comes off only once they are gone.
 */
export const statusAsInstalled = (plan: Plan, installed: InstalledState): InstalledStatus => {
  const known = installed.frontends;
  const serving = new Map((known ?? []).map((f) => [f.id, f]));
  const servingServices = new Set((known ?? []).map((f) => f.service as string));
  const planned = new Map<string, Frontend[]>();
  for (const f of plan.frontends) planned.set(f.service, [...(planned.get(f.service) ?? []), f]);
  const isServed = (f: Frontend): boolean => {
    if (installed.running === false) return false;
    const s = serving.get(f.id);
    return s !== undefined && s.service === f.service && s.vip === f.vip && s.port === f.port;
  };
  const pending: ServiceKey[] = [];
  let behind = 0;
  const services = plan.services.map((sp) => {
    const missing = (planned.get(sp.key) ?? []).filter((f) => !isServed(f));
    if (missing.length === 0) return sp;
    behind++;
    if (installed.applyError === undefined || known === undefined) {
      pending.push(sp.key);
      return sp;
    }
    return applyFailed(sp, missing, installed.applyError, isServed, planned.get(sp.key) ?? []);
  });
  const pendingSet = new Set<string>(pending);
  const planKeys = new Set<string>(plan.services.map((s) => s.key));
  const holds = (key: string): boolean =>
    known === undefined || pendingSet.has(key) || (!planKeys.has(key) && servingServices.has(key));
  return { services, pending, holds, behind };
};

const applyFailed = (
  sp: ServicePlan,
  missing: readonly Frontend[],
  error: string,
  isServed: (f: Frontend) => boolean,
  frontends: readonly Frontend[],
): ServicePlan => {
  const served = frontends.filter(isServed);
  const ingress: Ingress[] = sp.status.loadBalancer.ingress.flatMap((i) => {
    const ports = i.ports.filter(
      (p) => p.error !== undefined || served.some((f) => f.vip === i.ip && f.port === p.port),
    );
    return ports.some((p) => p.error === undefined) ? [{ ...i, ports }] : [];
  });
  const names = missing.slice(0, NAMED_FRONTENDS).map((f) => `${f.vip}:${f.port}`);
  const more = missing.length > NAMED_FRONTENDS ? ` and ${missing.length - NAMED_FRONTENDS} more` : "";
  const generation = sp.status.conditions.find((c) => c.type === READY_CONDITION)?.observedGeneration ?? 0;
  const ready: Condition = {
    type: READY_CONDITION,
    status: "False",
    reason: APPLY_FAILED,
    message: `Service ${sp.key}: not installed on this LB node (${names.join(", ")}${more}): ${capped(error)}`,
    observedGeneration: generation,
  };
  const conditions = [ready, ...sp.status.conditions.filter((c) => c.type !== READY_CONDITION)];
  return { ...sp, state: "failed", status: { loadBalancer: { ingress }, conditions } };
};

// Apply errors can carry HAProxy's output; a condition message stays readable well below the API's cap.
const capped = (text: string): string => (text.length > 1000 ? `${text.slice(0, 999)}…` : text);
