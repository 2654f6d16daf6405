import { readFile } from "node:fs/promises";
import { readNftablesKernelState, type NftablesState } from "@portico/adapter-nftables";

/**
 * How often the announcer re-reads the kernel's L4 tables: listing one 16381-slot Maglev map costs
 * nft up to about 100 ms of CPU on a 2-core box (the larger tables of a cluster over 32 nodes
 * about in proportion to their slots), too much for every 20 ms look.
 */
export const L4_TABLES_READ_MS = 1_000;

/**
 * readL4Tables reads what the kernel runs of the L4 ruleset installed at `installedPath` (config
 * `nftables.configPath`): its listeners, with each Maglev map's slots listed from the kernel map
 * by map (never a whole table, which would make nft fetch every flow pin). Undefined when the
 * file cannot be read or nft cannot be asked in time, so a caller counts a miss rather than a
 * verdict.
 */
export const readL4Tables = async (timeoutMs: number, installedPath: string): Promise<NftablesState | undefined> => {
  const installed = await readFile(installedPath, "utf8").catch(() => undefined);
  return installed === undefined ? undefined : await readNftablesKernelState(installed, { timeoutMs });
};

/**
 * cachedL4Tables answers each look at once with the last complete read of the kernel's tables and
 * starts a new read in the background when that one is older than `everyMs`; undefined until the
 * first read completes, or when the last one failed.
 */
export const cachedL4Tables = (
  installedPath: string,
  everyMs: number = L4_TABLES_READ_MS,
  read: () => Promise<NftablesState | undefined> = async () => await readL4Tables(5_000, installedPath),
  now: () => number = () => performance.now(),
): (() => Promise<NftablesState | undefined>) => {
  let last: { readonly at: number; readonly state: NftablesState | undefined } | undefined;
  let reading = false;
  return async () => {
    if (!reading && (last === undefined || now() - last.at >= everyMs)) {
      reading = true;
      const at = now();
      void read().then((state) => {
        last = { at, state };
        reading = false;
      });
    }
    return last?.state;
  };
};
