import type { AddressRange, Pool } from "./config.js";
import { bigIntToIp, ipFamily, ipToBigInt, type Ip, type IpFamily } from "./ip.js";
import type { ServiceKey } from "./model.js";

/** What IPAM needs to know of a Service; callers pass them oldest first. */
export interface AddressRequest {
  readonly key: ServiceKey;
  readonly family: IpFamily;
  /** Addresses the Service holds now (from its status); kept while valid. */
  readonly current: readonly Ip[];
}

/** The outcome for one Service. */
export type Allocation =
  | { readonly kind: "allocated"; readonly ip: Ip; readonly pool: string; readonly sticky: boolean }
  | { readonly kind: "exhausted"; readonly family: IpFamily; readonly pools: readonly string[] };

/**
 * Give each Service one address of its family from the pools.
 *
 * Sticky first: a Service keeps an address from its status while that address is in a pool and
 * no older Service holds it (requests come oldest first, so conflicts go to the older Service).
 * Then the rest, oldest first, get the lowest free address, pools in config order. The result
 * depends only on the requests' order and the pools, never on the order of the input objects.
 */
export const allocate = (requests: readonly AddressRequest[], pools: readonly Pool[]): Map<ServiceKey, Allocation> => {
  const taken = new Set<Ip>();
  const result = new Map<ServiceKey, Allocation>();

  for (const req of requests) {
    for (const ip of req.current) {
      if (ipFamily(ip) !== req.family || taken.has(ip)) continue;
      const pool = poolOf(ip, pools);
      if (pool === undefined) continue;
      taken.add(ip);
      result.set(req.key, { kind: "allocated", ip, pool, sticky: true });
      break;
    }
  }

  // One cursor per range: addresses are handed out in increasing order, so a cursor never needs
  // to move back, and finding the next free address costs O(taken) over the whole run.
  const cursors = pools.map((p) => p.ranges.map((r) => r.first));
  const next = (family: IpFamily): { ip: Ip; pool: string } | undefined => {
    for (let pi = 0; pi < pools.length; pi++) {
      const pool = pools[pi]!;
      for (let ri = 0; ri < pool.ranges.length; ri++) {
        const range = pool.ranges[ri]!;
        if (range.family !== family) continue;
        let c = cursors[pi]![ri]!;
        while (c <= range.last && taken.has(bigIntToIp(c, family))) c++;
        cursors[pi]![ri] = c;
        if (c <= range.last) return { ip: bigIntToIp(c, family), pool: pool.name };
      }
    }
    return undefined;
  };

  for (const req of requests) {
    if (result.has(req.key)) continue;
    const found = next(req.family);
    if (found === undefined) {
      result.set(req.key, { kind: "exhausted", family: req.family, pools: pools.filter((p) => p.ranges.some((r) => r.family === req.family)).map((p) => p.name) });
      continue;
    }
    taken.add(found.ip);
    result.set(req.key, { kind: "allocated", ip: found.ip, pool: found.pool, sticky: false });
  }
  return result;
};

/** The pool that holds an address, if any. */
export const poolOf = (ip: Ip, pools: readonly Pool[]): string | undefined => {
  const v = ipToBigInt(ip);
  const family = ipFamily(ip);
  return pools.find((p) => p.ranges.some((r: AddressRange) => r.family === family && r.first <= v && v <= r.last))?.name;
};
