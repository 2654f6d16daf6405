import { hash8, type MaglevTable } from "@portico/core";
import { hashKey, ip, pinDeclarations, pinnedRules } from "./_pins.js";
import type { View, ViewListener, ViewTable } from "./_view.js";

/** The name of Portico's tables, in the inet family (nat) and the netdev family (direct). */
export const TABLE = "portico";
// The same seed on every LB node, so every LB node hashes a flow to the same slot.
const SEED = "0x706f7274";
// The spill hash's own seed, so a flow's spill slot does not follow its primary slot.
const SPILL_SEED = "0x7370696c";
const PER_LINE = 12;
/** The comment of the netdev chain's first rule, which lets by every frame not addressed to this host alone. */
export const OTHER_HOST = "not for this host";

/** A mark as nft prints it. */
export const hex = (mark: number): string => `0x${mark.toString(16).padStart(8, "0")}`;

/** The elements of a Maglev map: slot -> mark of the member holding it; empty when it has no member. */
const slotElements = (t: ViewTable, table: MaglevTable): string[] => {
  const markOf = new Map(t.members.map((m) => [m.name, hex(m.mark)]));
  const marks = table.members.map((m) => markOf.get(m.name)!);
  return table.slots.map((s, slot) => `${slot} : ${marks[s]}`);
};

/** The primary map's elements, over every planned member. */
export const tableElements = (t: ViewTable): string[] => slotElements(t, t.table);
/** The spill map's elements, over the members that are up. */
export const spillElements = (t: ViewTable): string[] => slotElements(t, t.spillTable);

/** The marks of the members that are up: a flow whose primary slot or pin names another is hashed again. */
export const upElements = (t: ViewTable): string[] => {
  const markOf = new Map(t.members.map((m) => [m.name, hex(m.mark)]));
  return t.spillTable.members.map((m) => markOf.get(m.name)!);
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

const mapBlock = (t: ViewTable, elements = true): string[] => [
  `  map ${t.name} {`,
  "    typeof numgen inc mod 2 : meta mark",
  ...(elements ? elementLines(tableElements(t), "    ") : []),
  "  }",
  `  map ${t.spill} {`,
  "    typeof numgen inc mod 2 : meta mark",
  ...(elements ? elementLines(spillElements(t), "    ") : []),
  "  }",
];
const upBlock = (t: ViewTable, elements = true): string[] => [
  `  set ${t.up} {`,
  "    typeof meta mark",
  ...(elements ? elementLines(upElements(t), "    ") : []),
  "  }",
];

const rangesSet = (l: ViewListener): string => `src_${hash8(l.id)}`;
const addr = (l: ViewListener, a: string): string => (l.family === 6 && l.mode === "nat" ? `[${a}]` : a);

/**
 * The rules of one listener: source ranges dropped; the primary Maglev choice when it names a node
 * that is up, else the spill table's; and a drop when no node is up.
 */
const listenerRules = (l: ViewListener, device: string): string[] => {
  const match = `${ip(l.family)} daddr ${l.vip} ${l.protocol} dport ${l.port}`;
  const out: string[] = [];
  if (l.admitsNone) out.push(`    ${match} counter drop comment "${l.id} denied"`);
  else if (l.sourceRanges.length > 0)
    out.push(`    ${match} ${ip(l.family)} saddr != @${rangesSet(l)} counter drop comment "${l.id} denied"`);
  const key = hashKey(l);
  const t = l.table;
  const chooses = [
    `meta mark set jhash ${key} mod ${t.size} seed ${SEED} map @${t.name} meta mark @${t.up}`,
    `meta mark set jhash ${key} mod ${t.spillTable.size} seed ${SPILL_SEED} map @${t.spill}`,
  ];
  const targets = l.servers
    .map((s) =>
      l.mode === "nat" ? `${hex(s.mark)} : ${addr(l, s.address)} . ${s.port}` : `${hex(s.mark)} : ${s.address}`,
    )
    .join(", ");
  if (l.servers.length > 0) {
    const action =
      l.mode === "nat"
        ? `dnat ${ip(l.family)} to meta mark map { ${targets} }`
        : `fwd ${ip(l.family)} to meta mark map { ${targets} } device "${device}"`;
    if (l.pins !== undefined) out.push(...pinnedRules(l, match, chooses, action));
    // The plain rules also forward the flows a full pin map could not take.
    for (const choose of chooses) out.push(`    ${match} ${choose} counter ${action} comment "${l.id}"`);
  }
  out.push(`    ${match} counter drop comment "${l.id} no node"`);
  return out;
};

const rangeSets = (ls: readonly ViewListener[], elements = true): string[] =>
  ls
    .filter((l) => l.sourceRanges.length > 0)
    .flatMap((l) => [
      `  set ${rangesSet(l)} {`,
      `    type ${l.family === 4 ? "ipv4_addr" : "ipv6_addr"}`,
      "    flags interval",
      ...(elements ? elementLines(l.sourceRanges, "    ") : []),
      "  }",
    ]);

/**
 * The netdev table without losing its flow pins: the pin maps are declared (kept, with their
 * flows, when they exist), every rule is flushed, and every other map, set and the chain are
 * replaced; objects of an older ruleset that this one does not name are left for the apply's sweep.
 */
const netdevTable = (v: View, direct: readonly ViewListener[], tables: readonly ViewTable[]): string[] => {
  const chain = `ingress_${v.interface}`;
  const replaced = [
    ...tables.flatMap((t) => [`map ${t.name}`, `map ${t.spill}`, `set ${t.up}`]),
    ...direct.filter((l) => l.sourceRanges.length > 0).map((l) => `set ${rangesSet(l)}`),
  ];
  return [
    `table netdev ${TABLE} {`,
    ...direct.flatMap(pinDeclarations),
    "}",
    `flush table netdev ${TABLE}`,
    `table netdev ${TABLE} {`,
    ...tables.flatMap((t) => [...mapBlock(t, false), ...upBlock(t, false)]),
    ...rangeSets(direct, false),
    "}",
    ...replaced.map((o) => `delete ${o.replace(" ", ` netdev ${TABLE} `)}`),
    `table netdev ${TABLE} {`,
    ...tables.flatMap((t) => [...mapBlock(t), ...upBlock(t)]),
    ...rangeSets(direct),
    `  chain ${chain} {`,
    `    type filter hook ingress device "${v.interface}" priority -100; policy accept;`,
    // Netdev ingress runs before the kernel drops frames for another host: a frame the switch
    // floods to this port (a master's MAC it does not know) is the master's to forward, not ours.
    `    meta pkttype != host counter accept comment "${OTHER_HOST}"`,
    ...direct.flatMap((l) => listenerRules(l, v.interface)),
    "  }",
    "}",
  ];
};

/**
 * The whole ruleset: Portico's own tables replaced in one transaction, nothing else touched; the
 * netdev table's flow pins kept.
 */
export const printRuleset = (v: View): string => {
  const nat = v.listeners.filter((l) => l.mode === "nat");
  const direct = v.listeners.filter((l) => l.mode === "direct");
  const tablesOf = (ls: readonly ViewListener[]) => v.tables.filter((t) => ls.some((l) => l.table === t));
  const natVips = (family: 4 | 6) => [...new Set(nat.filter((l) => l.family === family).map((l) => l.vip))];
  const lines = [
    `# Portico L4 data plane for LB node ${v.node}. Load with nft -f: it replaces Portico's own`,
    `# tables (inet ${TABLE}, netdev ${TABLE}) in one transaction and touches nothing else;`,
    `# the flows pinned in the netdev table stay pinned.`,
    `table inet ${TABLE} {}`,
    `delete table inet ${TABLE}`,
    ...(direct.length > 0 ? [] : [`table netdev ${TABLE} {}`, `delete table netdev ${TABLE}`]),
    `table inet ${TABLE} {`,
    ...tablesOf(nat).flatMap((t) => [...mapBlock(t), ...upBlock(t)]),
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
  if (direct.length > 0) lines.push(...netdevTable(v, direct, tablesOf(direct)));
  return `${lines.join("\n")}\n`;
};

/**
 * The transaction that moves nodes in or out of every table: each `up_` set and spill map replaced
 * in one `nft -f`, so packets see the old members or the new ones and no rule, primary map, set or
 * counter changes. Its size follows the spill maps (251 slots up to 31 nodes), never the tables'.
 */
export const printMembership = (v: View): string => {
  const lines = [`# Portico L4 tables for LB node ${v.node}: element updates only, one transaction.`];
  for (const [family, mode] of [
    ["inet", "nat"],
    ["netdev", "direct"],
  ] as const) {
    for (const t of v.tables.filter((x) => v.listeners.some((l) => l.table === x && l.mode === mode))) {
      lines.push(`flush map ${family} ${TABLE} ${t.spill}`);
      const items = spillElements(t);
      if (items.length > 0)
        lines.push(`add element ${family} ${TABLE} ${t.spill} {`, ...elementLines(items, "  ").slice(1));
      // Pins stay: a flow pinned to a node that is not up is hashed again at its next packet.
      lines.push(`flush set ${family} ${TABLE} ${t.up}`);
      const up = upElements(t);
      if (up.length > 0) lines.push(`add element ${family} ${TABLE} ${t.up} {`, ...elementLines(up, "  ").slice(1));
    }
  }
  return `${lines.join("\n")}\n`;
};
