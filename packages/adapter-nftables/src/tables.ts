import { runIn } from "@portico/host";
import type { NftablesValidateOptions } from "./validate.js";

/** The address family of one of Portico's two tables: `table inet portico` (nat) or `table netdev portico` (direct). */
export type PorticoTableFamily = "inet" | "netdev";

const NAMED = /\b(inet|netdev) portico\b/g;
const LISTED = /^table (\S+) (\S+)$/gm;

/**
 * tablesNamedIn gives the families of Portico's tables that a membership transaction
 * ({@link renderNftablesMembership}) writes into: it names each of them, and no other. (Not for a
 * whole ruleset, which names the netdev table also to delete it.)
 */
export const tablesNamedIn = (text: string): ReadonlySet<PorticoTableFamily> =>
  new Set([...text.matchAll(NAMED)].map((m) => m[1] as PorticoTableFamily));

/**
 * listPorticoTables asks the kernel which of Portico's tables it holds now (`nft list tables`,
 * a few lines whatever the tables hold). Another program deleting them (`nft flush ruleset`, as
 * a host firewall's reload runs) takes every rule and map with them; the tables' absence is how
 * `portico run` tells that it must load its ruleset again. Undefined when nft cannot be asked.
 */
export const listPorticoTables = async (
  options: NftablesValidateOptions = {},
): Promise<ReadonlySet<PorticoTableFamily> | undefined> => {
  const r = await runIn(options.netns, options.binary ?? "nft", ["list", "tables"], {
    timeoutMs: options.timeoutMs ?? 5_000,
  });
  if (r.isErr() || r.value.timedOut || r.value.code !== 0) return undefined;
  const out = new Set<PorticoTableFamily>();
  for (const [, family, name] of r.value.stdout.matchAll(LISTED))
    if (name === "portico" && (family === "inet" || family === "netdev")) out.add(family);
  return out;
};
