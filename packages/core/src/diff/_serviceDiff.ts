import type { Ip, ServiceKey } from "../model.js";
import type { Backend, Frontend, Plan, ServicePlan, VrrpInstance } from "../plan/types.js";
import { sameJson } from "../same.js";
import { byKey, groupBy, sorted, vipsInstances } from "./_lists.js";
import { overflows, serverChanges } from "./_serverChanges.js";
import type { ChangePath, ServerChange, ServiceDiff } from "./types.js";

// A backend's settings apart from its servers: changing any of them needs a reload.
const sameBackendSettings = (a: Backend, b: Backend): boolean => sameJson(a, b, "servers");
const sameFrontend = (a: Frontend, b: Frontend): boolean => sameJson(a, b);

/** Where one Service's frontends, backends and VRRP instances are looked up, before and after. */
export interface Lookups {
  readonly feBefore: ReadonlyMap<string, Frontend>;
  readonly feAfter: ReadonlyMap<string, Frontend>;
  readonly beBefore: ReadonlyMap<string, Backend>;
  readonly beAfter: ReadonlyMap<string, Backend>;
  readonly feByServiceBefore: ReadonlyMap<string, readonly Frontend[]>;
  readonly feByServiceAfter: ReadonlyMap<string, readonly Frontend[]>;
  readonly beByServiceBefore: ReadonlyMap<string, readonly Backend[]>;
  readonly beByServiceAfter: ReadonlyMap<string, readonly Backend[]>;
  readonly vrrpBefore: ReadonlyMap<string, VrrpInstance>;
  readonly vrrpAfter: ReadonlyMap<string, VrrpInstance>;
  readonly reshapedChecks: ReadonlySet<string>;
}

const NONE: readonly never[] = [];

// The ids of the items to keep, sorted as `sorted` sorts.
const idsWhere = <T extends { readonly id: string }>(items: readonly T[], keep: (t: T) => boolean): string[] => {
  const out: string[] = [];
  for (const x of items) if (keep(x)) out.push(x.id);
  return out.length > 1 ? out.sort() : out;
};

// One Service's changes; undefined when it has none.
export const serviceDiff = (
  key: ServiceKey,
  a: ServicePlan | undefined,
  b: ServicePlan | undefined,
  l: Lookups,
): { readonly diff: ServiceDiff; readonly reload: boolean } | undefined => {
  const fA = l.feByServiceBefore.get(key) ?? NONE;
  const fB = l.feByServiceAfter.get(key) ?? NONE;
  const bA = l.beByServiceBefore.get(key) ?? NONE;
  const bB = l.beByServiceAfter.get(key) ?? NONE;
  const frontends = {
    added: idsWhere(fB, (f) => {
      const o = l.feBefore.get(f.id);
      return o !== f && (o === undefined || !sameFrontend(o, f));
    }),
    removed: idsWhere(fA, (f) => {
      const n = l.feAfter.get(f.id);
      return n !== f && (n === undefined || !sameFrontend(n, f));
    }),
  };
  const backends = {
    added: idsWhere(bB, (x) => !l.beBefore.has(x.id)),
    removed: idsWhere(bA, (x) => !l.beAfter.has(x.id)),
    changed: idsWhere(bB, (x) => {
      const o = l.beBefore.get(x.id);
      return o !== undefined && o !== x && !sameBackendSettings(o, x);
    }),
  };
  const servers: ServerChange[] = [];
  let slotsOutgrown = false;
  for (const x of bB) {
    const old = l.beBefore.get(x.id);
    // The same object (an incremental plan keeps unchanged backends) has the same servers.
    if (old === undefined || old === x) continue;
    const changes = serverChanges(x.id, old.servers, x.servers);
    for (const c of changes) servers.push(c);
    if (changes.length === 0) continue;
    // A Cluster-policy backend has exactly the slots of the check backend it tracks.
    const tracking = x.healthCheck.kind === "track" ? x.healthCheck.backend : undefined;
    const outgrown = tracking === undefined ? overflows(old.servers, x.servers) : l.reshapedChecks.has(tracking);
    if (outgrown) slotsOutgrown = true;
  }
  const vipsBefore = a?.vips ?? NONE;
  const vipsAfter = b?.vips ?? NONE;
  let vrrpMoved = false;
  // Two empty lookups (the VRRP instances are the same objects) move nothing.
  if (l.vrrpBefore !== l.vrrpAfter) {
    for (const v of [...vipsBefore, ...vipsAfter]) {
      const i = l.vrrpBefore.get(v);
      const j = l.vrrpAfter.get(v);
      if (i !== j && !sameJson(i, j)) vrrpMoved = true;
    }
  }
  const frontendsChanged = frontends.added.length + frontends.removed.length > 0;
  const backendsChanged = backends.added.length + backends.removed.length + backends.changed.length > 0;
  const needsReload = slotsOutgrown || frontendsChanged || backendsChanged;
  const paths: ChangePath[] = [];
  if (needsReload) paths.push("reload");
  else if (servers.length > 0) paths.push("runtime");
  if (vrrpMoved) paths.push("keepalived");
  const status = a !== b && (!sameJson(a?.status, b?.status) || a?.state !== b?.state);
  let vips: ServiceDiff["vips"];
  if (vipsBefore === vipsAfter) {
    // The same list: every VIP is kept.
    const kept = vipsAfter.length > 1 ? sorted(new Set(vipsAfter)) : [...vipsAfter];
    vips = { added: [], kept, released: [] };
  } else {
    const vipsA = new Set<Ip>(vipsBefore);
    const vipsB = new Set<Ip>(vipsAfter);
    vips = {
      added: sorted([...vipsB].filter((v) => !vipsA.has(v))),
      kept: sorted([...vipsB].filter((v) => vipsA.has(v))),
      released: sorted([...vipsA].filter((v) => !vipsB.has(v))),
    };
  }
  const vipsMoved = vips.added.length + vips.released.length > 0;
  const changed = needsReload || servers.length > 0 || vrrpMoved || status || vipsMoved;
  if (!changed && a !== undefined && b !== undefined) return undefined;
  return {
    diff: {
      key,
      change: a === undefined ? "added" : b === undefined ? "removed" : "changed",
      vips,
      frontends,
      backends,
      servers,
      status,
      paths,
    },
    reload: needsReload,
  };
};

/** The Services' changes: the diffs of those that changed, and counts over all. */
export interface ServicesDiff {
  readonly diffs: ServiceDiff[];
  readonly reload: boolean;
  readonly runtimeOps: number;
  readonly unchanged: number;
}

// The Services' changes, comparing every Service (any pair of plans).
export const everyService = (before: Plan, after: Plan, reshapedChecks: ReadonlySet<string>): ServicesDiff => {
  const keys = sorted(new Set([...before.services.map((s) => s.key), ...after.services.map((s) => s.key)]));
  const sBefore = byKey(before.services, (s) => s.key);
  const sAfter = byKey(after.services, (s) => s.key);
  const l: Lookups = {
    feBefore: byKey(before.frontends, (f) => f.id),
    feAfter: byKey(after.frontends, (f) => f.id),
    beBefore: byKey(before.backends, (b) => b.id),
    beAfter: byKey(after.backends, (b) => b.id),
    // Frontends and backends by Service, once (a big plan has thousands of each).
    feByServiceBefore: groupBy(before.frontends),
    feByServiceAfter: groupBy(after.frontends),
    beByServiceBefore: groupBy(before.backends),
    beByServiceAfter: groupBy(after.backends),
    vrrpBefore: vipsInstances(before),
    vrrpAfter: vipsInstances(after),
    reshapedChecks,
  };
  return collect(keys, (key) => serviceDiff(key, sBefore.get(key), sAfter.get(key), l), 0);
};

// The diffs of `keys` (those that changed) and the counts over them.
export const collect = (
  keys: readonly ServiceKey[],
  diff: (key: ServiceKey, index: number) => { readonly diff: ServiceDiff; readonly reload: boolean } | undefined,
  unchangedElsewhere: number,
): ServicesDiff => {
  const diffs: ServiceDiff[] = [];
  let unchanged = unchangedElsewhere;
  let reload = false;
  let runtimeOps = 0;
  for (const [i, key] of keys.entries()) {
    const d = diff(key, i);
    if (d === undefined) {
      unchanged++;
      continue;
    }
    if (d.reload) reload = true;
    else runtimeOps += d.diff.servers.length;
    diffs.push(d.diff);
  }
  return { diffs, reload, runtimeOps, unchanged };
};
