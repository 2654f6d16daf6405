import { err, ok, safeTry, type Result } from "neverthrow";
import {
  CONFIG_DEFAULTS,
  ipFamily,
  ipToBigInt,
  type AdapterError,
  type Ident,
  type Ip,
  type IpFamily,
  type LbNodeName,
  type Plan,
  type Vrid,
  type VrrpInstance,
  type HaproxyCheck,
} from "@portico/core";
import {
  checkAdvertIntMs,
  checkIdent,
  checkInt,
  checkInterface,
  checkIp,
  checkNodeName,
  checkPath,
  checkPriority,
  checkUser,
  checkVrid,
  quote,
  renderError,
} from "./_checks.js";

/** One VRRP instance as one LB node runs it. */
export interface InstanceView {
  readonly id: Ident;
  readonly vrid: Vrid;
  readonly family: IpFamily;
  /** Sorted by address. */
  readonly vips: readonly Ip[];
  /** This node's priority. */
  readonly priority: number;
  /** False when the plan gives this node no priority for the instance (it then runs at 1). */
  readonly ranked: boolean;
  /** The node with the highest priority; undefined when nobody is ranked. */
  readonly intendedMaster: LbNodeName | undefined;
}

/** How keepalived learns that HAProxy is gone, checked. */
export type HaproxyCheckView =
  | (Extract<HaproxyCheck, { readonly kind: "script" }> & { readonly user: string })
  | Extract<HaproxyCheck, { readonly kind: "process" }>
  | Extract<HaproxyCheck, { readonly kind: "stats" }>;

/** Everything keepalived.conf needs for one LB node, checked. */
export interface NodeView {
  readonly name: LbNodeName;
  readonly address: Ip;
  readonly family: IpFamily;
  readonly interface: string;
  /** Every other LB node's address, sorted. */
  readonly peers: readonly Ip[];
  readonly advertIntMs: number;
  /** False: `nopreempt` (a returning higher-priority node does not take its VIPs back). */
  readonly preempt: boolean;
  /** Seconds a returning node waits before preempting (0: none); only rendered with `preempt`. */
  readonly preemptDelayS: number;
  /** True: peers share a link, so their adverts must arrive with TTL 255 (`min_ttl 255`). */
  readonly peersOnLink: boolean;
  readonly haproxyCheck: HaproxyCheckView;
  /** Sorted by VRID. */
  readonly instances: readonly InstanceView[];
}

// Sorted by address: each address's number computed once (a plan can hold thousands of VIPs).
const byAddress = (ips: readonly Ip[]): Ip[] =>
  ips
    .map((ip) => ({ ip, n: ipToBigInt(ip) }))
    .sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : 0))
    .map((x) => x.ip);

const familyName = (family: IpFamily): string => (family === 4 ? "IPv4" : "IPv6");

/** A {@link NodeView} without its instances: the LB nodes and settings, checked. */
export type NodeHead = Omit<NodeView, "instances">;

/** Check the LB nodes and settings of the plan and project them onto one LB node. */
export const nodeHead = (plan: Plan, node: LbNodeName): Result<NodeHead, AdapterError> =>
  safeTry(function* () {
    const names = new Set<string>();
    const addresses = new Set<string>();
    for (const [i, n] of plan.lbNodes.entries()) {
      const name = yield* checkNodeName(n.name, `lbNodes[${i}].name`);
      const address = yield* checkIp(n.address, `LB node ${name}: address`);
      yield* checkInterface(n.interface, `LB node ${name}: interface`);
      if (names.has(name)) return err(renderError(`LB node ${name} appears more than once in the plan`));
      if (addresses.has(address))
        return err(renderError(`LB node address ${address} appears more than once in the plan`));
      names.add(name);
      addresses.add(address);
    }

    const self = plan.lbNodes.find((n) => n.name === node);
    if (self === undefined) {
      const known = plan.lbNodes.map((n) => n.name).join(", ") || "(none)";
      return err(renderError(`LB node ${quote(node)} is not in the plan; configured LB nodes: ${known}`));
    }
    const family = ipFamily(self.address);
    const others: Ip[] = [];
    for (const n of plan.lbNodes) {
      if (n.name === self.name) continue;
      // Unicast adverts need one address family end to end; keepalived drops a peer of the other.
      if (ipFamily(n.address) !== family) {
        return err(
          renderError(
            `LB nodes ${self.name} (${familyName(family)}) and ${n.name} (${familyName(ipFamily(n.address))}) must use addresses of one family: VRRP adverts go between them`,
          ),
        );
      }
      others.push(n.address);
    }
    const peers = byAddress(others);

    const advertIntMs = yield* checkAdvertIntMs(plan.settings.vrrp.advertIntMs, "settings.vrrp.advertIntMs");
    const preempt = plan.settings.vrrp.preempt ?? CONFIG_DEFAULTS.vrrp.preempt;
    if (typeof preempt !== "boolean")
      return err(renderError(`settings.vrrp.preempt: ${quote(preempt)} is not true or false`));
    const preemptDelayS = yield* checkInt(
      plan.settings.vrrp.preemptDelayS ?? CONFIG_DEFAULTS.vrrp.preemptDelayS,
      0,
      1000,
      "settings.vrrp.preemptDelayS",
    );
    const peersOnLink = plan.settings.vrrp.peersOnLink ?? CONFIG_DEFAULTS.vrrp.peersOnLink;
    if (typeof peersOnLink !== "boolean")
      return err(renderError(`settings.vrrp.peersOnLink: ${quote(peersOnLink)} is not true or false`));
    const check = plan.settings.vrrp.haproxyCheck ?? CONFIG_DEFAULTS.vrrp.haproxyCheck;
    let haproxyCheck: HaproxyCheckView;
    if (check.kind === "process") haproxyCheck = { kind: "process" };
    else if (check.kind === "script") {
      haproxyCheck = {
        kind: "script",
        pidFile: yield* checkPath(check.pidFile, "settings.vrrp.haproxyCheck.pidFile"),
        intervalS: yield* checkInt(check.intervalS, 1, 60, "settings.vrrp.haproxyCheck.intervalS"),
        fall: yield* checkInt(check.fall, 1, 10, "settings.vrrp.haproxyCheck.fall"),
        rise: yield* checkInt(check.rise, 1, 10, "settings.vrrp.haproxyCheck.rise"),
        user: yield* checkUser(
          plan.settings.keepalived.scriptUser ?? CONFIG_DEFAULTS.keepalived.scriptUser,
          "settings.keepalived.scriptUser",
        ),
      };
    } else if (check.kind === "stats") {
      haproxyCheck = {
        kind: "stats",
        socket: yield* checkPath(check.socket, "settings.vrrp.haproxyCheck.socket"),
        program: yield* checkPath(check.program, "settings.vrrp.haproxyCheck.program"),
        intervalS: yield* checkInt(check.intervalS, 1, 60, "settings.vrrp.haproxyCheck.intervalS"),
        fall: yield* checkInt(check.fall, 1, 10, "settings.vrrp.haproxyCheck.fall"),
        rise: yield* checkInt(check.rise, 1, 10, "settings.vrrp.haproxyCheck.rise"),
      };
    } else
      return err(
        renderError(
          `settings.vrrp.haproxyCheck.kind: ${quote((check as { kind: unknown }).kind)} is not script, process or stats`,
        ),
      );

    return ok({
      name: self.name,
      address: self.address,
      family,
      interface: self.interface,
      peers,
      advertIntMs,
      preempt,
      preemptDelayS,
      peersOnLink,
      haproxyCheck,
    });
  });

/** An instance checked on its own for one LB node: its view, and its VIPs checked, in plan order. */
export interface CheckedInstance {
  readonly view: InstanceView;
  readonly vips: readonly Ip[];
}

/**
 * Check the plan's VRRP instances and project them onto LB node `self`, sorted by VRID. `known`
 * gives an instance already checked on its own for `self` (a pure function of the object): only
 * what depends on the other instances (ids, VRIDs, VIPs shared) is checked again for it. The
 * errors are the same, in the same order, either way.
 */
export const checkInstances = (
  plan: Plan,
  self: LbNodeName,
  known?: (inst: VrrpInstance) => CheckedInstance | undefined,
): Result<
  { readonly instances: readonly InstanceView[]; readonly checked: ReadonlyMap<VrrpInstance, CheckedInstance> },
  AdapterError
> =>
  safeTry(function* () {
    const instances: InstanceView[] = [];
    const checked = new Map<VrrpInstance, CheckedInstance>();
    const vrids = new Map<number, string>();
    const ids = new Set<string>();
    const owners = new Map<string, string>();
    for (const [i, inst] of plan.vrrpInstances.entries()) {
      const seen = known?.(inst);
      if (seen !== undefined) {
        const { id, vrid } = seen.view;
        if (ids.has(id)) return err(renderError(`VRRP instance ${id} appears more than once in the plan`));
        ids.add(id);
        const other = vrids.get(vrid);
        if (other !== undefined) return err(renderError(`VRRP instances ${other} and ${id} share VRID ${vrid}`));
        vrids.set(vrid, id);
        for (const vip of seen.vips) {
          const owner = owners.get(vip);
          if (owner !== undefined) return err(renderError(`VIP ${vip} is in VRRP instances ${owner} and ${id}`));
          owners.set(vip, id);
        }
        instances.push(seen.view);
        checked.set(inst, seen);
        continue;
      }
      const id = yield* checkIdent(inst.id, `vrrpInstances[${i}].id`);
      const vrid = yield* checkVrid(inst.vrid, `VRRP instance ${id}: vrid`);
      if (inst.family !== 4 && inst.family !== 6)
        return err(renderError(`VRRP instance ${id}: family ${quote(inst.family)} is not 4 or 6`));
      if (ids.has(id)) return err(renderError(`VRRP instance ${id} appears more than once in the plan`));
      ids.add(id);
      const other = vrids.get(vrid);
      if (other !== undefined) return err(renderError(`VRRP instances ${other} and ${id} share VRID ${vrid}`));
      vrids.set(vrid, id);

      // keepalived refuses an instance without VIPs.
      if (inst.vips.length === 0) return err(renderError(`VRRP instance ${id} has no VIPs`));
      const vips: Ip[] = [];
      for (const v of inst.vips) {
        const vip = yield* checkIp(v, `VRRP instance ${id}: VIP`);
        if (ipFamily(vip) !== inst.family)
          return err(renderError(`VRRP instance ${id}: VIP ${vip} is not ${familyName(inst.family)}`));
        // Two instances holding one VIP would move it back and forth between masters.
        const owner = owners.get(vip);
        if (owner !== undefined) return err(renderError(`VIP ${vip} is in VRRP instances ${owner} and ${id}`));
        owners.set(vip, id);
        vips.push(vip);
      }

      const ranked = new Map<string, number>();
      let intendedMaster: LbNodeName | undefined;
      let best = 0;
      for (const p of inst.priorities) {
        const name = yield* checkNodeName(p.lbNode, `VRRP instance ${id}: priorities`);
        const priority = yield* checkPriority(p.priority, `VRRP instance ${id}: priority of ${name}`);
        if (ranked.has(name))
          return err(renderError(`VRRP instance ${id}: LB node ${name} has more than one priority`));
        ranked.set(name, priority);
        if (priority > best) {
          best = priority;
          intendedMaster = name;
        }
      }
      const own = ranked.get(self);
      const view: InstanceView = {
        id,
        vrid,
        family: inst.family,
        vips: byAddress(vips),
        priority: own ?? 1,
        ranked: own !== undefined,
        intendedMaster,
      };
      instances.push(view);
      checked.set(inst, { view, vips });
    }
    instances.sort((a, b) => a.vrid - b.vrid);
    return ok({ instances, checked });
  });
