import type { ReadFn } from "@portico/core";
import { OTHER_HOST } from "./_print.js";

/** One listener as an installed ruleset says: its Maglev table and each target's share of it. */
export interface NftablesListenerState {
  readonly id: string;
  readonly mode: "nat" | "direct";
  /** The table's map name and size. */
  readonly table: string;
  readonly size: number;
  /** Each target (`address` or `address . port`) and the slots it holds, in mark order. */
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

const MAP_START = /^\s*map (mg_[0-9a-f]{8}) \{\s*$/;
const ELEMENT = /(\d+) : (0x[0-9a-f]+|\d+)/g;
const MARK = /^(0x[0-9a-f]+|\d+)$/;
const COUNTED = /counter packets (\d+) bytes (\d+) .*comment "([a-z0-9_-]{1,63})( denied| no node)?"$/;
const OTHER = new RegExp(`meta pkttype != host counter packets (\\d+) bytes \\d+ accept comment "${OTHER_HOST}"$`);
const RULE =
  /jhash .* mod (\d+) seed \S+ map @(mg_[0-9a-f]{8}) counter(?: packets \d+ bytes \d+)? (dnat|fwd) ip6? to meta mark map \{ ([^}]*) \}.*comment "([a-z0-9_-]{1,63})"$/;

/**
 * readNftablesState reads the listeners, their tables and each target's share back from the
 * text of an installed ruleset (the file, or `nft list table`'s output); lines it does not
 * recognise are skipped. Never throws.
 */
export const readNftablesState: ReadFn<NftablesState> = (installed) => {
  const counts = new Map<string, Map<number, number>>();
  let current: Map<number, number> | undefined;
  const rules: NftablesListenerState[] = [];
  const counters = new Map<string, { forwarded: number; denied: number; noNode: number }>();
  let otherHost: number | undefined;
  for (const line of String(installed).split("\n")) {
    const o = OTHER.exec(line);
    if (o !== null) otherHost = (otherHost ?? 0) + Number(o[1]);
    const c = COUNTED.exec(line);
    if (c !== null) {
      const entry = counters.get(c[3]!) ?? { forwarded: 0, denied: 0, noNode: 0 };
      const what = c[4] === " denied" ? "denied" : c[4] === " no node" ? "noNode" : "forwarded";
      entry[what] += Number(c[1]);
      counters.set(c[3]!, entry);
    }
    const start = MAP_START.exec(line);
    if (start !== null) {
      current = new Map();
      counts.set(start[1]!, current);
      continue;
    }
    if (current !== undefined) {
      // A map's block ends at its own closing brace, one level in (a tab where nft list prints it).
      if (line === "  }" || line === "\t}") current = undefined;
      else for (const m of line.matchAll(ELEMENT)) current.set(Number(m[2]), (current.get(Number(m[2])) ?? 0) + 1);
      continue;
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
    listeners: rules.map((l) => ({
      ...l,
      ...(counters.has(l.id) ? { counters: counters.get(l.id)! } : {}),
      shares: l.shares.map((s) => ({ ...s, slots: counts.get(l.table)?.get(s.mark) ?? 0 })),
    })),
    ...(otherHost === undefined ? {} : { otherHost }),
  };
};
