import { hash8 } from "@portico/core";
import type { View, ViewListener, ViewTable } from "./_view.js";

/** The name of Portico's tables, in the inet family (nat) and the netdev family (direct). */
export const TABLE = "portico";
// The same seed on every LB node, so every LB node hashes a flow to the same slot.
const SEED = "0x706f7274";
const PER_LINE = 12;

/** The elements of a table's map: slot -> mark of the member holding it; empty when nobody is up. */
export const tableElements = (t: ViewTable): string[] => {
  const markOf = new Map(t.members.map((m, i) => [m.name, i + 1]));
  const marks = t.table.members.map((m) => markOf.get(m.name)!);
  return t.table.slots.map((s, slot) => `${slot} : ${marks[s]}`);
};

/** The `elements = { ... }` lines of a set or map, wrapped, or nothing for an empty one. */
export const elementLines = (items: readonly string[], indent: string): string[] => {
  if (items.length === 0) return [];
  const rows: string[] = [];
  for (let i = 0; i < items.length; i += PER_LINE) rows.push(items.slice(i, i + PER_LINE).join(", "));
  return [
    `${indent}elements = {`,
    ...rows.map((r, i) => `${indent}  ${r}${i < rows.length - 1 ? "," : ""}`),
    `${indent}}`,
  ];
};

const mapBlock = (t: ViewTable): string[] => [
  `  map ${t.name} {`,
  "    typeof numgen inc mod 2 : meta mark",
  ...elementLines(tableElements(t), "    "),
  "  }",
];

const ip = (family: 4 | 6): "ip" | "ip6" => (family === 4 ? "ip" : "ip6");
const rangesSet = (l: ViewListener): string => `src_${hash8(l.id)}`;
const addr = (l: ViewListener, a: string): string => (l.family === 6 && l.mode === "nat" ? `[${a}]` : a);

/** The rules of one listener: source ranges dropped, the Maglev choice, and a drop when no node is up. */
const listenerRules = (l: ViewListener, device: string): string[] => {
  const match = `${ip(l.family)} daddr ${l.vip} ${l.protocol} dport ${l.port}`;
  const out: string[] = [];
  if (l.admitsNone) out.push(`    ${match} counter drop comment "${l.id} denied"`);
  else if (l.sourceRanges.length > 0)
    out.push(`    ${match} ${ip(l.family)} saddr != @${rangesSet(l)} counter drop comment "${l.id} denied"`);
  const key = l.hashSourceOnly ? `${ip(l.family)} saddr` : `${ip(l.family)} saddr . ${l.protocol} sport`;
  const choose = `meta mark set jhash ${key} mod ${l.table.size} seed ${SEED} map @${l.table.name}`;
  const targets = l.servers
    .map((s) => (l.mode === "nat" ? `${s.mark} : ${addr(l, s.address)} . ${s.port}` : `${s.mark} : ${s.address}`))
    .join(", ");
  if (l.servers.length > 0) {
    const action =
      l.mode === "nat"
        ? `dnat ${ip(l.family)} to meta mark map { ${targets} }`
        : `fwd ${ip(l.family)} to meta mark map { ${targets} } device "${device}"`;
    out.push(`    ${match} ${choose} counter ${action} comment "${l.id}"`);
  }
  out.push(`    ${match} counter drop comment "${l.id} no node"`);
  return out;
};

const rangeSets = (ls: readonly ViewListener[]): string[] =>
  ls
    .filter((l) => l.sourceRanges.length > 0)
    .flatMap((l) => [
      `  set ${rangesSet(l)} {`,
      `    type ${l.family === 4 ? "ipv4_addr" : "ipv6_addr"}`,
      "    flags interval",
      ...elementLines(l.sourceRanges, "    "),
      "  }",
    ]);

/** The whole ruleset: Portico's own tables replaced in one transaction, nothing else touched. */
export const printRuleset = (v: View): string => {
  const nat = v.listeners.filter((l) => l.mode === "nat");
  const direct = v.listeners.filter((l) => l.mode === "direct");
  const tablesOf = (ls: readonly ViewListener[]) => v.tables.filter((t) => ls.some((l) => l.table === t));
  const natVips = (family: 4 | 6) => [...new Set(nat.filter((l) => l.family === family).map((l) => l.vip))];
  const lines = [
    `# Portico L4 data plane for LB node ${v.node}. Load with nft -f: it replaces Portico's own`,
    `# tables (inet ${TABLE}, netdev ${TABLE}) in one transaction and touches nothing else.`,
    `table inet ${TABLE} {}`,
    `delete table inet ${TABLE}`,
    `table netdev ${TABLE} {}`,
    `delete table netdev ${TABLE}`,
    `table inet ${TABLE} {`,
    ...tablesOf(nat).flatMap(mapBlock),
    ...rangeSets(nat),
  ];
  for (const family of [4, 6] as const) {
    const vips = natVips(family);
    if (vips.length === 0) continue;
    lines.push(`  set nat${family} {`, `    type ${family === 4 ? "ipv4_addr" : "ipv6_addr"}`);
    lines.push(...elementLines(vips, "    "), "  }");
  }
  lines.push("  chain prerouting {", "    type nat hook prerouting priority dstnat; policy accept;");
  lines.push(...nat.flatMap((l) => listenerRules(l, v.interface)), "  }");
  // Replies must come back through this LB node, so the node sees the LB node as the client.
  lines.push("  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;");
  for (const family of [4, 6] as const)
    if (natVips(family).length > 0)
      lines.push(`    ct status dnat ct original ${ip(family)} daddr @nat${family} counter masquerade`);
  lines.push("  }", "}");
  if (direct.length > 0) {
    lines.push(`table netdev ${TABLE} {`, ...tablesOf(direct).flatMap(mapBlock), ...rangeSets(direct));
    lines.push(
      "  chain ingress {",
      `    type filter hook ingress device "${v.interface}" priority -100; policy accept;`,
    );
    lines.push(...direct.flatMap((l) => listenerRules(l, v.interface)), "  }", "}");
  }
  return `${lines.join("\n")}\n`;
};

/**
 * The transaction that moves nodes in or out of every table: each map's elements replaced in
 * one `nft -f`, so packets see the old table or the new one and no rule, set or counter changes.
 */
export const printMembership = (v: View): string => {
  const lines = [`# Portico L4 tables for LB node ${v.node}: element updates only, one transaction.`];
  for (const [family, mode] of [
    ["inet", "nat"],
    ["netdev", "direct"],
  ] as const) {
    for (const t of v.tables.filter((x) => v.listeners.some((l) => l.table === x && l.mode === mode))) {
      lines.push(`flush map ${family} ${TABLE} ${t.name}`);
      const items = tableElements(t);
      if (items.length > 0)
        lines.push(`add element ${family} ${TABLE} ${t.name} {`, ...elementLines(items, "  ").slice(1));
    }
  }
  return `${lines.join("\n")}\n`;
};
