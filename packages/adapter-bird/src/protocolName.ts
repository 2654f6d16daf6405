import { ipFamily, ipToBigInt, type Ip } from "@portico/core";

/**
 * protocolName: the bird.conf protocol of a VIP (`vip4_<hex>`) or a peer (`peer6_<hex>`): the family and
 * the address in hex, so adding a VIP or a peer never renames, and so never restarts, another.
 */
export const protocolName = (prefix: "vip" | "peer", ip: Ip): string => {
  const family = ipFamily(ip);
  return `${prefix}${family}_${ipToBigInt(ip)
    .toString(16)
    .padStart(family === 4 ? 8 : 32, "0")}`;
};
