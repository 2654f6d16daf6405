import type { Ip, ServiceKey } from "./model.js";
import type { Backend, CheckBackend, Frontend, Plan, Server, ServicePlan, VrrpInstance } from "./plan/types.js";
import { sameJson } from "./same.js";
import { Ordered, spanOf, type Span } from "./_span.js";
import { serverSlotCount } from "./slots.js";

/** How a change reaches the data plane: HAProxy's runtime API, a reload, or keepalived's SIGHUP. */
export type ChangePath = "runtime" | "reload" | "keepalived";

/** One server that differs between two plans. */
export interface ServerChange {
  readonly backend: string;
  readonly node: string;
  readonly change: "added" | "removed" | "changed";
  /** For `changed`: the fields that differ (address, port, weight). */
  readonly fields: readonly string[];
}

/** What changes for one Service. */
export interface ServiceDiff {
  readonly key: ServiceKey;
  readonly change: "added" | "removed" | "changed";
  readonly vips: { readonly added: readonly Ip[]; readonly kept: readonly Ip[]; readonly released: readonly Ip[] };
  readonly frontends: { readonly added: readonly string[]; readonly removed: readonly string[] };
  readonly backends: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly changed: readonly string[];
  };
  readonly servers: readonly ServerChange[];
  /** The state or conditions to publish changed. */
  readonly status: boolean;
  /** The paths this Service's changes take. */
  readonly paths: readonly ChangePath[];
}

/** VRRP instances that appear, go, or change (VIPs or priorities). */
export interface VrrpChange {
  readonly vrid: number;
  readonly change: "added" | "removed" | "changed";
  /** The master before and after (absent when the instance did not exist). */
  readonly masterBefore?: string;
  readonly masterAfter?: string;
}

/** Everything that differs between two plans, grouped by Service. */
export interface PlanDiff {
  readonly services: readonly ServiceDiff[];
  readonly vrrp: readonly VrrpChange[];
  /**
   * Servers of the shared kube-proxy check backends that differ (a node joining, leaving or
   * changing address): runtime-API changes of the same slot in the check backend and in every
   * Cluster-policy backend, unless `reload` (the check backend appeared, went or outgrew its slots).
   */
  readonly checks: readonly ServerChange[];
  /** Whether HAProxy must reload (anything beyond servers changed). */
  readonly reload: boolean;
  /** Server changes the runtime API can make (Services' servers and the shared check servers). */
  readonly runtimeOps: number;
  readonly summary: {
    readonly added: number;
    readonly removed: number;
    readonly changed: number;
    readonly unchanged: number;
  };
}

const byKey = <T>(items: readonly T[], key: (t: T) => string): Map<string, T> => {
  const out = new Map<string, T>();
  for (const i of items) out.set(key(i), i);
  return out;
};
const sorted = <T>(items: Iterable<T>): T[] => [...items].sort();

// A backend's settings apart from its servers: changing any of them needs a reload.
const sameBackendSettings = (a: Backend, b: Backend): boolean => sameJson(a, b, "servers");
const sameFrontend = (a: Frontend, b: Frontend): boolean => sameJson(a, b);
const sameCheckSettings = (a: CheckBackend, b: CheckBackend): boolean => sameJson(a, b, "servers");

// Every backend keeps its servers in slots (see serverSlotCount): a change within them goes
// through the runtime API, outgrowing them changes the file's shape. The running file is taken to
// hold as many slots as a fresh render of the running plan (what `portico render` writes); apply
// decides from the installed file itself.
const overflows = (before: readonly Server[], after: readonly Server[]): boolean =>
  after.length > serverSlotCount(before.length);

// Server changes between two server lists, by node: for each node of either list, its last server
// in each, in node order.
const serverChangesByNode = (backend: string, before: readonly Server[], after: readonly Server[]): ServerChange[] => {
  const out: ServerChange[] = [];
  const oldServers = byKey(before, (s: Server) => s.node);
  const newServers = byKey(after, (s: Server) => s.node);
  for (const node of sorted(new Set([...oldServers.keys(), ...newServers.keys()]))) {
    const change = serverChange(backend, node, oldServers.get(node), newServers.get(node));
    if (change !== undefined) out.push(change);
  }
  return out;
};

const serverChange = (
  backend: string,
  node: string,
  o: Server | undefined,
  n: Server | undefined,
): ServerChange | undefined => {
  if (o === undefined) return { backend, node, change: "added", fields: [] };
  if (n === undefined) return { backend, node, change: "removed", fields: [] };
  const fields = (["address", "port", "weight"] as const).filter((f) => o[f] !== n[f]);
  return fields.length > 0 ? { backend, node, change: "changed", fields } : undefined;
};

// What the planner guarantees, checked (see Ordered): node-targeted server lists hold one server
// per node in node order; Services, frontends and backends are sorted by key and id.
const serversByNode = new Ordered<Server>((s) => s.node);
const servicesByKey = new Ordered<ServicePlan>((s) => s.key);
const frontendsById = new Ordered<Frontend>((f) => f.id);
const backendsById = new Ordered<Backend>((b) => b.id);

/**
 * Server changes between two server lists, by node (see serverChangesByNode). When both lists
 * hold one server per node in node order, the servers they share at either end (by identity)
 * cannot have changed, and only what lies between is compared by node, in one walk: a node
 * leaving costs one identity check per server and one comparison by node per backend, instead of
 * two maps and a sort. Otherwise (pod backends with two endpoints on one node, hand-built lists),
 * every node is compared.
 */
const serverChanges = (backend: string, before: readonly Server[], after: readonly Server[]): ServerChange[] => {
  if (before === after) return [];
  const span = spanOf(before, after);
  if (!serversByNode.both(before, after, span)) return serverChangesByNode(backend, before, after);
  const out: ServerChange[] = [];
  let i = span.start;
  let j = span.start;
  while (i < span.endBefore || j < span.endAfter) {
    const o = i < span.endBefore ? before[i] : undefined;
    const n = j < span.endAfter ? after[j] : undefined;
    let change: ServerChange | undefined;
    if (o !== undefined && (n === undefined || o.node < n.node)) {
      change = serverChange(backend, o.node, o, undefined);
      i++;
    } else if (n !== undefined && (o === undefined || n.node < o.node)) {
      change = serverChange(backend, n.node, undefined, n);
      j++;
    } else {
      change = serverChange(backend, o!.node, o, n);
      i++;
      j++;
    }
    if (change !== undefined) out.push(change);
  }
  return out;
};

const groupBy = <T extends { readonly service: string }>(items: readonly T[]): Map<string, T[]> => {
  const out = new Map<string, T[]>();
  for (const i of items) {
    const list = out.get(i.service);
    if (list === undefined) out.set(i.service, [i]);
    else list.push(i);
  }
  return out;
};

/** The items of two lists that are not the very same objects under the same id, by id and by Service. */
interface Differing<T> {
  readonly before: Map<string, T>;
  readonly after: Map<string, T>;
  readonly byServiceBefore: Map<string, T[]>;
  readonly byServiceAfter: Map<string, T[]>;
}

// Both lists are in strictly ascending id order: a walk pairs their middles by id and keeps what
// differs (an item kept as is sits in both plans under its id and changes nothing).
const differing = <T extends { readonly id: string; readonly service: string }>(
  before: readonly T[],
  after: readonly T[],
  span: Span,
): Differing<T> => {
  const out: Differing<T> = {
    before: new Map(),
    after: new Map(),
    byServiceBefore: new Map(),
    byServiceAfter: new Map(),
  };
  const add = (byId: Map<string, T>, byService: Map<string, T[]>, x: T): void => {
    byId.set(x.id, x);
    const list = byService.get(x.service);
    if (list === undefined) byService.set(x.service, [x]);
    else list.push(x);
  };
  let i = span.start;
  let j = span.start;
  while (i < span.endBefore || j < span.endAfter) {
    const o = i < span.endBefore ? before[i] : undefined;
    const n = j < span.endAfter ? after[j] : undefined;
    if (o === n) {
      // The same object at both places (so under the same id): nothing to compare.
      i++;
      j++;
    } else if (o !== undefined && (n === undefined || o.id < n.id)) {
      add(out.before, out.byServiceBefore, o);
      i++;
    } else if (n !== undefined && (o === undefined || n.id < o.id)) {
      add(out.after, out.byServiceAfter, n);
      j++;
    } else {
      add(out.before, out.byServiceBefore, o!);
      add(out.after, out.byServiceAfter, n!);
      i++;
      j++;
    }
  }
  return out;
};

const vipsInstances = (p: Plan): Map<string, VrrpInstance> => {
  const out = new Map<string, VrrpInstance>();
  for (const i of p.vrrpInstances) for (const v of i.vips) out.set(v, i);
  return out;
};

/** Where one Service's frontends, backends and VRRP instances are looked up, before and after. */
interface Lookups {
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
const serviceDiff = (
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
    if (
      x.healthCheck.kind === "track" ? l.reshapedChecks.has(x.healthCheck.backend) : overflows(old.servers, x.servers)
    )
      slotsOutgrown = true;
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
  const needsReload =
    slotsOutgrown ||
    frontends.added.length +
      frontends.removed.length +
      backends.added.length +
      backends.removed.length +
      backends.changed.length >
      0;
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
  if (
    !needsReload &&
    servers.length === 0 &&
    !vrrpMoved &&
    !status &&
    vips.added.length + vips.released.length === 0 &&
    a !== undefined &&
    b !== undefined
  )
    return undefined;
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

// The Services' changes, comparing every Service (any pair of plans).
const everyService = (
  before: Plan,
  after: Plan,
  reshapedChecks: ReadonlySet<string>,
): {
  readonly diffs: ServiceDiff[];
  readonly reload: boolean;
  readonly runtimeOps: number;
  readonly unchanged: number;
} => {
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

const collect = (
  keys: readonly ServiceKey[],
  diff: (key: ServiceKey, index: number) => { readonly diff: ServiceDiff; readonly reload: boolean } | undefined,
  unchangedElsewhere: number,
): {
  readonly diffs: ServiceDiff[];
  readonly reload: boolean;
  readonly runtimeOps: number;
  readonly unchanged: number;
} => {
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

// The Services of a list in strictly ascending key order that have these keys (sorted, each
// once): a binary search each for a few keys, one walk along the list for many.
const pick = (items: readonly ServicePlan[], keys: readonly ServiceKey[]): (ServicePlan | undefined)[] => {
  if (keys.length * 16 < items.length) return keys.map((key) => find(items, key));
  const out: (ServicePlan | undefined)[] = [];
  let i = 0;
  for (const key of keys) {
    while (i < items.length && items[i]!.key < key) i++;
    out.push(i < items.length && items[i]!.key === key ? items[i] : undefined);
  }
  return out;
};

const find = (items: readonly ServicePlan[], key: ServiceKey): ServicePlan | undefined => {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = items[mid]!.key;
    if (k === key) return items[mid];
    if (k < key) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
};

/**
 * The Services' changes, comparing only what differs by identity: when the Services, frontends and
 * backends of both plans are in key order (each key once, as the planner makes them), the items
 * they share at either end are the same objects under the same keys and cannot have changed, so
 * a Service none of whose items lie between them (and whose VRRP instances are the same) is
 * unchanged, and a Service that has some is compared on those alone. The answer is
 * `everyService`'s; undefined when the plans are not in order.
 */
const changedServices = (
  before: Plan,
  after: Plan,
  reshapedChecks: ReadonlySet<string>,
): ReturnType<typeof everyService> | undefined => {
  const sv = spanOf(before.services, after.services);
  if (!servicesByKey.both(before.services, after.services, sv)) return undefined;
  const fe = spanOf(before.frontends, after.frontends);
  if (!frontendsById.both(before.frontends, after.frontends, fe)) return undefined;
  const be = spanOf(before.backends, after.backends);
  if (!backendsById.both(before.backends, after.backends, be)) return undefined;

  // Only the VRRP instances that are not the very same objects can move a VIP.
  const sameVrrp =
    before.vrrpInstances.length === after.vrrpInstances.length &&
    before.vrrpInstances.every((i, k) => i === after.vrrpInstances[k]);
  const EMPTY = new Map<string, VrrpInstance>();
  const f = differing(before.frontends, after.frontends, fe);
  const b = differing(before.backends, after.backends, be);
  const l: Lookups = {
    feBefore: f.before,
    feAfter: f.after,
    beBefore: b.before,
    beAfter: b.after,
    feByServiceBefore: f.byServiceBefore,
    feByServiceAfter: f.byServiceAfter,
    beByServiceBefore: b.byServiceBefore,
    beByServiceAfter: b.byServiceAfter,
    vrrpBefore: sameVrrp ? EMPTY : vipsInstances(before),
    vrrpAfter: sameVrrp ? EMPTY : vipsInstances(after),
    reshapedChecks,
  };

  // Every key once: the shared ends hold the same keys, the middles are in order.
  const middleKeys = new Set<ServiceKey>();
  for (let k = sv.start; k < sv.endBefore; k++) middleKeys.add(before.services[k]!.key);
  for (let k = sv.start; k < sv.endAfter; k++) middleKeys.add(after.services[k]!.key);
  const keyCount = sv.start + (before.services.length - sv.endBefore) + middleKeys.size;
  // The Services that may have changed: those between the shared ends, those with a frontend or
  // backend between them, and those with a VIP in a VRRP instance that is not the same object.
  const touched = new Set<string>(middleKeys);
  for (const m of [l.feByServiceBefore, l.feByServiceAfter, l.beByServiceBefore, l.beByServiceAfter])
    for (const key of m.keys()) if (typeof key === "string") touched.add(key);
  if (!sameVrrp) {
    for (const s of [...before.services, ...after.services])
      if (s.vips.some((v) => l.vrrpBefore.get(v) !== l.vrrpAfter.get(v))) touched.add(s.key);
  }
  const candidates = sorted(touched) as ServiceKey[];
  const as = pick(before.services, candidates);
  const bs = pick(after.services, candidates);
  // A frontend or backend of a Service in neither plan is no Service's change.
  const keys: ServiceKey[] = [];
  const pairs: [ServicePlan | undefined, ServicePlan | undefined][] = [];
  for (const [i, key] of candidates.entries()) {
    if (as[i] === undefined && bs[i] === undefined) continue;
    keys.push(key);
    pairs.push([as[i], bs[i]]);
  }
  return collect(keys, (key, i) => serviceDiff(key, pairs[i]![0], pairs[i]![1], l), keyCount - keys.length);
};

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
