import type { Config } from "../settings.js";
import { cidrContains, ipFamily, ipToBigInt, type Ip } from "../ip.js";
import { poolOf } from "../ipam.js";
import type { Say } from "./services.js";

// Address blocks that are never a backend: [family, first, last, what they are].
const SPECIAL: readonly (readonly [4 | 6, bigint, bigint, string])[] = [
  [4, 0x00000000n, 0x00ffffffn, "unspecified (0.0.0.0/8)"],
  [4, 0x7f000000n, 0x7fffffffn, "loopback"],
  [4, 0xa9fe0000n, 0xa9feffffn, "link-local"],
  [4, 0xe0000000n, 0xffffffffn, "multicast or reserved (224.0.0.0/3)"],
  [6, 0n, 0n, "unspecified"],
  [6, 1n, 1n, "loopback"],
  [6, 0xffffn << 32n, (0xffffn << 32n) | 0xffffffffn, "IPv4-mapped"],
  [6, 0xfe80n << 112n, (0xfebfn << 112n) | ((1n << 112n) - 1n), "link-local"],
  [6, 0xff00n << 112n, (1n << 128n) - 1n, "multicast"],
];

/**
 * Why an address may not be a backend server, or undefined when it may: an LB node's own address,
 * an address of a pool (a VIP), loopback, link-local, unspecified or multicast; with `pod`, also
 * one outside the configured `podCidrs`. Such an endpoint would make the LB node send a tenant's
 * traffic to itself, to another Service or to a host-local service (the CVE-2021-25740 class).
 */
export const backendRefusal = (ip: Ip, config: Config, pod: boolean): string | undefined => {
  const family = ipFamily(ip);
  const v = ipToBigInt(ip);
  const special = SPECIAL.find(([f, first, last]) => f === family && first <= v && v <= last);
  if (special !== undefined) return special[3];
  if (config.lbNodes.some((n) => n.address === ip)) return "an LB node's address";
  const pool = poolOf(ip, config.pools);
  if (pool !== undefined) return `an address of pool ${pool}`;
  const allowed = config.podCidrs ?? [];
  if (pod && allowed.length > 0 && !allowed.some((c) => cidrContains(c, ip))) return "outside podCidrs";
  return undefined;
};

/**
 * A pod-address filter for one Service: `refuse` answers {@link backendRefusal} and remembers
 * what it refused; `report` says so once, naming the first few.
 */
export const podRefuser = (config: Config): { refuse: (ip: Ip) => boolean; report: (say: Say) => void } => {
  const refused = new Map<Ip, string>();
  return {
    refuse: (ip) => {
      const why = backendRefusal(ip, config, true);
      if (why !== undefined) refused.set(ip, why);
      return why !== undefined;
    },
    report: (say) => {
      if (refused.size === 0) return;
      const shown = [...refused].slice(0, 3).map(([ip, why]) => `${ip} (${why})`);
      const more = refused.size > 3 ? ", …" : "";
      say(
        "warning",
        "EndpointRefused",
        undefined,
        `${refused.size} endpoint address(es) are never served: ${shown.join(", ")}${more}`,
      );
    },
  };
};
