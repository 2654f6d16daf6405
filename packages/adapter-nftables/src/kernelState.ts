import { runIn } from "@portico/host";
import { readNftablesState, type NftablesState } from "./state.js";
import type { NftablesValidateOptions } from "./validate.js";

const MAP_NAME = /^mg_[0-9a-f]{8}$/;
const ELEMENT = /(\d+) : (0x[0-9a-f]+|\d+)/g;

/** Each mark's slots in what `nft list map` printed of one Maglev map. */
const slotsOf = (listed: string): Map<number, number> => {
  const slots = new Map<number, number>();
  const at = listed.indexOf("elements = {");
  if (at < 0) return slots;
  for (const m of listed.slice(at).matchAll(ELEMENT)) slots.set(Number(m[2]), (slots.get(Number(m[2])) ?? 0) + 1);
  return slots;
};

/**
 * readNftablesKernelState gives the listeners of an installed ruleset (`installed`: the text of the
 * file Portico loaded) with each Maglev map's slots as the kernel holds them now. It lists the
 * maps one by one (`nft list map`), never a whole table: to list `table netdev portico` nft
 * fetches every flow pin in it (1.5 s of CPU with a full map of 65536), while one 16381-slot map
 * lists in under 0.1 s. A map the kernel does not have holds no slots, so a listener whose load
 * failed reads as empty. Undefined when nft cannot be asked in time.
 */
export const readNftablesKernelState = async (
  installed: string,
  options: NftablesValidateOptions = {},
): Promise<NftablesState | undefined> => {
  const planned = readNftablesState(installed);
  const binary = options.binary ?? "nft";
  const kernel = new Map<string, Map<number, number>>();
  for (const l of planned.listeners) {
    const family = l.mode === "nat" ? "inet" : "netdev";
    const key = `${family} ${l.table}`;
    if (kernel.has(key) || !MAP_NAME.test(l.table)) continue;
    const args = ["list", "map", family, "portico", l.table];
    const r = await runIn(options.netns, binary, args, { timeoutMs: options.timeoutMs ?? 5_000 });
    if (r.isErr() || r.value.timedOut) return undefined;
    // nft exits 1 for a map (or table) that does not exist: nothing of it is installed.
    kernel.set(key, r.value.code === 0 ? slotsOf(r.value.stdout) : new Map());
  }
  return {
    listeners: planned.listeners.map((l) => {
      const slots = kernel.get(`${l.mode === "nat" ? "inet" : "netdev"} ${l.table}`) ?? new Map<number, number>();
      return { ...l, shares: l.shares.map((s) => ({ ...s, slots: slots.get(s.mark) ?? 0 })) };
    }),
  };
};
