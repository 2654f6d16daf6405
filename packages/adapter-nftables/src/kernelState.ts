import { runIn } from "@portico/host";
import { objectsOf, readNftablesState, withShares, type NftablesState } from "./state.js";
import type { NftablesValidateOptions } from "./validate.js";

/**
 * readNftablesKernelState gives the listeners of an installed ruleset (`installed`: the text of the
 * file Portico loaded) with each node's slots as the kernel's maps and `up_` sets hold them now. It
 * lists them one by one (`nft list map`, `nft list set`), never a whole table: to list `table
 * netdev portico` nft fetches every flow pin in it (1.5 s of CPU with a full map of 65536), while one 16381-slot map
 * lists in under 0.1 s. A map the kernel does not have holds no slots, so a listener whose load
 * failed reads as empty. Undefined when nft cannot be asked in time.
 */
export const readNftablesKernelState = async (
  installed: string,
  options: NftablesValidateOptions = {},
): Promise<NftablesState | undefined> => {
  const planned = readNftablesState(installed);
  const declared = objectsOf(installed);
  const binary = options.binary ?? "nft";
  const kernel = { inet: objectsOf(""), netdev: objectsOf("") };
  const listed = new Set<string>();
  for (const l of planned.listeners) {
    const family = l.mode === "nat" ? "inet" : "netdev";
    const h = l.table.slice("mg_".length);
    // Only what the file declares: an older ruleset's nat table has no up_ set and no spill map.
    const objects = [
      ["map", l.table],
      ["map", `sp_${h}`],
      ["set", `up_${h}`],
    ].filter(([kind, name]) => (kind === "map" ? declared.maps : declared.sets).has(name!));
    for (const [kind, name] of objects) {
      if (listed.has(`${family} ${name}`)) continue;
      listed.add(`${family} ${name}`);
      const r = await runIn(options.netns, binary, ["list", kind!, family, "portico", name!], {
        timeoutMs: options.timeoutMs ?? 5_000,
      });
      if (r.isErr() || r.value.timedOut) return undefined;
      // nft exits 1 for a map (or table) that does not exist: nothing of it is installed.
      if (r.value.code === 0) objectsOf(r.value.stdout, kernel[family]);
      else if (kind === "map") kernel[family].maps.set(name!, new Map());
      else kernel[family].sets.set(name!, new Set());
    }
  }
  return {
    listeners: planned.listeners.map((l) => withShares([l], kernel[l.mode === "nat" ? "inet" : "netdev"])[0]!),
  };
};
