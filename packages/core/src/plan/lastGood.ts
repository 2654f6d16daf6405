import { ANNOTATIONS, type ServiceOptions } from "../annotations.js";
import type { Config } from "../settings.js";
import { poolOf } from "../ipam.js";
import type { Ip, Service } from "../model.js";

/** LAST_GOOD_KEPT: the reason of the error that says a live Service keeps its load balancer. */
export const LAST_GOOD_KEPT = "LastGoodLoadBalancerKept";

/** What a live Service with an invalid address request keeps, and the field at fault. */
export interface LastGood {
  readonly addresses: readonly Ip[];
  readonly field: string;
  readonly why: string;
}

/**
 * The addresses a live Service keeps while its address request is invalid: those of its own
 * status that lie in our pools (what it was served on); `undefined` when it is not live or its
 * request is fine. `invalid` says which request options failed to parse; a pool or an address the
 * config does not have counts as invalid too. As the service controller keeps the existing load
 * balancer on an error and retries.
 */
export const lastGood = (
  service: Service,
  options: ServiceOptions,
  requested: readonly Ip[],
  invalid: { readonly pool: boolean; readonly ips: boolean; readonly spec: boolean },
  config: Config,
): LastGood | undefined => {
  const addresses = service.statusIps.filter((ip) => poolOf(ip, config.pools) !== undefined);
  if (addresses.length === 0) return undefined;
  const outside = requested.filter((ip) => poolOf(ip, config.pools) === undefined);
  const annotation = (key: string): string => `metadata.annotations[${key}]`;
  if (invalid.ips) return { addresses, field: annotation(ANNOTATIONS.loadBalancerIps.key), why: "is invalid" };
  if (invalid.pool) return { addresses, field: annotation(ANNOTATIONS.pool.key), why: "is invalid" };
  if (invalid.spec) return { addresses, field: "spec.loadBalancerIP", why: "is invalid" };
  if (options.pool !== undefined && !config.pools.some((p) => p.name === options.pool))
    return { addresses, field: annotation(ANNOTATIONS.pool.key), why: `names no configured pool (${options.pool})` };
  if (outside.length > 0) {
    const field =
      options.loadBalancerIps.length > 0 ? annotation(ANNOTATIONS.loadBalancerIps.key) : "spec.loadBalancerIP";
    return { addresses, field, why: `asks for ${outside.join(", ")}, in no configured pool` };
  }
  return undefined;
};
