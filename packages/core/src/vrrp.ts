import type { LbNode, VrrpConfig } from "./config.js";
import { hash53 } from "./hash.js";
import { compareIp, ipFamily, type Ip } from "./ip.js";
import { ident } from "./_ident.js";
import type { LbNodeName, Vrid } from "./model.js";
import type { VrrpInstance, VrrpPriority } from "./plan.js";

/**
 * The LB nodes in priority order for one VIP, by rendezvous (highest-random-weight) hashing:
 * each node scores hash(vip, node) and the highest score masters the VIP. A node joining or
 * leaving changes the order only for the VIPs it wins or held, so few VIPs move.
 */
export const rendezvousOrder = (vip: Ip, lbNodes: readonly LbNode[]): LbNodeName[] =>
  lbNodes
    .map((n) => ({ name: n.name, score: hash53(`${vip}\u0000${n.name}`) }))
    .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((n) => n.name);

/**
 * VRRP priority of the node at `rank` (0 = master) among `count` nodes: distinct, descending,
 * within 1-254 (255 is reserved for an address owner).
 */
export const priorityOf = (rank: number, count: number): number => {
  const step = Math.max(1, Math.min(50, Math.floor(240 / Math.max(1, count))));
  return Math.max(1, 250 - rank * step);
};

/** The VRRP part of a plan, and the VIPs no VRID could be found for. */
export interface VrrpPlan {
  readonly instances: readonly VrrpInstance[];
  readonly unplaced: readonly Ip[];
}

/**
 * Put VIPs (oldest Service first) into VRRP instances with unique VRIDs in the configured range.
 * While VRIDs last, each VIP has its own instance, so each fails over on its own; beyond that,
 * VIPs with the same priority order share an instance. A VIP's preferred VRID comes from a hash
 * of the VIP itself, so it does not depend on which other VIPs exist unless they collide.
 */
export const planVrrp = (vips: readonly Ip[], lbNodes: readonly LbNode[], config: VrrpConfig): VrrpPlan => {
  const size = config.vridLast - config.vridFirst + 1;
  const groups = new Map<string, { order: LbNodeName[]; vips: Ip[] }>();
  const perVip = vips.length <= size;
  for (const vip of vips) {
    const order = rendezvousOrder(vip, lbNodes);
    const key = perVip ? vip : `${ipFamily(vip)}\u0000${order.join("\u0000")}`;
    const g = groups.get(key);
    if (g) g.vips.push(vip);
    else groups.set(key, { order, vips: [vip] });
  }

  const used = new Set<number>();
  const instances: VrrpInstance[] = [];
  const unplaced: Ip[] = [];
  for (const [key, group] of groups) {
    if (used.size >= size) {
      unplaced.push(...group.vips);
      continue;
    }
    let offset = hash53(key) % size;
    while (used.has(offset)) offset = (offset + 1) % size;
    used.add(offset);
    const vrid = (config.vridFirst + offset) as Vrid;
    const priorities: VrrpPriority[] = group.order.map((lbNode, rank) => ({ lbNode, priority: priorityOf(rank, group.order.length) }));
    instances.push({
      id: ident("vrrp", vrid),
      vrid,
      family: ipFamily(group.vips[0]!),
      vips: [...group.vips].sort(compareIp),
      priorities,
    });
  }
  instances.sort((a, b) => a.vrid - b.vrid);
  return { instances, unplaced };
};
