import { elementLines, hex, TABLE, tableElements, upElements } from "./_print.js";
import type { View, ViewTable } from "./_view.js";

/** Each table of a view with the nftables family it lives in: nat's in `inet`, direct's in `netdev`. */
const tablesByFamily = (v: View): { readonly family: string; readonly mode: string; readonly table: ViewTable }[] =>
  (
    [
      ["inet", "nat"],
      ["netdev", "direct"],
    ] as const
  ).flatMap(([family, mode]) =>
    v.tables
      .filter((t) => v.listeners.some((l) => l.table === t && l.mode === mode))
      .map((table) => ({ family, mode, table })),
  );

const header = (v: View): string => `# Portico L4 tables for LB node ${v.node}: element updates only, one transaction.`;

/**
 * The transaction that moves nodes in or out of every table: each map's elements replaced in
 * one `nft -f`, so packets see the old table or the new one and no rule, set or counter changes.
 */
export const printMembership = (v: View): string => {
  const lines = [header(v)];
  for (const { family, mode, table: t } of tablesByFamily(v)) {
    lines.push(`flush map ${family} ${TABLE} ${t.name}`);
    const items = tableElements(t);
    if (items.length > 0)
      lines.push(`add element ${family} ${TABLE} ${t.name} {`, ...elementLines(items, "  ").slice(1));
    if (mode !== "direct") continue;
    // Pins stay: a flow pinned to a node that left its table is hashed again at its next packet.
    lines.push(`flush set ${family} ${TABLE} ${t.up}`);
    const up = upElements(t);
    if (up.length > 0) lines.push(`add element ${family} ${TABLE} ${t.up} {`, ...elementLines(up, "  ").slice(1));
  }
  return `${lines.join("\n")}\n`;
};

/** Each slot's mark, as numbers: empty when nobody is up. */
const slotMarks = (t: ViewTable): number[] => {
  const markOf = new Map(t.members.map((m) => [m.name, m.mark]));
  const marks = t.table.members.map((m) => markOf.get(m.name)!);
  return t.table.slots.map((s) => marks[s]!);
};

/** `delete element` (keys) then `add element` (items) of one map or set, each only when not empty. */
const change = (family: string, name: string, keys: readonly string[], items: readonly string[]): string[] => [
  ...(keys.length > 0 ? [`delete element ${family} ${TABLE} ${name} {`, ...elementLines(keys, "  ").slice(1)] : []),
  ...(items.length > 0 ? [`add element ${family} ${TABLE} ${name} {`, ...elementLines(items, "  ").slice(1)] : []),
];

/**
 * The transaction that takes tables holding `from`'s elements to `to`'s (two views of one plan,
 * under different verdicts): only the slots whose node changes are deleted and added again, and
 * only the marks that leave or join an `up_` set, so a node failing one check in a table of 16381
 * slots changes about its own share of them rather than all. A table `from` does not have is
 * replaced whole. One `nft -f`: packets see the old table or the new one; an element the kernel
 * does not hold fails the whole transaction, which then changes nothing.
 */
export const printMembershipChange = (from: View, to: View): string => {
  const before = new Map(tablesByFamily(from).map((x) => [`${x.family} ${x.table.name}`, x.table]));
  const lines = [header(to)];
  for (const { family, mode, table: t } of tablesByFamily(to)) {
    const was = before.get(`${family} ${t.name}`);
    if (was === undefined) {
      lines.push(`flush map ${family} ${TABLE} ${t.name}`, ...change(family, t.name, [], tableElements(t)));
    } else {
      // Marks compared as numbers, and printed only where they differ. A table that empties has no
      // slots left, one that fills has none before.
      const [old, now] = [slotMarks(was), slotMarks(t)];
      const keys: string[] = [];
      const items: string[] = [];
      for (let s = 0; s < Math.max(old.length, now.length); s++) {
        if (old[s] === now[s]) continue;
        if (s < old.length) keys.push(String(s));
        if (s < now.length) items.push(`${s} : ${hex(now[s]!)}`);
      }
      lines.push(...change(family, t.name, keys, items));
    }
    if (mode !== "direct") continue;
    const up = upElements(t);
    if (was === undefined) {
      lines.push(`flush set ${family} ${TABLE} ${t.up}`, ...change(family, t.up, [], up));
      continue;
    }
    const [oldUp, newUp] = [new Set(upElements(was)), new Set(up)];
    lines.push(
      ...change(
        family,
        t.up,
        [...oldUp].filter((m) => !newUp.has(m)),
        up.filter((m) => !oldUp.has(m)),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
};
