import { err, ok, type Result } from "neverthrow";
import {
  DEFAULT_FLOW_PINS,
  hash53,
  hash8,
  ipToBigInt,
  isIdent,
  isInterfaceName,
  MAGLEV_SIZES,
  maglevTable,
  parseCidr,
  parseIp,
  type AdapterError,
  type Cidr,
  type Ip,
  type IpFamily,
  type L4Listener,
  type LbNodeName,
  type MaglevMember,
  type MaglevTable,
  type Plan,
} from "@portico/core";

// The largest table a plan may ask for: the core's largest listed size.
const MAX_TABLE_SIZE = MAGLEV_SIZES[MAGLEV_SIZES.length - 1]!;

/**
 * One planned server of a listener as the ruleset prints it: its mark and target. The mark comes
 * from the node's address alone (see {@link markOf}), so a node keeps its mark whatever nodes join
 * or leave and a flow pinned to it before a reload still names it after.
 */
export interface ViewServer {
  readonly mark: number;
  readonly node: string;
  readonly address: Ip;
  readonly port: number;
}

/**
 * The Maglev maps shared by every listener with the same planned servers, weights, size and check:
 * the primary table over every planned member, which a health verdict never touches, and a small
 * spill table over the members that are up, for the flows whose primary slot names a member that
 * is not. A verdict therefore rewrites the `up_` set and the spill map alone, whatever the size.
 */
export interface ViewTable {
  /** `mg_<hash8>`: from the planned members, so health verdicts never change its name or elements. */
  readonly name: string;
  /** `up_<hash8>`: the marks of the members that are up; a flow's primary slot or pin must name one. */
  readonly up: string;
  /** `sp_<hash8>`: the spill map, over the members that are up. */
  readonly spill: string;
  /** The planned members (node name, weight and mark), in plan order. */
  readonly members: readonly { readonly name: string; readonly weight: number; readonly mark: number }[];
  readonly size: number;
  /** Over every planned member. */
  readonly table: MaglevTable;
  /** Over the members that are up: {@link spillSize} slots. */
  readonly spillTable: MaglevTable;
}

/** The spill map's slots per planned member, so each up member takes a fair part of a down one's flows. */
export const SPILL_SLOTS_PER_NODE = 8;
/** The largest spill table, so a verdict's transaction stays small; with up to 1021 equal nodes each still holds a slot. */
export const SPILL_SIZE_MAX = 1021;
/**
 * The spill table's size for `members` planned members: the smallest listed prime with at least
 * {@link SPILL_SLOTS_PER_NODE} slots each, from 251 to {@link SPILL_SIZE_MAX}, so a verdict's
 * transaction stays small. It depends on the plan alone, never on verdicts, so the rules that
 * name it never change with health.
 */
export const spillSize = (members: number): number =>
  Math.min(MAGLEV_SIZES.find((s) => s >= SPILL_SLOTS_PER_NODE * members) ?? SPILL_SIZE_MAX, SPILL_SIZE_MAX);

// The primary tables of recent plans: they depend on the plan alone, so a health verdict's render
// (every 20 ms look that finds a change) reuses them instead of walking 16381 slots again.
const PRIMARY = new Map<string, MaglevTable>();
const PRIMARY_KEPT = 64;
const primaryTable = (key: string, members: readonly MaglevMember[], size: number): MaglevTable => {
  const hit = PRIMARY.get(key);
  if (hit !== undefined) {
    PRIMARY.delete(key);
    PRIMARY.set(key, hit);
    return hit;
  }
  const t = maglevTable(members, size);
  PRIMARY.set(key, t);
  if (PRIMARY.size > PRIMARY_KEPT) PRIMARY.delete(PRIMARY.keys().next().value!);
  return t;
};

/**
 * The flow pins of a `direct` listener: a dynamic map from the hash's key to the node's mark, so an
 * established flow stays on its node when the table changes (the Maglev paper's connection
 * tracking table; the netdev path has no conntrack).
 */
export interface ViewPins {
  /** `pin_<hash8>`: from everything that defines the map, so a changed definition is a new map. */
  readonly name: string;
  /** `end_<hash8>`: TCP flows whose client sent FIN or RST, which refresh their pin no more. */
  readonly ending?: string;
  /** `stale_<hash8>`: flows whose pin names a node that is not up, their pin cut short once. */
  readonly stale: string;
  readonly timeoutS: number;
  readonly size: number;
}

/** How long a TCP pin lives after the client's FIN or RST: conntrack's TIME_WAIT. */
export const PIN_CLOSING_S = 120;
/** How long a pin to a node that is not up lives on, once cut short; the flow is pinned anew after. */
export const PIN_STALE_S = 2;

/** A listener checked field by field, ready to print. */
export interface ViewListener {
  readonly id: string;
  readonly vip: Ip;
  readonly family: IpFamily;
  readonly protocol: "tcp" | "udp" | "sctp";
  readonly port: number;
  readonly mode: "nat" | "direct";
  /** The ranges of the listener's family; empty admits every source unless `admitsNone`. */
  readonly sourceRanges: readonly Cidr[];
  /** The Service lists ranges, none of this family: every source of it is dropped. */
  readonly admitsNone: boolean;
  readonly hashSourceOnly: boolean;
  readonly servers: readonly ViewServer[];
  readonly table: ViewTable;
  /** `direct` listeners only. */
  readonly pins?: ViewPins;
}

/** The checked view of a plan for one LB node. */
export interface View {
  readonly node: LbNodeName;
  readonly interface: string;
  readonly listeners: readonly ViewListener[];
  readonly tables: readonly ViewTable[];
}

const fail = (message: string): AdapterError => ({ kind: "render", adapter: "nftables", message });
const show = (v: unknown): string => JSON.stringify(v)?.slice(0, 80) ?? String(v);
const PROTOCOLS = { TCP: "tcp", UDP: "udp", SCTP: "sctp" } as const;
const isPort = (p: unknown): p is number => typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;
const isWeight = (w: unknown): w is number => typeof w === "number" && Number.isInteger(w) && w >= 0 && w <= 256;
const LOW32 = (1n << 32n) - 1n;
/**
 * A node's mark before collisions, from its address alone: an IPv4 address is its own mark (no two
 * nodes share one); an IPv6 address is hashed to 32 bits, as its low 32 bits are the same for one
 * host part in two subnets (2001:db8:1::5 and 2001:db8:2::5).
 */
const markOf = (a: Ip): number =>
  a.includes(":") ? hash53(a, 0x6d61726b) % 0x100000000 : Number(ipToBigInt(a) & LOW32);
/** Marks by address: {@link markOf}, the next free one on a collision (0 stays unused). */
const marksOf = (addresses: readonly Ip[]): number[] => {
  const used = new Set<number>();
  return addresses.map((a) => {
    let m = markOf(a);
    while (m === 0 || used.has(m)) m = (m + 1) % 0x100000000;
    used.add(m);
    return m;
  });
};
const pinsOf = (l: L4Listener, protocol: string): ViewPins | undefined => {
  if (l.mode !== "direct") return undefined;
  const affinity = l.affinity?.kind === "clientIp";
  const timeoutS = affinity
    ? l.affinity!.timeoutSeconds
    : (l.flowPins?.timeoutSeconds ?? (protocol === "udp" ? DEFAULT_FLOW_PINS.udpTimeoutS : DEFAULT_FLOW_PINS.timeoutS));
  const size = l.flowPins?.size ?? DEFAULT_FLOW_PINS.size;
  const ending = protocol === "tcp" && !affinity;
  const h = hash8(JSON.stringify([l.id, l.family, protocol, affinity, timeoutS, size, ending]));
  return { name: `pin_${h}`, ...(ending ? { ending: `end_${h}` } : {}), stale: `stale_${h}`, timeoutS, size };
};
const isTimeout = (s: unknown): s is number => typeof s === "number" && Number.isInteger(s) && s >= 1 && s <= 864_000;
const isPinSize = (s: unknown): s is number =>
  typeof s === "number" && Number.isInteger(s) && s >= 1 && s <= 16_777_216;

const canonicalIp = (v: unknown, family: IpFamily): Ip | undefined => {
  if (typeof v !== "string") return undefined;
  const p = parseIp(v);
  return p.isOk() && p.value === v && (v.includes(":") ? 6 : 4) === family ? p.value : undefined;
};

const checkListener = (
  l: L4Listener,
  tables: Map<string, ViewTable>,
  downOf: (check: string) => ReadonlySet<string>,
): Result<ViewListener, AdapterError> => {
  if (!isIdent(l.id)) return err(fail(`L4 listener id ${show(l.id)} is not an identifier`));
  const family = l.family;
  if (family !== 4 && family !== 6) return err(fail(`L4 listener ${l.id}: family ${show(family)} is not 4 or 6`));
  const vip = canonicalIp(l.vip, family);
  if (vip === undefined) return err(fail(`L4 listener ${l.id}: VIP ${show(l.vip)} is not a canonical IPv${family}`));
  if (!isPort(l.port)) return err(fail(`L4 listener ${l.id}: port ${show(l.port)} is not 1-65535`));
  const protocol = PROTOCOLS[l.protocol];
  if (protocol === undefined)
    return err(fail(`L4 listener ${l.id}: protocol ${show(l.protocol)} is not TCP, UDP, SCTP`));
  if (l.mode !== "nat" && l.mode !== "direct") return err(fail(`L4 listener ${l.id}: mode ${show(l.mode)}`));
  if (!Number.isInteger(l.tableSize) || l.tableSize < 2 || l.tableSize > MAX_TABLE_SIZE)
    return err(fail(`L4 listener ${l.id}: table size ${show(l.tableSize)} is not 2-${MAX_TABLE_SIZE}`));
  const sourceRanges: Cidr[] = [];
  for (const c of l.sourceRanges ?? []) {
    const p = typeof c === "string" ? parseCidr(c) : undefined;
    if (p === undefined || p.isErr() || p.value !== c)
      return err(fail(`L4 listener ${l.id}: source range ${show(c)} is not a canonical CIDR`));
    if ((c.includes(":") ? 6 : 4) === family) sourceRanges.push(p.value);
  }
  // A Service whose ranges are all of the other family admits nobody of this one.
  const admitsNone = (l.sourceRanges ?? []).length > 0 && sourceRanges.length === 0;
  const servers: ViewServer[] = [];
  const seen = new Set<string>();
  for (const s of l.servers) {
    if (typeof s.node !== "string" || s.node.length === 0 || s.node.length > 253 || seen.has(s.node))
      return err(fail(`L4 listener ${l.id}: server node ${show(s.node)} is empty, too long or listed twice`));
    seen.add(s.node);
    const address = canonicalIp(s.address, family);
    if (address === undefined)
      return err(fail(`L4 listener ${l.id}: server address ${show(s.address)} is not a canonical IPv${family}`));
    if (!isPort(s.port)) return err(fail(`L4 listener ${l.id}: server port ${show(s.port)} is not 1-65535`));
    if (!isWeight(s.weight)) return err(fail(`L4 listener ${l.id}: server weight ${show(s.weight)} is not 0-256`));
    servers.push({ mark: 0, node: s.node, address, port: s.port });
  }
  const marks = marksOf(servers.map((s) => s.address));
  const marked = servers.map((s, i) => ({ ...s, mark: marks[i]! }));
  const pins = pinsOf(l, protocol);
  const members = l.servers.map((s, i) => ({ name: s.node, weight: s.weight, mark: marks[i]! }));
  if (l.affinity?.kind === "clientIp" && !isTimeout(l.affinity.timeoutSeconds))
    return err(fail(`L4 listener ${l.id}: affinity timeout ${show(l.affinity.timeoutSeconds)} is not 1-864000 s`));
  if (l.flowPins !== undefined && (!isTimeout(l.flowPins.timeoutSeconds) || !isPinSize(l.flowPins.size)))
    return err(fail(`L4 listener ${l.id}: flow pins ${show(l.flowPins)} are not 1-864000 s and 1-16777216 flows`));
  // Listeners that follow different checks never share a table: one Service's failing pods leave
  // its own table only.
  const check = l.healthCheck?.kind === "track" ? String(l.healthCheck.backend) : "";
  const key = JSON.stringify([l.tableSize, members, ...(check === "" ? [] : [check])]);
  let table = tables.get(key);
  if (table === undefined) {
    const down = downOf(check);
    const h = hash8(key);
    const spilled = spillSize(members.length);
    table = {
      name: `mg_${h}`,
      up: `up_${h}`,
      spill: `sp_${h}`,
      members,
      size: l.tableSize,
      table: primaryTable(key, members, l.tableSize),
      spillTable: maglevTable(
        members.filter((m) => !down.has(m.name)),
        spilled,
      ),
    };
    tables.set(key, table);
  }
  return ok({
    id: l.id,
    vip,
    family,
    protocol,
    port: l.port,
    mode: l.mode,
    sourceRanges,
    admitsNone,
    hashSourceOnly: l.affinity?.kind === "clientIp",
    servers: marked,
    table,
    ...(pins === undefined ? {} : { pins }),
  });
};

/**
 * The checked view of `plan` for LB node `node`, with the nodes in `down` out of every table and
 * those in `checkDown`'s set for a check backend out of the tables of the listeners tracking it:
 * every value that reaches the ruleset is checked again here, as a hand-built plan may hold
 * anything.
 */
export const viewOf = (
  plan: Plan,
  node: LbNodeName,
  down: ReadonlySet<string>,
  checkDown?: ReadonlyMap<string, ReadonlySet<string>>,
): Result<View, AdapterError> => {
  const me = plan.lbNodes.find((n) => n.name === node);
  if (me === undefined) return err(fail(`LB node ${show(node)} is not in the plan's lbNodes`));
  if (!isInterfaceName(me.interface)) return err(fail(`LB node ${node}: interface ${show(me.interface)} is not valid`));
  const tables = new Map<string, ViewTable>();
  const downOf = (check: string): ReadonlySet<string> => {
    const failing = checkDown?.get(check);
    return failing === undefined || failing.size === 0 ? down : new Set([...down, ...failing]);
  };
  const listeners: ViewListener[] = [];
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const l of plan.l4Listeners ?? []) {
    const v = checkListener(l, tables, downOf);
    if (v.isErr()) return err(v.error);
    const key = `${v.value.vip} ${v.value.protocol} ${v.value.port}`;
    if (ids.has(v.value.id) || keys.has(key)) return err(fail(`L4 listener ${l.id}: ${key} is listed twice`));
    ids.add(v.value.id);
    keys.add(key);
    listeners.push(v.value);
  }
  listeners.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const used = [...new Map(listeners.map((l) => [l.table.name, l.table])).values()];
  used.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return ok({ node, interface: me.interface, listeners, tables: used });
};
