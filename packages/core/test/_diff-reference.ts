// diffPlans as it was before its fast paths (identity, one walk per server list): the reference
// the property tests hold the fast version to, for any pair of plans.
import type { Ip, ServiceKey } from "../src/model.js";
import type { Backend, CheckBackend, Frontend, Plan, Server, VrrpInstance } from "../src/plan/types.js";
import { serverSlotCount } from "../src/slots.js";

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

const byKey = <T>(items: readonly T[], key: (t: T) => string): Map<string, T> => new Map(items.map((i) => [key(i), i]));
const sorted = <T>(items: Iterable<T>): T[] => [...items].sort();

// A backend's settings apart from its servers: changing any of them needs a reload.
const backendSettings = (b: Backend): string => JSON.stringify({ ...b, servers: undefined });
const frontendShape = (f: Frontend): string => JSON.stringify(f);
const checkSettings = (c: CheckBackend): string => JSON.stringify({ ...c, servers: undefined });

// Every backend keeps its servers in slots (see serverSlotCount): a change within them goes
// through the runtime API, outgrowing them changes the file's shape. The running file is taken to
// hold as many slots as a fresh render of the running plan (what `portico render` writes); apply
// decides from the installed file itself.
const overflows = (before: readonly Server[], after: readonly Server[]): boolean =>
  after.length > serverSlotCount(before.length);

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
 * Compare the plan that is running with the one to apply. Server membership, address, port and
 * weight changes go through the runtime API, for Cluster-policy backends and their shared
 * kube-proxy checks too (they share slot numbers); new or removed frontends and backends, changed
 * backend settings, or servers outgrowing their slots need a reload; VRRP changes need
 * keepalived's reload. Pure and deterministic.
 */
export const referenceDiffPlans = (before: Plan, after: Plan): PlanDiff => {
  const keys = sorted(new Set([...before.services.map((s) => s.key), ...after.services.map((s) => s.key)]));
  const sBefore = byKey(before.services, (s) => s.key);
  const sAfter = byKey(after.services, (s) => s.key);
  const feBefore = byKey(before.frontends, (f) => f.id);
  const feAfter = byKey(after.frontends, (f) => f.id);
  const beBefore = byKey(before.backends, (b) => b.id);
  const beAfter = byKey(after.backends, (b) => b.id);
  const vipsInstances = (p: Plan): Map<string, VrrpInstance> =>
    new Map(p.vrrpInstances.flatMap((i) => i.vips.map((v) => [v as string, i] as const)));
  const vrrpBefore = vipsInstances(before);
  const vrrpAfter = vipsInstances(after);
  // Frontends and backends by Service, once (a big plan has thousands of each).
  const groupBy = <T extends { readonly service: string }>(items: readonly T[]): Map<string, T[]> => {
    const out = new Map<string, T[]>();
    for (const i of items) {
      const list = out.get(i.service);
      if (list === undefined) out.set(i.service, [i]);
      else list.push(i);
    }
    return out;
  };
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
    if (a === undefined || b === undefined || checkSettings(a) !== checkSettings(b) || overflows(a.servers, b.servers))
      reshapedChecks.add(id);
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
    const frontends = {
      added: sorted(
        fB
          .filter(
            (f) =>
              feBefore.get(f.id) !== f &&
              (feBefore.get(f.id) === undefined || frontendShape(feBefore.get(f.id)!) !== frontendShape(f)),
          )
          .map((f) => f.id as string),
      ),
      removed: sorted(
        fA
          .filter(
            (f) =>
              feAfter.get(f.id) !== f &&
              (feAfter.get(f.id) === undefined || frontendShape(feAfter.get(f.id)!) !== frontendShape(f)),
          )
          .map((f) => f.id as string),
      ),
    };
    const backends = {
      added: sorted(bB.filter((x) => !beBefore.has(x.id)).map((x) => x.id as string)),
      removed: sorted(bA.filter((x) => !beAfter.has(x.id)).map((x) => x.id as string)),
      changed: sorted(
        bB
          .filter(
            (x) =>
              beBefore.has(x.id) &&
              beBefore.get(x.id) !== x &&
              backendSettings(beBefore.get(x.id)!) !== backendSettings(x),
          )
          .map((x) => x.id as string),
      ),
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
      if (
        x.healthCheck.kind === "track" ? reshapedChecks.has(x.healthCheck.backend) : overflows(old.servers, x.servers)
      )
        slotsOutgrown = true;
    }
    const vrrpMoved = [...vipsA, ...vipsB].some(
      (v) =>
        vrrpBefore.get(v) !== vrrpAfter.get(v) &&
        JSON.stringify(vrrpBefore.get(v)) !== JSON.stringify(vrrpAfter.get(v)),
    );
    const needsReload =
      slotsOutgrown ||
      frontends.added.length +
        frontends.removed.length +
        backends.added.length +
        backends.removed.length +
        backends.changed.length >
        0;
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
    if (
      !needsReload &&
      servers.length === 0 &&
      !vrrpMoved &&
      !status &&
      vips.added.length + vips.released.length === 0 &&
      a !== undefined &&
      b !== undefined
    ) {
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
