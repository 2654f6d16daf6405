import type { ReadFn } from "@portico/core";
import { OTHER_HOST } from "./_print.js";

/** One listener as an installed ruleset says: its Maglev table and each target's share of it. */
export interface NftablesListenerState {
  readonly id: string;
  readonly mode: "nat" | "direct";
  /** The table's map name and size. */
  readonly table: string;
  readonly size: number;
  /**
   * Each target (`address` or `address . port`) and the slots whose new flows go to it, in mark
   * order: its own primary slots while it is up, and its part (by the spill map) of the slots of
   * the targets that are not.
   */
  readonly shares: readonly { readonly mark: number; readonly target: string; readonly slots: number }[];
  /** Per-rule packet counters, when read from `nft list` (a file has none): forwarded, denied, no node up. */
  readonly counters?: { readonly forwarded: number; readonly denied: number; readonly noNode: number };
}

/** What an installed nftables.conf says. */
export interface NftablesState {
  readonly listeners: readonly NftablesListenerState[];
  /**
   * Frames the netdev chain let by untouched as not addressed to this host alone (another host's
   * that a switch flooded, broadcast and multicast: ARP, VRRP adverts), when read from `nft list`
   * with `direct` listeners.
   */
  readonly otherHost?: number;
}

const BLOCK_START = /^\s*(map|set) ((?:mg|sp|up)_[0-9a-f]{8}) \{\s*$/;
const ELEMENT = /(\d+) : (0x[0-9a-f]+|\d+)/g;
const SET_ELEMENT = /0x[0-9a-f]+/g;
const MARK = /^(0x[0-9a-f]+|\d+)$/;
const COUNTED = /counter packets (\d+) bytes (\d+) .*comment "([a-z0-9_-]{1,63})( denied| no node)?"$/;
const OTHER = new RegExp(`meta pkttype != host counter packets (\\d+) bytes \\d+ accept comment "${OTHER_HOST}"$`);
const RULE =
  /jhash .* mod (\d+) seed \S+ map @(mg_[0-9a-f]{8})(?: meta mark @up_[0-9a-f]{8})? counter(?: packets \d+ bytes \d+)? (dnat|fwd) ip6? to meta mark map \{ ([^}]*) \}.*comment "([a-z0-9_-]{1,63})"$/;

/** The Maglev maps (each mark's slots) and `up_` sets (marks) that a text declares, by name. */
export interface NftablesObjects {
  readonly maps: Map<string, Map<number, number>>;
  readonly sets: Map<string, Set<number>>;
}

/** The Maglev maps and `up_` sets declared in a ruleset or in `nft list` output; `into` gathers several listings. */
export const objectsOf = (
  text: string,
  into: NftablesObjects = { maps: new Map(), sets: new Map() },
): NftablesObjects => {
  let map: Map<number, number> | undefined;
  let set: Set<number> | undefined;
  for (const line of text.split("\n")) {
    const start = BLOCK_START.exec(line);
    if (start !== null) {
      if (start[1] === "map") into.maps.set(start[2]!, (map = new Map()));
      else into.sets.set(start[2]!, (set = new Set()));
      continue;
    }
    // A block ends at its own closing brace, one level in (a tab where nft list prints it).
    if (line === "  }" || line === "\t}") map = set = undefined;
    else if (map !== undefined)
      for (const m of line.matchAll(ELEMENT)) map.set(Number(m[2]), (map.get(Number(m[2])) ?? 0) + 1);
    else if (set !== undefined) for (const m of line.matchAll(SET_ELEMENT)) set.add(Number(m[0]));
  }
  return into;
};

/**
 * The slots whose new flows go to each mark: its own primary slots while it is up, and its part of
 * the slots of the marks that are not, in proportion to its spill slots (largest remainder, so the
 * parts add up). A ruleset without an `up_` set (older ones) has a primary over the members up.
 */
export const effectiveSlots = (
  primary: ReadonlyMap<number, number>,
  up: ReadonlySet<number> | undefined,
  spill: ReadonlyMap<number, number> | undefined,
): Map<number, number> => {
  if (up === undefined) return new Map(primary);
  const out = new Map<number, number>();
  let down = 0;
  for (const [mark, n] of primary)
    if (up.has(mark)) out.set(mark, n);
    else down += n;
  if (spill === undefined || down === 0) return out;
  const spillTotal = [...spill.values()].reduce((a, b) => a + b, 0);
  if (spillTotal === 0) return out;
  const parts = [...spill].map(([mark, n]) => ({ mark, exact: (down * n) / spillTotal }));
  let left = down;
  for (const p of parts) left -= Math.floor(p.exact);
  parts.sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)) || a.mark - b.mark);
  parts.forEach((p, i) => out.set(p.mark, (out.get(p.mark) ?? 0) + Math.floor(p.exact) + (i < left ? 1 : 0)));
  return out;
};

/** Each listener's shares read from `objects`: the effective slots of its primary, `up_` set and spill map. */
export const withShares = (
  listeners: readonly NftablesListenerState[],
  objects: NftablesObjects,
): NftablesListenerState[] =>
  listeners.map((l) => {
    const h = l.table.slice("mg_".length);
    const slots = effectiveSlots(
      objects.maps.get(l.table) ?? new Map(),
      objects.sets.get(`up_${h}`),
      objects.maps.get(`sp_${h}`),
    );
    return { ...l, shares: l.shares.map((s) => ({ ...s, slots: slots.get(s.mark) ?? 0 })) };
  });

/**
 * readNftablesState reads the listeners, their tables and each target's share back from the
 * text of an installed ruleset (the file, or `nft list table`'s output); lines it does not
 * recognise are skipped. Never throws.
 */
export const readNftablesState: ReadFn<NftablesState> = (installed) => {
  const rules: NftablesListenerState[] = [];
  const counters = new Map<string, { forwarded: number; denied: number; noNode: number }>();
  let otherHost: number | undefined;
  const text = String(installed);
  for (const line of text.split("\n")) {
    const o = OTHER.exec(line);
    if (o !== null) otherHost = (otherHost ?? 0) + Number(o[1]);
    const c = COUNTED.exec(line);
    if (c !== null) {
      const entry = counters.get(c[3]!) ?? { forwarded: 0, denied: 0, noNode: 0 };
      const what = c[4] === " denied" ? "denied" : c[4] === " no node" ? "noNode" : "forwarded";
      entry[what] += Number(c[1]);
      counters.set(c[3]!, entry);
    }
    const r = RULE.exec(line);
    if (r === null) continue;
    const targets = r[4]!.split(", ").flatMap((t) => {
      const [mark, target] = t.split(" : ");
      return mark === undefined || target === undefined || !MARK.test(mark) ? [] : [{ mark: Number(mark), target }];
    });
    rules.push({
      id: r[5]!,
      mode: r[3] === "dnat" ? "nat" : "direct",
      table: r[2]!,
      size: Number(r[1]),
      shares: targets.map((t) => ({ ...t, slots: 0 })),
    });
  }
  return {
    listeners: withShares(rules, objectsOf(text)).map((l) => ({
      ...l,
      ...(counters.has(l.id) ? { counters: counters.get(l.id)! } : {}),
    })),
    ...(otherHost === undefined ? {} : { otherHost }),
  };
};
