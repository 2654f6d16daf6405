import type { AddressRange, Pool } from "./settings.js";
import { bigIntToIp, compareIp, ipFamily, ipToBigInt, type Ip, type IpFamily } from "./ip.js";
import { matchesSelector } from "./labels.js";
import type { ServiceKey } from "./model.js";

/** What IPAM needs to know of a Service; callers pass them oldest first. */
export interface AddressRequest {
  readonly key: ServiceKey;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The families to allocate, primary first. */
  readonly families: readonly IpFamily[];
  /** Explicitly requested addresses (at most one per family); they win over status and allocation. */
  readonly requested: readonly Ip[];
  /** Only this pool (the `portico.dev/pool` annotation). */
  readonly pool?: string;
  /** Addresses the Service holds now (from its status); kept while valid. */
  readonly current: readonly Ip[];
  /** `portico.dev/allow-shared-ip`. */
  readonly sharingKey?: string;
  /** The Service's `port/protocol` pairs; two Services share an address only when these do not overlap. */
  readonly ports: readonly string[];
}

/** Why a family could not get an address; each is a reason code on the Service's conditions. */
export type AllocationFailure =
  | { readonly kind: "PoolNotFound"; readonly pool: string }
  | { readonly kind: "PoolNotAllowed"; readonly pool: string }
  | { readonly kind: "NoPoolForFamily" }
  | { readonly kind: "AddressNotInPool"; readonly ip: Ip }
  | { readonly kind: "AddressInUse"; readonly ip: Ip; readonly holder: ServiceKey }
  | { readonly kind: "PortsOverlap"; readonly ip: Ip; readonly holder: ServiceKey; readonly ports: readonly string[] }
  | { readonly kind: "AddressPoolExhausted"; readonly pools: readonly string[] };

/** The outcome for one family of one Service. */
export type FamilyAllocation =
  | {
      readonly kind: "allocated";
      readonly ip: Ip;
      readonly pool: string;
      readonly how: "requested" | "sticky" | "shared" | "new";
    }
  | { readonly kind: "failed"; readonly family: IpFamily; readonly failure: AllocationFailure };

/** Per Service, one outcome per family, in the order of the request's families. */
export type Allocation = readonly FamilyAllocation[];

/** How {@link allocate} treats sharing keys. */
export interface AllocateOptions {
  /** A sharing key joins Services of different namespaces too (config `shareAcrossNamespaces`); default false. */
  readonly shareAcrossNamespaces?: boolean;
}

interface Holder {
  readonly key: ServiceKey;
  readonly namespace: string;
  readonly sharingKey?: string;
  readonly ports: ReadonlySet<string>;
}

/** The pools a Service may draw from (namespace allow-list and service selector), in config order. */
export const poolsFor = (req: Pick<AddressRequest, "namespace" | "labels">, pools: readonly Pool[]): Pool[] =>
  pools.filter(
    (p) =>
      (p.namespaces === undefined || p.namespaces.includes(req.namespace)) &&
      (p.serviceSelector === undefined || matchesSelector(p.serviceSelector, req.labels)),
  );

/**
 * Give each Service one address per family.
 *
 * Claims first: the addresses in the Services' status (oldest first, each while it is still in a
 * pool the Service may use), then explicitly requested addresses (oldest first; one must be in
 * such a pool, else the family fails with a reason; never a silently different address). A
 * claim on an address another Service already holds fails (`AddressInUse`) unless both carry the
 * same sharing key, in one namespace unless `shareAcrossNamespaces`, and their ports do not
 * overlap; for status addresses the younger Service then simply gets a new one.
 * Then the rest, oldest first: a Service with a sharing key joins the lowest address already
 * shared under that key where its ports fit; otherwise it gets the lowest free address, pools in
 * config order, skipping `autoAssign: false` pools unless it named the pool. The result depends
 * only on the requests' order and the pools, never on the order of the input objects.
 */
export const allocate = (
  requests: readonly AddressRequest[],
  pools: readonly Pool[],
  options: AllocateOptions = {},
): Map<ServiceKey, Allocation> => {
  const holders = new Map<Ip, Holder[]>();
  const chosen = new Map<ServiceKey, Map<IpFamily, FamilyAllocation>>();
  const set = (req: AddressRequest, a: FamilyAllocation, family: IpFamily): void => {
    const m = chosen.get(req.key) ?? new Map<IpFamily, FamilyAllocation>();
    m.set(family, a);
    chosen.set(req.key, m);
    if (a.kind === "allocated") {
      const list = holders.get(a.ip) ?? [];
      list.push({
        key: req.key,
        namespace: req.namespace,
        ...(req.sharingKey === undefined ? {} : { sharingKey: req.sharingKey }),
        ports: new Set(req.ports),
      });
      holders.set(a.ip, list);
    }
  };
  const conflict = (ip: Ip, req: AddressRequest): AllocationFailure | undefined => {
    for (const h of holders.get(ip) ?? []) {
      if (h.key === req.key) continue;
      const sameScope = options.shareAcrossNamespaces === true || h.namespace === req.namespace;
      if (req.sharingKey === undefined || h.sharingKey !== req.sharingKey || !sameScope)
        return { kind: "AddressInUse", ip, holder: h.key };
      const overlap = req.ports.filter((p) => h.ports.has(p));
      if (overlap.length > 0) return { kind: "PortsOverlap", ip, holder: h.key, ports: [...overlap].sort() };
    }
    return undefined;
  };

  // The pools each request may use, or why none.
  const usable = new Map<ServiceKey, { pools: Pool[]; failure?: AllocationFailure }>();
  for (const req of requests) {
    const allowed = poolsFor(req, pools);
    if (req.pool !== undefined) {
      if (!pools.some((p) => p.name === req.pool))
        usable.set(req.key, { pools: [], failure: { kind: "PoolNotFound", pool: req.pool } });
      else if (!allowed.some((p) => p.name === req.pool))
        usable.set(req.key, { pools: [], failure: { kind: "PoolNotAllowed", pool: req.pool } });
      else usable.set(req.key, { pools: allowed.filter((p) => p.name === req.pool) });
    } else usable.set(req.key, { pools: allowed });
  }

  // Live addresses first, oldest first: an address in a Service's status stays that Service's
  // while it is in a pool the Service may use, so no request of another Service can take it
  // (its clients would reach the requester's backends). A Service's own request wins over its status.
  for (const req of requests) {
    const { pools: mine, failure } = usable.get(req.key)!;
    for (const family of req.families) {
      if (failure !== undefined) {
        set(req, { kind: "failed", family, failure }, family);
        continue;
      }
      if (req.requested.some((ip) => ipFamily(ip) === family)) continue;
      for (const ip of req.current) {
        if (ipFamily(ip) !== family) continue;
        const pool = poolOf(ip, mine);
        if (pool === undefined || conflict(ip, req) !== undefined) continue;
        set(req, { kind: "allocated", ip, pool, how: "sticky" }, family);
        break;
      }
    }
  }
  // Then explicit requests, oldest first: never a silently different address.
  for (const req of requests) {
    const { pools: mine } = usable.get(req.key)!;
    for (const family of req.families) {
      if (chosen.get(req.key)?.has(family) === true) continue;
      const wanted = req.requested.find((ip) => ipFamily(ip) === family);
      if (wanted === undefined) continue;
      const pool = poolOf(wanted, mine);
      const clash = conflict(wanted, req);
      if (pool === undefined)
        set(req, { kind: "failed", family, failure: { kind: "AddressNotInPool", ip: wanted } }, family);
      else if (clash !== undefined) set(req, { kind: "failed", family, failure: clash }, family);
      else set(req, { kind: "allocated", ip: wanted, pool, how: "requested" }, family);
    }
  }

  // One cursor per range: addresses are only ever taken, never freed, during a run, so a cursor
  // never needs to move back and finding the next free address costs O(taken) over the run.
  const cursors = pools.map((p) => p.ranges.map((r) => r.first));
  const next = (family: IpFamily, allowed: readonly Pool[], named: boolean): { ip: Ip; pool: string } | undefined => {
    for (let pi = 0; pi < pools.length; pi++) {
      const pool = pools[pi]!;
      if (!allowed.includes(pool) || (!pool.autoAssign && !named)) continue;
      for (let ri = 0; ri < pool.ranges.length; ri++) {
        const range = pool.ranges[ri]!;
        if (range.family !== family) continue;
        let c = cursors[pi]![ri]!;
        while (c <= range.last && holders.has(bigIntToIp(c, family))) c++;
        cursors[pi]![ri] = c;
        if (c <= range.last) return { ip: bigIntToIp(c, family), pool: pool.name };
      }
    }
    return undefined;
  };

  for (const req of requests) {
    const { pools: mine } = usable.get(req.key)!;
    for (const family of req.families) {
      if (chosen.get(req.key)?.has(family) === true) continue;
      if (req.sharingKey !== undefined) {
        const shared = [...holders.keys()]
          .filter(
            (ip) =>
              ipFamily(ip) === family &&
              poolOf(ip, mine) !== undefined &&
              (holders.get(ip) ?? []).every((h) => h.sharingKey === req.sharingKey) &&
              conflict(ip, req) === undefined,
          )
          .sort(compareIp)[0];
        if (shared !== undefined) {
          set(req, { kind: "allocated", ip: shared, pool: poolOf(shared, mine)!, how: "shared" }, family);
          continue;
        }
      }
      const found = next(family, mine, req.pool !== undefined);
      if (found !== undefined) set(req, { kind: "allocated", ip: found.ip, pool: found.pool, how: "new" }, family);
      else {
        const ofFamily = mine
          .filter((p) => (p.autoAssign || req.pool !== undefined) && p.ranges.some((r) => r.family === family))
          .map((p) => p.name);
        set(
          req,
          {
            kind: "failed",
            family,
            failure:
              ofFamily.length === 0 ? { kind: "NoPoolForFamily" } : { kind: "AddressPoolExhausted", pools: ofFamily },
          },
          family,
        );
      }
    }
  }

  const result = new Map<ServiceKey, Allocation>();
  for (const req of requests) {
    const m = chosen.get(req.key);
    result.set(
      req.key,
      req.families.map((f) => m?.get(f) ?? { kind: "failed", family: f, failure: { kind: "NoPoolForFamily" } }),
    );
  }
  return result;
};

/** Whether any pool the Service may use has addresses of a family (autoAssign or named). */
export const familyAvailable = (family: IpFamily, allowed: readonly Pool[], named: boolean): boolean =>
  allowed.some((p) => (p.autoAssign || named) && p.ranges.some((r) => r.family === family));

/** The pool that holds an address, if any. */
export const poolOf = (ip: Ip, pools: readonly Pool[]): string | undefined => {
  const v = ipToBigInt(ip);
  const family = ipFamily(ip);
  return pools.find((p) => p.ranges.some((r: AddressRange) => r.family === family && r.first <= v && v <= r.last))
    ?.name;
};

/** A failure as a sentence for the Service's condition (the Service's name is added by the caller). */
export const describeFailure = (f: AllocationFailure, family: IpFamily): string => {
  switch (f.kind) {
    case "PoolNotFound":
      return `annotation portico.dev/pool names pool "${f.pool}", which the config does not have`;
    case "PoolNotAllowed":
      return `pool ${f.pool} does not allow this Service (its namespaces or serviceSelector exclude it)`;
    case "NoPoolForFamily":
      return `no pool this Service may use has IPv${family} addresses`;
    case "AddressNotInPool":
      return `requested address ${f.ip} is not in a pool this Service may use`;
    case "AddressInUse":
      return (
        `requested address ${f.ip} is in use by ${f.holder} ` +
        "(it serves it now or is older, and the two share no portico.dev/allow-shared-ip key in one namespace)"
      );
    case "PortsOverlap":
      return `address ${f.ip} is shared with ${f.holder}, which already uses ${f.ports.join(", ")}`;
    case "AddressPoolExhausted":
      return `no free IPv${family} address left in pool(s) ${f.pools.join(", ")}`;
  }
};
