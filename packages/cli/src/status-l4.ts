import { readNftablesState, type NftablesListenerState } from "@portico/adapter-nftables";
import { run } from "@portico/host";

/** One L4 listener as `portico status` shows it: each node's share of its table, and its counters. */
export interface L4ListenerStatus {
  readonly id: string;
  readonly mode: "nat" | "direct";
  readonly tableSize: number;
  readonly shares: readonly { readonly target: string; readonly slots: number; readonly percent: number }[];
  readonly counters?: NftablesListenerState["counters"];
}

/** What the kernel runs of Portico's L4 tables, or why it could not be read. */
export type L4Status = { readonly listeners: readonly L4ListenerStatus[] } | { readonly error: string };

/**
 * readL4Status lists Portico's two nftables tables (`inet portico`, `netdev portico`) as the kernel
 * runs them, with counters. Undefined when neither exists (no L4 data plane on this node).
 */
export const readL4Status = async (): Promise<L4Status | undefined> => {
  const listed: string[] = [];
  for (const family of ["inet", "netdev"]) {
    const r = await run("nft", ["list", "table", family, "portico"], { timeoutMs: 10_000 });
    // Without nft there is no L4 data plane to show.
    if (r.isErr()) return r.error.code === "ENOENT" ? undefined : { error: `nft: ${r.error.message}` };
    if (r.value.code === 0) listed.push(r.value.stdout);
  }
  return listed.length === 0 ? undefined : l4StatusOf(listed);
};

/** l4StatusOf is the L4 status of what `nft list table` printed for Portico's tables. */
export const l4StatusOf = (listed: readonly string[]): L4Status => {
  const state = readNftablesState(listed.join("\n"));
  return {
    listeners: state.listeners.map((l) => ({
      id: l.id,
      mode: l.mode,
      tableSize: l.size,
      shares: l.shares.map((s) => ({
        target: s.target,
        slots: s.slots,
        percent: Math.round((1000 * s.slots) / Math.max(1, l.size)) / 10,
      })),
      ...(l.counters === undefined ? {} : { counters: l.counters }),
    })),
  };
};

/** formatL4Status prints the L4 section of `portico status`: one block per listener. */
export const formatL4Status = (s: L4Status): string[] => {
  if ("error" in s) return ["", `L4 (nftables): cannot read: ${s.error}`];
  const out = ["", `L4 (nftables): ${s.listeners.length} listener${s.listeners.length === 1 ? "" : "s"}`];
  for (const l of s.listeners) {
    const c = l.counters;
    const counted =
      c === undefined ? "" : `  forwarded ${c.forwarded}, denied ${c.denied}, no node ${c.noNode} packets`;
    out.push(`  ${l.id}  ${l.mode}  Maglev ${l.tableSize}${counted}`);
    for (const sh of l.shares) out.push(`    ${sh.target}  ${sh.slots} slots (${sh.percent}%)`);
  }
  return out;
};
