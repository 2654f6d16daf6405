import { TABLE } from "./_print.js";

// A full load keeps the netdev table (its flow pins live there), so the maps, sets and chains an
// older ruleset named and this one does not stay behind, unreferenced, until swept.

const DECLARED = /^\s*(map|set|chain) ([A-Za-z0-9_.-]+) \{\s*$/;

/** The maps, sets and chains declared in the `table netdev portico` blocks of `text`, as `kind name`. */
export const netdevObjects = (text: string): Set<string> => {
  const out = new Set<string>();
  let inside = false;
  let depth = 0;
  for (const line of text.split("\n")) {
    if (!inside) {
      inside = /^table netdev portico \{\s*$/.test(line);
      depth = 0;
      continue;
    }
    if (/^\}\s*$/.test(line)) {
      inside = false;
      continue;
    }
    const d = DECLARED.exec(line);
    if (d !== null && depth === 0) out.add(`${d[1]} ${d[2]}`);
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
  }
  return out;
};

/**
 * The transaction deleting what the installed netdev table (`nft -t list table netdev portico`)
 * holds and the loaded ruleset `text` does not name; undefined when nothing is stale. Chains
 * first: a stale chain is empty (the load flushed every rule), and a map is deleted only unused.
 */
export const sweepOf = (installed: string, text: string): string | undefined => {
  const wanted = netdevObjects(text);
  const stale = [...netdevObjects(installed)].filter((o) => !wanted.has(o));
  if (stale.length === 0) return undefined;
  stale.sort((a, b) => Number(b.startsWith("chain")) - Number(a.startsWith("chain")));
  return `${stale.map((o) => `delete ${o.replace(" ", ` netdev ${TABLE} `)}`).join("\n")}\n`;
};
