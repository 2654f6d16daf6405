import type { CheckBackend, Plan } from "../plan/types.js";
import { sameJson } from "../same.js";
import { changedServices } from "./_changedServices.js";
import { byKey, sorted } from "./_lists.js";
import { overflows, serverChanges } from "./_serverChanges.js";
import { everyService } from "./_serviceDiff.js";
import type { PlanDiff, ServerChange, VrrpChange } from "./types.js";

// A check backend's settings apart from its servers: changing any of them reshapes its slots.
const sameCheckSettings = (a: CheckBackend, b: CheckBackend): boolean => sameJson(a, b, "servers");

/**
 * Compare the plan that is running with the one to apply. Server membership, address, port and
 * weight changes go through the runtime API, for Cluster-policy backends and their shared
 * kube-proxy checks too (they share slot numbers); new or removed frontends and backends, changed
 * backend settings, or servers outgrowing their slots need a reload; VRRP changes need
 * keepalived's reload. Pure and deterministic. Comparing an incremental plan with the one it came
 * from skips what the two share by identity (see changedServices and serverChanges).
 */
export const diffPlans = (before: Plan, after: Plan): PlanDiff => {
  // The shared check backends: their servers move through the runtime API like any slot, and every
  // Cluster-policy backend that tracks one follows its slots; a check backend that appears, goes,
  // changes settings or outgrows its slots reshapes every backend that tracks it.
  const chkBefore = byKey(before.checks ?? [], (c) => c.id as string);
  const chkAfter = byKey(after.checks ?? [], (c) => c.id as string);
  const reshapedChecks = new Set<string>();
  const checks: ServerChange[] = [];
  for (const id of sorted(new Set([...chkBefore.keys(), ...chkAfter.keys()]))) {
    const a = chkBefore.get(id);
    const b = chkAfter.get(id);
    if (a === b) continue;
    if (a === undefined || b === undefined || !sameCheckSettings(a, b) || overflows(a.servers, b.servers))
      reshapedChecks.add(id);
    checks.push(...serverChanges(id, a?.servers ?? [], b?.servers ?? []));
  }

  const s = changedServices(before, after, reshapedChecks) ?? everyService(before, after, reshapedChecks);
  let reload = s.reload;

  const vridsBefore = byKey(before.vrrpInstances, (i) => String(i.vrid));
  const vridsAfter = byKey(after.vrrpInstances, (i) => String(i.vrid));
  const vrrp: VrrpChange[] = [];
  for (const vrid of [...new Set([...vridsBefore.keys(), ...vridsAfter.keys()])].map(Number).sort((x, y) => x - y)) {
    const a = vridsBefore.get(String(vrid));
    const b = vridsAfter.get(String(vrid));
    if (a === b || sameJson(a, b)) continue;
    vrrp.push({
      vrid,
      change: a === undefined ? "added" : b === undefined ? "removed" : "changed",
      ...(a?.priorities[0] === undefined ? {} : { masterBefore: a.priorities[0].lbNode }),
      ...(b?.priorities[0] === undefined ? {} : { masterAfter: b.priorities[0].lbNode }),
    });
  }
  // Settings that shape the whole file (paths, timings) change only with a reload.
  if (before.settings !== after.settings && !sameJson(before.settings, after.settings)) reload = true;
  if (reshapedChecks.size > 0) reload = true;

  const services = s.diffs;
  return {
    services,
    vrrp,
    reload,
    checks,
    runtimeOps: reload ? 0 : s.runtimeOps + checks.length,
    summary: {
      added: services.filter((x) => x.change === "added").length,
      removed: services.filter((x) => x.change === "removed").length,
      changed: services.filter((x) => x.change === "changed").length,
      unchanged: s.unchanged,
    },
  };
};
