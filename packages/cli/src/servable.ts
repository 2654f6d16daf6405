import type { StatRow } from "@portico/adapter-haproxy";
import type { NftablesState } from "@portico/adapter-nftables";
import type { Ip, LbNodeName, Plan } from "@portico/core";

/** The BGP VIPs the plan has this LB node announce. */
export const announcedBy = (plan: Plan, node: LbNodeName): Ip[] =>
  (plan.announcements ?? []).filter((a) => a.lbNodes.includes(node)).map((a) => a.vip);

/**
 * Another data plane's say on whether this node can serve a VIP (the L4 data plane: its Maglev
 * table for the VIP is non-empty). Absent: HAProxy's word alone.
 */
export type ServesVip = (vip: Ip) => boolean;

/**
 * servableVips: the BGP VIPs of the plan this LB node can serve now, by HAProxy's `show stat`:
 * every frontend of the VIP is bound (`OPEN`) and its backend has a server up, unless the plan
 * gives that backend no servers at all (then no LB node could, and the Service's status says so).
 * A VIP with no HAProxy frontend (L4 only) is left to `alsoServes`.
 */
export const servableVips = (plan: Plan, node: LbNodeName, rows: readonly StatRow[], alsoServes?: ServesVip): Ip[] => {
  const open = new Set(rows.filter((r) => r.type === "frontend" && r.status === "OPEN").map((r) => r.proxy));
  const up = new Set(rows.filter((r) => r.type === "backend" && r.status.startsWith("UP")).map((r) => r.proxy));
  const planned = new Map(plan.backends.map((b) => [b.id as string, b.servers.length]));
  return announcedBy(plan, node).filter((vip) => {
    const frontends = plan.frontends.filter((f) => f.vip === vip);
    const haproxy = frontends.every((f) => open.has(f.id) && (planned.get(f.backend) === 0 || up.has(f.backend)));
    if (alsoServes !== undefined) return (frontends.length === 0 || haproxy) && alsoServes(vip);
    return frontends.length > 0 && haproxy;
  });
};

/** Whether the plan has this node announce a VIP whose ports the L4 data plane (nftables) serves. */
export const announcesL4 = (plan: Plan, node: LbNodeName): boolean => {
  const announced = new Set(announcedBy(plan, node));
  return (plan.l4Listeners ?? []).some((l) => announced.has(l.vip));
};

/**
 * l4ServesVip is the L4 data plane's say for {@link servableVips}, from the tables the kernel runs:
 * a VIP with L4 listeners is served when every one of them is installed with a non-empty Maglev
 * table (some node holds a slot); a VIP without any is left to HAProxy alone.
 */
export const l4ServesVip = (plan: Plan, installed: NftablesState): ServesVip => {
  const slots = new Map(installed.listeners.map((l) => [l.id, l.shares.reduce((n, s) => n + s.slots, 0)]));
  return (vip) => (plan.l4Listeners ?? []).filter((l) => l.vip === vip).every((l) => (slots.get(l.id) ?? 0) > 0);
};

/**
 * l4MembersServe is the L4 data plane's say for {@link servableVips} from what was loaded rather
 * than read back: the plan whose ruleset is installed and the check verdicts its tables were last
 * loaded with. A listener's table is non-empty while one of its servers with a weight is not down
 * by the check it tracks, as the renderer builds it; a VIP without listeners is left to HAProxy.
 */
export const l4MembersServe = (plan: Plan, down: ReadonlyMap<string, ReadonlySet<string>>): ServesVip => {
  const serving = (l: NonNullable<Plan["l4Listeners"]>[number]): boolean => {
    const failing = l.healthCheck.kind === "track" ? down.get(l.healthCheck.backend) : undefined;
    return l.servers.some((s) => s.weight > 0 && failing?.has(s.node) !== true);
  };
  return (vip) => (plan.l4Listeners ?? []).filter((l) => l.vip === vip).every(serving);
};

/** Both says at once: a VIP is served only where each of them, where it has one, says so. */
export const bothServe =
  (a: ServesVip, b: ServesVip): ServesVip =>
  (vip) =>
    a(vip) && b(vip);
