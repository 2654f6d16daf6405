import { readNftablesState, type NftablesState } from "@portico/adapter-nftables";
import { run } from "@portico/host";

/**
 * How often the announcer re-reads the kernel's L4 tables: listing a 16381-slot Maglev map costs
 * nft about 200 ms of CPU on a 2-core box, too much for every 20 ms look.
 */
export const L4_TABLES_READ_MS = 1_000;

/**
 * readL4Tables reads Portico's two nftables tables (`inet portico`, `netdev portico`) as the kernel
 * runs them now; no listeners when neither exists. Undefined when nft cannot be asked in time, so a
 * caller counts a miss rather than a verdict.
 */
export const readL4Tables = async (timeoutMs: number): Promise<NftablesState | undefined> => {
  const listed: string[] = [];
  for (const family of ["inet", "netdev"]) {
    const r = await run("nft", ["list", "table", family, "portico"], { timeoutMs });
    if (r.isErr()) return undefined;
    if (r.value.code === 0) listed.push(r.value.stdout);
  }
  return readNftablesState(listed.join("\n"));
};

/**
 * cachedL4Tables answers each look at once with the last complete read of the kernel's tables and
 * starts a new read in the background when that one is older than `everyMs`; undefined until the
 * first read completes, or when the last one failed.
 */
export const cachedL4Tables = (
  everyMs: number = L4_TABLES_READ_MS,
  read: () => Promise<NftablesState | undefined> = async () => await readL4Tables(5_000),
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
