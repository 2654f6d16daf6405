import { err, ok, type Result } from "neverthrow";
import {
  compareIp,
  ipFamily,
  type AdapterError,
  type Asn,
  type BgpCommunity,
  type Ip,
  type IpFamily,
  type LbNodeName,
  type Plan,
  type SafePath,
} from "@portico/core";
import {
  all,
  checkAsn,
  checkBool,
  checkCommunity,
  checkInt,
  checkIp,
  checkNodeName,
  checkPath,
  quote,
  renderError,
} from "./_checks.js";
import { protocolName } from "./protocolName.js";

/** One BGP session of this LB node, checked. */
export interface PeerView {
  /** `peer4_<hex>`: derived from the address, so adding a peer never renames (and resets) another. */
  readonly name: string;
  readonly address: Ip;
  readonly family: IpFamily;
  readonly asn: Asn;
  /** This node's address when it is of the peer's family: the session's source. */
  readonly local?: Ip;
  readonly ibgp: boolean;
  readonly passwordFile?: SafePath;
  readonly bfd?: { readonly intervalMs: number; readonly multiplier: number };
  readonly multihop?: number;
  readonly holdTimeS: number;
  readonly keepaliveS: number;
  readonly communities: readonly BgpCommunity[];
  readonly localPreference?: number;
}

/** One VIP this LB node may announce, checked. */
export interface VipView {
  /** `vip4_<hex>`: the static protocol that holds the VIP's route; enable or disable it to announce or withdraw. */
  readonly name: string;
  readonly vip: Ip;
  readonly family: IpFamily;
  /** False: rendered `disabled` (not announced now). */
  readonly enabled: boolean;
}

/** Everything bird.conf needs for one LB node, checked. */
export interface BirdView {
  readonly node: LbNodeName;
  /** Absent only without a bgp section and without an IPv4 address. */
  readonly routerId?: Ip;
  readonly asn?: Asn;
  /** Sorted by address. */
  readonly peers: readonly PeerView[];
  /** Sorted by address. */
  readonly vips: readonly VipView[];
  /** Announce with the graceful-shutdown community, the AS prepended and, on iBGP, LOCAL_PREF 0. */
  readonly gracefulShutdown: boolean;
}

/** How {@link birdView} is told what to announce now. */
export interface AnnounceChoice {
  /** The VIPs announced now; absent: every VIP the plan gives this node. */
  readonly announce?: readonly Ip[];
  /** Leaving: announce what is announced with the graceful-shutdown community. */
  readonly gracefulShutdown?: boolean;
}

const checkPeer = (
  raw: NonNullable<Plan["settings"]["bgp"]>["peers"][number],
  i: number,
  localAsn: Asn,
  nodeAddress: Ip,
): Result<PeerView, AdapterError> => {
  const at = `settings.bgp.peers[${i}]`;
  return checkIp(raw.address, `${at}.address`).andThen((address) =>
    all<unknown>([
      checkAsn(raw.asn, `${at}.asn`),
      checkInt(raw.holdTimeS, 3, 65_535, `${at}.holdTimeS`),
      checkInt(raw.keepaliveS, 1, 21_845, `${at}.keepaliveS`),
      checkBool(raw.bfd?.enabled, `${at}.bfd.enabled`),
      checkInt(raw.bfd?.intervalMs, 10, 60_000, `${at}.bfd.intervalMs`),
      checkInt(raw.bfd?.multiplier, 1, 255, `${at}.bfd.multiplier`),
      raw.passwordFile === undefined ? ok(undefined) : checkPath(raw.passwordFile, `${at}.passwordFile`),
      raw.multihop === undefined ? ok(undefined) : checkInt(raw.multihop, 1, 255, `${at}.multihop`),
      raw.localPreference === undefined
        ? ok(undefined)
        : checkInt(raw.localPreference, 0, 4_294_967_295, `${at}.localPreference`),
      Array.isArray(raw.communities)
        ? all(raw.communities.map((c, j) => checkCommunity(c, `${at}.communities[${j}]`)))
        : err(renderError(`${at}.communities: is not a list`)),
    ]).map((): PeerView => {
      const family = ipFamily(address);
      return {
        name: protocolName("peer", address),
        address,
        family,
        asn: raw.asn,
        ...(ipFamily(nodeAddress) === family ? { local: nodeAddress } : {}),
        ibgp: raw.asn === localAsn,
        ...(raw.passwordFile === undefined ? {} : { passwordFile: raw.passwordFile }),
        ...(raw.bfd.enabled ? { bfd: { intervalMs: raw.bfd.intervalMs, multiplier: raw.bfd.multiplier } } : {}),
        ...(raw.multihop === undefined ? {} : { multihop: raw.multihop }),
        holdTimeS: raw.holdTimeS,
        keepaliveS: raw.keepaliveS,
        communities: raw.communities,
        ...(raw.localPreference === undefined ? {} : { localPreference: raw.localPreference }),
      };
    }),
  );
};

const checkPeers = (plan: Plan, localAsn: Asn, nodeAddress: Ip): Result<PeerView[], AdapterError> => {
  const peers = plan.settings.bgp?.peers;
  if (!Array.isArray(peers)) return err(renderError("settings.bgp.peers: is not a list"));
  return all(peers.map((p, i) => checkPeer(p, i, localAsn, nodeAddress))).andThen((views) => {
    const names = new Set(views.map((v) => v.name));
    if (names.size !== views.length) return err(renderError("settings.bgp.peers: an address appears twice"));
    if (views.some((v) => v.keepaliveS >= v.holdTimeS))
      return err(renderError("settings.bgp.peers: a keepalive time is not below its hold time"));
    return ok(views.sort((a, b) => compareIp(a.address, b.address)));
  });
};

// The VIPs the plan has this node announce, each checked; a VIP listed twice is a planner bug.
const checkVips = (plan: Plan, node: LbNodeName, choice: AnnounceChoice): Result<VipView[], AdapterError> => {
  const list = plan.announcements ?? [];
  if (!Array.isArray(list)) return err(renderError("announcements: is not a list"));
  const mine = list.filter((a) => Array.isArray(a.lbNodes) && a.lbNodes.includes(node));
  const now = choice.announce === undefined ? undefined : new Set<string>(choice.announce);
  return all(
    mine.map((a, i) =>
      checkIp(a.vip, `announcements[${i}].vip`, a.family === 4 || a.family === 6 ? a.family : undefined).andThen(
        (vip) =>
          a.family === 4 || a.family === 6
            ? ok({ name: protocolName("vip", vip), vip, family: a.family, enabled: now?.has(vip) ?? true })
            : err(renderError(`announcements[${i}].family: ${quote(a.family)} is not 4 or 6`)),
      ),
    ),
  ).andThen((vips) =>
    new Set(vips.map((v) => v.vip)).size === vips.length
      ? ok(vips.sort((a, b) => compareIp(a.vip, b.vip)))
      : err(renderError("announcements: a VIP appears twice")),
  );
};

/** Check the plan's BGP parts and project them onto one LB node. */
export const birdView = (plan: Plan, node: LbNodeName, choice: AnnounceChoice): Result<BirdView, AdapterError> =>
  checkNodeName(node, "node").andThen((name) => {
    const self = plan.lbNodes.find((n) => n.name === name);
    if (self === undefined) return err(renderError(`node: ${quote(name)} is not one of the plan's LB nodes`));
    return checkIp(self.address, `lbNodes[${name}].address`).andThen((address) => {
      const given = self.routerId === undefined ? undefined : checkIp(self.routerId, `lbNodes[${name}].routerId`, 4);
      if (given?.isErr() === true) return err(given.error);
      const routerId = given?.isOk() === true ? given.value : ipFamily(address) === 4 ? address : undefined;
      const bgp = plan.settings.bgp;
      if (bgp === undefined)
        return ok({ node: name, ...(routerId ? { routerId } : {}), peers: [], vips: [], gracefulShutdown: false });
      if (routerId === undefined)
        return err(renderError(`lbNodes[${name}].routerId: is needed for BGP (the node's address is not IPv4)`));
      return checkAsn(bgp.asn, "settings.bgp.asn").andThen((asn) =>
        checkPeers(plan, asn, address).andThen((peers) =>
          checkVips(plan, name, choice).map((vips) => {
            const planned = (plan.announcements ?? []).some((a) => a.gracefulShutdown?.includes(name) === true);
            return {
              node: name,
              routerId,
              asn,
              peers,
              vips,
              gracefulShutdown: planned || choice.gracefulShutdown === true,
            };
          }),
        ),
      );
    });
  });
