import type { Announce } from "../bgp.js";
import { compareIp, ipFamily, ipToBigInt, type Ip, type IpFamily } from "../ip.js";
import type { LbNodeName } from "../model.js";
import type { Config, Pool } from "../settings.js";

/**
 * BgpAnnouncement: one VIP of a pool with `announce: bgp` and the LB nodes that announce it:
 * every LB node, not one master. A drained node is left out when `bgp.drain` is `withdraw`, and
 * listed in `gracefulShutdown` when it is `prepend` (it announces with its AS prepended and the
 * graceful-shutdown community until it stops). Each LB node announces only while it can serve
 * the VIP; that is decided on the node, not in the plan.
 */
export interface BgpAnnouncement {
  readonly vip: Ip;
  readonly family: IpFamily;
  /** The pool the VIP is from. */
  readonly pool: string;
  /** Sorted by name. */
  readonly lbNodes: readonly LbNodeName[];
  /** The draining ones of `lbNodes`, sorted. */
  readonly gracefulShutdown: readonly LbNodeName[];
}

/** The pool whose ranges hold an address (pools never overlap). */
const poolOf = (ip: Ip, pools: readonly Pool[]): Pool | undefined => {
  const family = ipFamily(ip);
  const n = ipToBigInt(ip);
  return pools.find((p) => p.ranges.some((r) => r.family === family && r.first <= n && n <= r.last));
};

/** How an address is announced: its pool's `announce`, `vrrp` when absent or outside every pool. */
export const announceOf = (ip: Ip, pools: readonly Pool[]): Announce => poolOf(ip, pools)?.announce ?? "vrrp";

/** splitByAnnounce: the VIPs that VRRP places and the ones BGP announces, each in the order given. */
export const splitByAnnounce = (
  vips: readonly Ip[],
  pools: readonly Pool[],
): { readonly vrrp: readonly Ip[]; readonly bgp: readonly Ip[] } => {
  if (!pools.some((p) => p.announce === "bgp")) return { vrrp: vips, bgp: [] };
  const vrrp: Ip[] = [];
  const bgp: Ip[] = [];
  for (const ip of vips) (announceOf(ip, pools) === "bgp" ? bgp : vrrp).push(ip);
  return { vrrp, bgp };
};

/** planAnnouncements: who announces each BGP VIP, sorted by address; empty without a `bgp` section. */
export const planAnnouncements = (vips: readonly Ip[], config: Config): BgpAnnouncement[] => {
  if (config.bgp === undefined || vips.length === 0) return [];
  const prepend = config.bgp.drain === "prepend";
  const nodes = [...config.lbNodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lbNodes = nodes.filter((n) => n.drain !== true || prepend).map((n) => n.name);
  const gracefulShutdown = prepend ? nodes.filter((n) => n.drain === true).map((n) => n.name) : [];
  return [...vips].sort(compareIp).map((vip) => ({
    vip,
    family: ipFamily(vip),
    pool: poolOf(vip, config.pools)?.name ?? "",
    lbNodes,
    gracefulShutdown,
  }));
};
