import { err } from "neverthrow";
import { isRecord } from "../_json.js";
import { preview } from "../_preview.js";
import {
  BGP_DRAINS,
  parseAsn,
  parseBgpCommunity,
  formatBgpCommunity,
  type Asn,
  type BgpCommunity,
  type BgpDrain,
} from "../bgp.js";
import { compareIp, ipFamily, parseIp, type Ip } from "../ip.js";
import type { Millis } from "../model.js";
import { parseSafePath, type SafePath } from "../safePath.js";
import type { BfdConfig, BgpConfig, BgpPeer, LbNode, Pool } from "../settings.js";
import {
  boolean,
  checkKnown,
  checkUnique,
  defaulted,
  oneOf,
  optional,
  parsed,
  readField,
  readFields,
  wholeMillis,
  wholeNumber,
  type Bad,
  type ConfigField,
  type Section,
} from "./_field.js";

/** The fields of `bgp.bfd` (and of a peer's `bfd`, whose absent fields are the section's). */
export const BFD_FIELDS = {
  enabled: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "false",
    description: "BFD on every session: a dead LB node's routes leave the router within interval x multiplier.",
  }),
  intervalMs: defaulted<Millis>({
    ...wholeMillis(10, 60_000),
    default: 100 as Millis,
    example: "50",
    description: "BFD transmit and receive interval.",
  }),
  multiplier: defaulted<number>({
    ...wholeNumber(1, 255),
    default: 3,
    example: "3",
    description: "Missed BFD packets before the session is down.",
  }),
};

const ipAddress = optional<Ip>({
  required: true,
  type: "IP address",
  defaultText: "required",
  example: "198.18.1.254",
  description: "The neighbour's address.",
  parse: (v, q, bad) =>
    (typeof v === "string" ? parseIp(v) : err(`${preview(v)} is not an IP address`)).match(
      (ip) => ip,
      (e) => bad(q, e),
    ),
});

const asn = (description: string, example: string): ConfigField<Asn> =>
  optional<Asn>({
    required: true,
    type: "AS number 1-4294967295",
    defaultText: "required",
    example,
    description,
    parse: parsed(parseAsn),
  });

const communities = {
  type: "list of a:b or a:b:c communities",
  parse: (v: unknown, q: string, bad: Bad): BgpCommunity[] | undefined => {
    if (!Array.isArray(v)) return bad(q, "must be a list of communities like 64512:100 or 64512:1:2");
    const out: BgpCommunity[] = [];
    v.forEach((c, i) =>
      parseBgpCommunity(c).match(
        (x) => out.push(x),
        (e) => bad(`${q}[${i}]`, e),
      ),
    );
    const texts = [...new Set(out.map(formatBgpCommunity))].sort();
    return texts.map((t) => parseBgpCommunity(t)._unsafeUnwrap());
  },
} as const;

const holdTimeS = { ...wholeNumber(3, 65_535) };
const keepaliveS = { ...wholeNumber(1, 21_845) };
const localPreference = { ...wholeNumber(0, 4_294_967_295) };

/** The fields of each of `bgp.peers`; a timing, BFD or community field left out is the section's. */
export const BGP_PEER_FIELDS = {
  address: ipAddress,
  asn: asn("The neighbour's AS number; equal to bgp.asn makes an iBGP session.", "64500"),
  passwordFile: optional<SafePath>({
    type: "absolute path",
    defaultText: "no password",
    example: "/etc/portico/peer1.bird",
    description: 'A file (mode 0600) holding BIRD\'s line password "<secret>"; (TCP MD5), included as it is.',
    parse: parsed(parseSafePath),
  }),
  bfd: optional<Partial<BfdConfig>>({
    type: "mapping (enabled, intervalMs, multiplier)",
    defaultText: "bgp.bfd",
    example: "{enabled: false}",
    description: "BFD for this session; fields left out are bgp.bfd's.",
    parse: (v, q, bad) => (isRecord(v) ? parsePeerBfd(v, q, bad) : bad(q, "must be a mapping")),
  }),
  multihop: optional<number>({
    ...wholeNumber(1, 255),
    defaultText: "directly connected",
    example: "2",
    description: "A multihop session with this TTL; the LB node's address is the session's source.",
  }),
  holdTimeS: optional<number>({
    ...holdTimeS,
    defaultText: "bgp.holdTimeS",
    example: "9",
    description: "Hold time for this session.",
  }),
  keepaliveS: optional<number>({
    ...keepaliveS,
    defaultText: "bgp.keepaliveS",
    example: "3",
    description: "Keepalive time for this session.",
  }),
  communities: optional<BgpCommunity[]>({
    ...communities,
    defaultText: "bgp.communities",
    example: '["64512:100"]',
    description: "Communities attached to the VIPs announced to this peer, instead of bgp.communities.",
  }),
  localPreference: optional<number>({
    ...localPreference,
    defaultText: "bgp.localPreference",
    example: "200",
    description: "LOCAL_PREF sent to this iBGP peer.",
  }),
};

/** The fields of `bgp`. */
export const BGP_FIELDS = {
  asn: asn("The AS number of every LB node.", "64512"),
  holdTimeS: defaulted<number>({
    ...holdTimeS,
    default: 9,
    example: "90",
    description: "BGP hold time in seconds: without BFD, a dead LB node's routes leave after this long.",
  }),
  keepaliveS: defaulted<number>({
    ...keepaliveS,
    default: 3,
    example: "2",
    description: "BGP keepalive interval in seconds; below holdTimeS.",
  }),
  communities: defaulted<BgpCommunity[]>({
    ...communities,
    default: [],
    example: '["64512:100", "64512:1:2"]',
    description: "Communities attached to every announced VIP.",
  }),
  localPreference: optional<number>({
    ...localPreference,
    defaultText: "BIRD's default (100)",
    example: "200",
    description: "LOCAL_PREF sent to iBGP peers.",
  }),
  drain: defaulted<BgpDrain>({
    type: BGP_DRAINS.join(" | "),
    default: "withdraw",
    example: "prepend",
    description:
      "A drained LB node withdraws its VIPs, or keeps them with its AS prepended three times; either way with " +
      "the graceful-shutdown community 65535:0 while they are announced.",
    parse: (v, q, bad) => oneOf(v, BGP_DRAINS, q, bad),
  }),
  upDelayMs: defaulted<Millis>({
    ...wholeMillis(0, 600_000),
    default: 1000 as Millis,
    example: "5000",
    description: "A VIP this LB node can serve again is announced after it has been servable this long.",
  }),
  configPath: defaulted<SafePath>({
    type: "absolute path",
    default: "/etc/bird/bird.conf" as SafePath,
    example: "/etc/bird/bird.conf",
    description: "Where bird.conf is written.",
    parse: parsed(parseSafePath),
  }),
  socket: defaulted<SafePath>({
    type: "absolute path",
    default: "/run/bird/bird.ctl" as SafePath,
    example: "/run/bird/bird.ctl",
    description: "BIRD's control socket, for birdc configure and show.",
    parse: parsed(parseSafePath),
  }),
  apply: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "false",
    description: "Whether portico apply and portico run install bird.conf and reconfigure (or start) BIRD.",
  }),
};

const sectionOf = (fields: Section["fields"], description: string, list?: true): Section => ({
  type: list === true ? "list" : "mapping",
  defaultText: list === true ? "required" : "{}",
  example: "{}",
  description,
  fields,
  ...(list === true ? { list } : {}),
});

/** The `bgp` section. */
export const BGP_SECTION: Section = {
  type: "mapping",
  defaultText: "absent: no BGP",
  example: "{asn: 64512, peers: [{address: 198.18.1.254, asn: 64500}]}",
  description: "BGP announcements (BIRD 2) of the pools with announce: bgp, from every LB node that can serve them.",
  fields: {
    asn: BGP_FIELDS.asn,
    peers: { ...sectionOf(BGP_PEER_FIELDS, "The routers every LB node peers with.", true), example: "[...]" },
    bfd: sectionOf(BFD_FIELDS, "BFD defaults of every session."),
    ...Object.fromEntries(Object.entries(BGP_FIELDS).filter(([k]) => k !== "asn")),
  },
};

// A BFD mapping, its absent fields defaulted.
const parseBfd = (
  s: Readonly<Record<string, unknown>>,
  p: string,
  bad: Bad,
): { readonly [K in keyof BfdConfig]: BfdConfig[K] | undefined } => {
  checkKnown(s, Object.keys(BFD_FIELDS), p, bad);
  return readFields(BFD_FIELDS, s, p, bad);
};

// A peer's BFD mapping: only the fields it sets, the rest are the section's.
const parsePeerBfd = (s: Readonly<Record<string, unknown>>, p: string, bad: Bad): Partial<BfdConfig> => {
  const v = parseBfd(s, p, bad);
  return Object.fromEntries(
    Object.entries(v).filter(([k, x]) => x !== undefined && s[k] !== undefined && s[k] !== null),
  );
};

// One of `bgp.peers`, its absent fields the section's.
const parsePeer = (raw: unknown, path: string, bad: Bad, d: Omit<BgpPeer, "address" | "asn">): BgpPeer | undefined => {
  if (!isRecord(raw)) return bad(path, "must be a mapping with address and asn");
  checkKnown(raw, Object.keys(BGP_PEER_FIELDS), path, bad);
  const F = BGP_PEER_FIELDS;
  const address = readField(F.address, raw, "address", path, bad);
  const peerAsn = readField(F.asn, raw, "asn", path, bad);
  const passwordFile = readField(F.passwordFile, raw, "passwordFile", path, bad);
  const bfd = readField(F.bfd, raw, "bfd", path, bad);
  const multihop = readField(F.multihop, raw, "multihop", path, bad);
  const hold = readField(F.holdTimeS, raw, "holdTimeS", path, bad) ?? d.holdTimeS;
  const keepalive = readField(F.keepaliveS, raw, "keepaliveS", path, bad) ?? d.keepaliveS;
  const comms = readField(F.communities, raw, "communities", path, bad) ?? d.communities;
  const pref = readField(F.localPreference, raw, "localPreference", path, bad) ?? d.localPreference;
  if (keepalive >= hold) bad(`${path}.keepaliveS`, `must be below the hold time (${hold})`);
  if (address === undefined || peerAsn === undefined) return undefined;
  return {
    address,
    asn: peerAsn,
    ...(passwordFile === undefined ? {} : { passwordFile }),
    bfd: { ...d.bfd, ...bfd },
    ...(multihop === undefined ? {} : { multihop }),
    holdTimeS: hold,
    keepaliveS: keepalive,
    communities: comms,
    ...(pref === undefined ? {} : { localPreference: pref }),
  };
};

/** Parse the `bgp` mapping; undefined when anything in it had a problem, recorded through `bad`. */
export const parseBgp = (s: Readonly<Record<string, unknown>>, p: string, bad: Bad): BgpConfig | undefined => {
  checkKnown(s, Object.keys(BGP_SECTION.fields), p, bad);
  const F = BGP_FIELDS;
  const localAsn = readField(F.asn, s, "asn", p, bad);
  const v = readFields(
    Object.fromEntries(Object.entries(F).filter(([k]) => k !== "asn")) as Omit<typeof F, "asn">,
    s,
    p,
    bad,
  );
  const rawBfd = s["bfd"] ?? {};
  const bfd = isRecord(rawBfd)
    ? (parseBfd(rawBfd, `${p}.bfd`, bad) as BfdConfig)
    : bad(`${p}.bfd`, "must be a mapping");
  const { holdTimeS: hold, keepaliveS: keepalive, communities: comms, localPreference: pref } = v;
  if (hold !== undefined && keepalive !== undefined && keepalive >= hold)
    bad(`${p}.keepaliveS`, `must be below holdTimeS (${hold})`);
  const rawPeers = s["peers"];
  const peers: BgpPeer[] = [];
  if (!Array.isArray(rawPeers) || rawPeers.length === 0) bad(`${p}.peers`, "must be a non-empty list of peers");
  else if (bfd !== undefined && hold !== undefined && keepalive !== undefined && comms !== undefined) {
    const d = {
      bfd,
      holdTimeS: hold,
      keepaliveS: keepalive,
      communities: comms,
      ...(pref === undefined ? {} : { localPreference: pref }),
    };
    rawPeers.forEach((raw, i) => {
      const peer = parsePeer(raw, `${p}.peers[${i}]`, bad, d);
      if (peer !== undefined) peers.push(peer);
    });
  }
  checkUnique(
    peers.map((x) => x.address),
    `${p}.peers`,
    "peer address",
    bad,
  );
  const { drain, upDelayMs, configPath, socket, apply } = v;
  if (localAsn === undefined || drain === undefined || upDelayMs === undefined) return undefined;
  if (configPath === undefined || socket === undefined || apply === undefined) return undefined;
  return {
    asn: localAsn,
    peers: peers.sort((a, b) => compareIp(a.address, b.address)),
    drain,
    upDelayMs,
    configPath,
    socket,
    apply,
  };
};

/**
 * Check what BGP needs from the rest of the config: a pool that announces by BGP needs the
 * `bgp` section, and with it every LB node needs an IPv4 router id (its own address by default).
 */
export const checkBgpUse = (
  pools: readonly Pool[],
  lbNodes: readonly LbNode[],
  raw: { readonly bgp: unknown; readonly lbNodes: unknown },
  bad: Bad,
): void => {
  pools.forEach((pool, i) => {
    if (pool.announce === "bgp" && raw.bgp === undefined)
      bad(`pools[${i}].announce`, "bgp needs a bgp section with asn and peers");
  });
  // Indices name the config's own entries only when every LB node parsed.
  if (raw.bgp === undefined || !Array.isArray(raw.lbNodes) || raw.lbNodes.length !== lbNodes.length) return;
  lbNodes.forEach((n, i) => {
    if (n.routerId === undefined && ipFamily(n.address) !== 4)
      bad(`lbNodes[${i}].routerId`, "is required for BGP when the node's address is not IPv4");
  });
};
