import type { LbNode, VrrpConfig } from "./settings.js";
import { hash53 } from "./hash.js";
import { compareIp, ipFamily, type Ip } from "./ip.js";
import { ident } from "./_ident.js";
import type { LbNodeName, Vrid } from "./model.js";
import type { VrrpInstance, VrrpPriority } from "./plan/types.js";

/** An LB node's weight: how many VIPs it masters relative to the others (default 1). */
export const weightOf = (node: LbNode): number => node.weight ?? 1;

/** Whether an LB node is drained: it holds no masters and stays a backup. */
export const isDrained = (node: LbNode): boolean => node.drain === true;

// A hash as a number strictly between 0 and 1.
const unit = (text: string): number => (hash53(text) + 0.5) / 2 ** 53;

/**
 * The LB nodes in priority order for one VIP, by weighted rendezvous (highest-random-weight)
 * hashing: each node scores `weight / -ln(hash(vip, node))` and the highest score wins. A node
 * joining or leaving changes the order only for the VIPs it wins or held, so few VIPs move.
 * Drained nodes come after every other node (in their own rendezvous order).
 */
export const rendezvousOrder = (vip: Ip, lbNodes: readonly LbNode[]): LbNodeName[] =>
  lbNodes
    .map((n) => ({
      name: n.name,
      drained: isDrained(n),
      score: weightOf(n) / -Math.log(unit(`${vip}\u0000${n.name}`)),
    }))
    .sort(
      (a, b) =>
        Number(a.drained) - Number(b.drained) || b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    .map((n) => n.name);

/**
 * VRRP priority of the node at `rank` (0 = master) among `count` nodes: distinct, descending,
 * within 1-254 (255 is reserved for an address owner).
 */
export const priorityOf = (rank: number, count: number): number => {
  const step = Math.max(1, Math.min(50, Math.floor(240 / Math.max(1, count))));
  return Math.max(1, 250 - rank * step);
};

/**
 * What is running now, carried into the next plan so VRIDs and masters stay put: the VRID of
 * each instance, its VIPs and (when known) its master. Take it from the previous plan
 * ({@link vrrpStateOf}) or from the keepalived.conf that is installed (VRIDs and VIPs only).
 */
export interface VrrpState {
  /** The LB nodes the state was planned with; a node not listed here counts as newly joined. */
  readonly lbNodes: readonly LbNodeName[];
  readonly instances: readonly { readonly vrid: Vrid; readonly vips: readonly Ip[]; readonly master?: LbNodeName }[];
}

/** No state: the first plan. */
export const NO_VRRP_STATE: VrrpState = { lbNodes: [], instances: [] };

/** The state a plan leaves behind, to pass to the next plan. */
export const vrrpStateOf = (plan: {
  readonly vrrpInstances: readonly VrrpInstance[];
  readonly lbNodes: readonly LbNode[];
}): VrrpState => ({
  lbNodes: plan.lbNodes.map((n) => n.name),
  instances: plan.vrrpInstances.map((i) => ({
    vrid: i.vrid,
    vips: i.vips,
    ...(i.priorities[0] === undefined ? {} : { master: i.priorities[0].lbNode }),
  })),
});

/** The VRRP part of a plan, and the VIPs no VRID could be found for. */
export interface VrrpPlan {
  readonly instances: readonly VrrpInstance[];
  readonly unplaced: readonly Ip[];
}

/**
 * The most VIPs each node masters when every VIP has its own instance: ⌈V·w/W⌉ for active nodes,
 * 0 for drained ones.
 */
export const masterCapacity = (vipCount: number, lbNodes: readonly LbNode[]): Map<LbNodeName, number> => {
  const active = lbNodes.filter((n) => !isDrained(n));
  const total = active.reduce((s, n) => s + weightOf(n), 0);
  return new Map(
    lbNodes.map((n) => [n.name, isDrained(n) || total === 0 ? 0 : Math.ceil((vipCount * weightOf(n)) / total)]),
  );
};

// A master keeps its VIPs while it is at most this many above its share: otherwise every VIP
// that goes away (lowering every share) would push another VIP off its node.
const STICKY_SLACK = 1;

interface Unit {
  vrid: number;
  readonly family: 4 | 6;
  /** Oldest first; the first is the key VIP whose rendezvous order the instance follows. */
  readonly vips: Ip[];
  readonly previousMaster: LbNodeName | undefined;
}

/**
 * Put VIPs (oldest Service first) into VRRP instances with unique VRIDs in the configured range
 * and choose each instance's priority order.
 *
 * - VRIDs: a VIP found in `state` keeps its VRID while it exists (older VIPs win when two claim
 *   one). A new VIP gets a VRID probed from a hash of itself, so it does not depend on the other
 *   VIPs unless they collide. While the VIPs fit in the range each has its own instance; beyond
 *   that a new VIP joins an instance of its family with the same rendezvous order, and a VIP with
 *   neither is unplaced.
 * - Masters: every active node masters at most ⌈V·w/W⌉ VIPs (one more when `state` keeps it
 *   there). An instance keeps its master from `state` while that node is still active, is at most
 *   one above its share, and no newly joined node outranks it; otherwise it goes to the first node
 *   of its rendezvous order that has room. So a node leaving
 *   or draining moves only the VIPs it mastered, and a node joining takes about its share.
 * - Priorities: the master first, then the rest of the rendezvous order (drained nodes last).
 */
export const planVrrp = (
  vips: readonly Ip[],
  lbNodes: readonly LbNode[],
  config: VrrpConfig,
  state: VrrpState = NO_VRRP_STATE,
): VrrpPlan => {
  const size = config.vridLast - config.vridFirst + 1;
  const age = new Map<Ip, number>();
  for (const vip of vips) if (!age.has(vip)) age.set(vip, age.size);
  const byAge = (a: Ip, b: Ip): number => age.get(a)! - age.get(b)!;
  const orderOf = (vip: Ip): LbNodeName[] => rendezvousOrder(vip, lbNodes);
  const orderKey = (vip: Ip): string => `${ipFamily(vip)}\u0000${orderOf(vip).join("\u0000")}`;

  // 1. Instances carried over: current VIPs only, a VRID in range and not claimed by an older VIP.
  const units: Unit[] = [];
  const usedVrids = new Set<number>();
  const placed = new Set<Ip>();
  const carried = state.instances
    .map((inst) => ({ inst, live: inst.vips.filter((v) => age.has(v)).sort(byAge) }))
    .filter((c) => c.live.length > 0)
    .sort((a, b) => byAge(a.live[0]!, b.live[0]!) || a.inst.vrid - b.inst.vrid);
  for (const { inst, live } of carried) {
    if (inst.vrid < config.vridFirst || inst.vrid > config.vridLast || usedVrids.has(inst.vrid)) continue;
    const family = ipFamily(live[0]!);
    const mine = live.filter((v) => !placed.has(v) && ipFamily(v) === family);
    if (mine.length === 0) continue;
    usedVrids.add(inst.vrid);
    for (const v of mine) placed.add(v);
    units.push({ vrid: inst.vrid, family, vips: mine, previousMaster: inst.master });
  }

  // 2. New VIPs, oldest first: their own instance while VRIDs last, else an instance with their order.
  const unplaced: Ip[] = [];
  const grouping = age.size > size;
  const byOrder = new Map<string, Unit>();
  if (grouping) for (const u of units) if (!byOrder.has(orderKey(u.vips[0]!))) byOrder.set(orderKey(u.vips[0]!), u);
  for (const vip of age.keys()) {
    if (placed.has(vip)) continue;
    const key = orderKey(vip);
    const join = grouping ? byOrder.get(key) : undefined;
    if (join !== undefined) {
      join.vips.push(vip);
      continue;
    }
    if (usedVrids.size >= size) {
      unplaced.push(vip);
      continue;
    }
    let offset = hash53(vip) % size;
    while (usedVrids.has(config.vridFirst + offset)) offset = (offset + 1) % size;
    usedVrids.add(config.vridFirst + offset);
    const unit: Unit = {
      vrid: config.vridFirst + offset,
      family: ipFamily(vip),
      vips: [vip],
      previousMaster: undefined,
    };
    units.push(unit);
    if (grouping) byOrder.set(key, unit);
  }

  // 3. Masters, oldest instance first: keep the previous master where it still fits, then fill.
  units.sort((a, b) => byAge(a.vips[0]!, b.vips[0]!));
  const placedCount = units.reduce((s, u) => s + u.vips.length, 0);
  const capacity = masterCapacity(placedCount, lbNodes);
  const load = new Map<LbNodeName, number>(lbNodes.map((n) => [n.name, 0]));
  const known = new Set(state.lbNodes);
  const activeNames = new Set(lbNodes.filter((n) => !isDrained(n)).map((n) => n.name));
  const weight = new Map(lbNodes.map((n) => [n.name, weightOf(n)]));
  const fits = (n: LbNodeName, u: Unit, slack = 0): boolean => load.get(n)! + u.vips.length <= capacity.get(n)! + slack;
  const masters = new Map<Unit, LbNodeName>();
  const take = (u: Unit, n: LbNodeName): void => {
    masters.set(u, n);
    load.set(n, load.get(n)! + u.vips.length);
  };
  // Instances whose master a node that joined outranks: they go to that node or stay, never elsewhere.
  const outranked = new Map<Unit, LbNodeName[]>();
  for (const u of units) {
    const p = u.previousMaster;
    if (p === undefined || !activeNames.has(p) || !fits(p, u, STICKY_SLACK)) continue;
    const order = orderOf(u.vips[0]!);
    const newcomers = order.slice(0, order.indexOf(p)).filter((n) => activeNames.has(n) && !known.has(n));
    if (state.lbNodes.length === 0 || newcomers.length === 0) take(u, p);
    else outranked.set(u, newcomers);
  }
  // Without state, each instance is placed against the share of the VIPs up to it (oldest
  // first), so a younger VIP can never change where an older one goes.
  const fresh = state.instances.length === 0;
  let seen = 0;
  for (const u of units) {
    seen += u.vips.length;
    if (masters.has(u)) continue;
    const newcomers = outranked.get(u);
    if (newcomers !== undefined) {
      const to =
        newcomers.find((n) => fits(n, u)) ?? (fits(u.previousMaster!, u, STICKY_SLACK) ? u.previousMaster : undefined);
      if (to !== undefined) {
        take(u, to);
        continue;
      }
    }
    const order = orderOf(u.vips[0]!).filter((n) => activeNames.has(n));
    const upTo = fresh ? masterCapacity(seen, lbNodes) : capacity;
    const first = order.find((n) => load.get(n)! + u.vips.length <= upTo.get(n)!);
    // Only a shared instance can overflow every node: give it to the least loaded by weight.
    const fallback = [...order].sort((a, b) => load.get(a)! / weight.get(a)! - load.get(b)! / weight.get(b)!)[0];
    const chosen = first ?? fallback;
    if (chosen !== undefined) take(u, chosen);
  }

  const instances: VrrpInstance[] = units.map((u) => {
    const master = masters.get(u);
    const rest = orderOf(u.vips[0]!).filter((n) => n !== master);
    const order = master === undefined ? rest : [master, ...rest];
    const priorities: VrrpPriority[] = order.map((lbNode, rank) => ({
      lbNode,
      priority: priorityOf(rank, order.length),
    }));
    const vrid = u.vrid as Vrid;
    return { id: ident("vrrp", vrid), vrid, family: u.family, vips: [...u.vips].sort(compareIp), priorities };
  });
  instances.sort((a, b) => a.vrid - b.vrid);
  return { instances, unplaced };
};
