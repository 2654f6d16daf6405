import type { Ip } from "../model.js";
import type { Backend, CheckBackend, Frontend, Plan, Server } from "../plan/types.js";
import { byKey, groupBy, sorted, vipsInstances } from "./_lists.js";
import { overflows } from "./_serverChanges.js";
import type { ChangePath, PlanDiff, ServerChange, ServiceDiff, VrrpChange } from "./types.js";

// A backend's settings apart from its servers: changing any of them needs a reload.
const backendSettings = (b: Backend): string => JSON.stringify({ ...b, servers: undefined });
const frontendShape = (f: Frontend): string => JSON.stringify(f);
const checkSettings = (c: CheckBackend): string => JSON.stringify({ ...c, servers: undefined });
const ids = (items: readonly { readonly id: string }[]): string[] => sorted(items.map((x) => x.id));

// Server changes between two server lists, by node.
const serverChanges = (backend: string, before: readonly Server[], after: readonly Server[]): ServerChange[] => {
  const out: ServerChange[] = [];
  const oldServers = byKey(before, (s: Server) => s.node);
  const newServers = byKey(after, (s: Server) => s.node);
  for (const node of sorted(new Set([...oldServers.keys(), ...newServers.keys()]))) {
    const o = oldServers.get(node);
    const n = newServers.get(node);
    if (o === undefined) out.push({ backend, node, change: "added", fields: [] });
    else if (n === undefined) out.push({ backend, node, change: "removed", fields: [] });
    else {
      const fields = (["address", "port", "weight"] as const).filter((f) => o[f] !== n[f]);
      if (fields.length > 0) out.push({ backend, node, change: "changed", fields });
    }
  }
  return out;
};

/**
 * {@link diffPlans} as its spec: every list of both plans read in full, by key, settings compared
 * as JSON prints them. `diffPlans` gives the same answer for any two plans (`describeIncremental`
 * holds it to that) while skipping what the two share by identity.
 */
export const diffPlansInFull = (before: Plan, after: Plan): PlanDiff => {
  const keys = sorted(new Set([...before.services.map((s) => s.key), ...after.services.map((s) => s.key)]));
  const sBefore = byKey(before.services, (s) => s.key);
  const sAfter = byKey(after.services, (s) => s.key);
  const feBefore = byKey(before.frontends, (f) => f.id);
  const feAfter = byKey(after.frontends, (f) => f.id);
  const beBefore = byKey(before.backends, (b) => b.id);
  const beAfter = byKey(after.backends, (b) => b.id);
  const vrrpBefore = vipsInstances(before);
  const vrrpAfter = vipsInstances(after);
  const feByServiceBefore = groupBy(before.frontends);
  const feByServiceAfter = groupBy(after.frontends);
  const beByServiceBefore = groupBy(before.backends);
  const beByServiceAfter = groupBy(after.backends);

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
    const reshaped = a === undefined || b === undefined || checkSettings(a) !== checkSettings(b);
    if (reshaped || overflows(a.servers, b.servers)) reshapedChecks.add(id);
    checks.push(...serverChanges(id, a?.servers ?? [], b?.servers ?? []));
  }

  const services: ServiceDiff[] = [];
  let unchanged = 0;
  let reload = false;
  let runtimeOps = 0;
  for (const key of keys) {
    const a = sBefore.get(key);
    const b = sAfter.get(key);
    const vipsA = new Set<Ip>(a?.vips ?? []);
    const vipsB = new Set<Ip>(b?.vips ?? []);
    const fA = feByServiceBefore.get(key) ?? [];
    const fB = feByServiceAfter.get(key) ?? [];
    const bA = beByServiceBefore.get(key) ?? [];
    const bB = beByServiceAfter.get(key) ?? [];
    // A frontend is added (or removed) when the other plan has none equal under its id.
    const unmatched = (other: ReadonlyMap<string, Frontend>) => (f: Frontend) => {
      const o = other.get(f.id);
      return o !== f && (o === undefined || frontendShape(o) !== frontendShape(f));
    };
    const resettled = (x: Backend): boolean => {
      const o = beBefore.get(x.id);
      return o !== undefined && o !== x && backendSettings(o) !== backendSettings(x);
    };
    const frontends = {
      added: ids(fB.filter(unmatched(feBefore))),
      removed: ids(fA.filter(unmatched(feAfter))),
    };
    const backends = {
      added: ids(bB.filter((x) => !beBefore.has(x.id))),
      removed: ids(bA.filter((x) => !beAfter.has(x.id))),
      changed: ids(bB.filter(resettled)),
    };
    const servers: ServerChange[] = [];
    let slotsOutgrown = false;
    for (const x of bB) {
      const old = beBefore.get(x.id);
      // The same object (an incremental plan keeps unchanged backends) has the same servers.
      if (old === undefined || old === x) continue;
      const changes = serverChanges(x.id, old.servers, x.servers);
      servers.push(...changes);
      if (changes.length === 0) continue;
      // A Cluster-policy backend has exactly the slots of the check backend it tracks.
      const tracking = x.healthCheck.kind === "track" ? x.healthCheck.backend : undefined;
      const outgrown = tracking === undefined ? overflows(old.servers, x.servers) : reshapedChecks.has(tracking);
      if (outgrown) slotsOutgrown = true;
    }
    const moved = (v: Ip): boolean => {
      const i = vrrpBefore.get(v);
      const j = vrrpAfter.get(v);
      return i !== j && JSON.stringify(i) !== JSON.stringify(j);
    };
    const vrrpMoved = [...vipsA, ...vipsB].some(moved);
    const reshaped = [frontends.added, frontends.removed, backends.added, backends.removed, backends.changed];
    const needsReload = slotsOutgrown || reshaped.some((list) => list.length > 0);
    const paths: ChangePath[] = [
      ...(needsReload ? (["reload"] as const) : []),
      ...(servers.length > 0 && !needsReload ? (["runtime"] as const) : []),
      ...(vrrpMoved ? (["keepalived"] as const) : []),
    ];
    const status = a !== b && (JSON.stringify(a?.status) !== JSON.stringify(b?.status) || a?.state !== b?.state);
    const vips = {
      added: sorted([...vipsB].filter((v) => !vipsA.has(v))),
      kept: sorted([...vipsB].filter((v) => vipsA.has(v))),
      released: sorted([...vipsA].filter((v) => !vipsB.has(v))),
    };
    const vipsMoved = vips.added.length + vips.released.length > 0;
    const changed = needsReload || servers.length > 0 || vrrpMoved || status || vipsMoved;
    if (!changed && a !== undefined && b !== undefined) {
      unchanged++;
      continue;
    }
    if (needsReload) reload = true;
    else runtimeOps += servers.length;
    services.push({
      key,
      change: a === undefined ? "added" : b === undefined ? "removed" : "changed",
      vips,
      frontends,
      backends,
      servers,
      status,
      paths,
    });
  }

  const vridsBefore = byKey(before.vrrpInstances, (i) => String(i.vrid));
  const vridsAfter = byKey(after.vrrpInstances, (i) => String(i.vrid));
  const vrrp: VrrpChange[] = [];
  for (const vrid of [...new Set([...vridsBefore.keys(), ...vridsAfter.keys()])].map(Number).sort((x, y) => x - y)) {
    const a = vridsBefore.get(String(vrid));
    const b = vridsAfter.get(String(vrid));
    if (a === b || JSON.stringify(a) === JSON.stringify(b)) continue;
    vrrp.push({
      vrid,
      change: a === undefined ? "added" : b === undefined ? "removed" : "changed",
      ...(a?.priorities[0] === undefined ? {} : { masterBefore: a.priorities[0].lbNode }),
      ...(b?.priorities[0] === undefined ? {} : { masterAfter: b.priorities[0].lbNode }),
    });
  }
  // Settings that shape the whole file (paths, timings) change only with a reload.
  if (before.settings !== after.settings && JSON.stringify(before.settings) !== JSON.stringify(after.settings))
    reload = true;
  if (reshapedChecks.size > 0) reload = true;

  return {
    services,
    vrrp,
    reload,
    checks,
    runtimeOps: reload ? 0 : runtimeOps + checks.length,
    summary: {
      added: services.filter((s) => s.change === "added").length,
      removed: services.filter((s) => s.change === "removed").length,
      changed: services.filter((s) => s.change === "changed").length,
      unchanged,
    },
  };
};
