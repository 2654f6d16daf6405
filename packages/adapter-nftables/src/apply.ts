import { ResultAsync, err, ok } from "neverthrow";
import type { AdapterError, ApplyFn } from "@portico/core";
import { readTextIfAny, runIn, writeFileAtomic } from "@portico/host";
import { sweepOf } from "./_sweep.js";
import { failure, nftFile, type NftablesValidateOptions } from "./validate.js";

/** Options for {@link applyNftables}. */
export interface NftablesApplyOptions extends NftablesValidateOptions {
  /** Where the ruleset is written (config `nftables.configPath`) before nft -f loads it. */
  readonly configPath: string;
}

/** What {@link applyNftables} did: `loaded` the whole ruleset, or `unchanged` (same text, already loaded). */
export type NftablesApplyOutcome = "unchanged" | "loaded";

/** The installed netdev table without its elements (pins and all), or undefined when there is none. */
const listNetdev = async (options: NftablesValidateOptions): Promise<string | undefined> => {
  const binary = options.binary ?? "nft";
  const args = ["-t", "list", "table", "netdev", "portico"];
  const r = await runIn(options.netns, binary, args, { timeoutMs: options.timeoutMs ?? 30_000 });
  return r.isOk() && r.value.code === 0 && !r.value.timedOut ? r.value.stdout : undefined;
};

/**
 * applyNftables installs a rendered ruleset: `nft -c` first (a ruleset nft refuses is never
 * written nor loaded), then the file written atomically and loaded with `nft -f`, which replaces
 * Portico's tables in one transaction but keeps the netdev table's flow pins; then what the older
 * ruleset named and this one does not is deleted. Text equal to the installed file is loaded only
 * when `force`.
 */
export const applyNftables: ApplyFn<
  string,
  NftablesApplyOptions & { readonly force?: boolean },
  NftablesApplyOutcome
> = (text, options) =>
  new ResultAsync(
    (async () => {
      if (!options.force && (await readTextIfAny(options.configPath)) === text) return ok("unchanged" as const);
      const checked = await nftFile(text, ["-c"], options, "check");
      if (checked.isErr()) return err(checked.error);
      const written = await writeFileAtomic(options.configPath, text, { mode: 0o644 });
      if (written.isErr()) return err(failure("io", written.error.message));
      const loaded = await nftFile(text, [], options, "load");
      if (loaded.isErr()) return err<NftablesApplyOutcome, AdapterError>(loaded.error);
      // What an older ruleset named and this one does not: unreferenced now, deleted in a second
      // transaction (a failure leaves only unused objects behind, swept at the next load).
      const installed = await listNetdev(options);
      const sweep = installed === undefined ? undefined : sweepOf(installed, text);
      if (sweep !== undefined) await nftFile(sweep, [], options, "load");
      return ok("loaded" as const);
    })(),
  );

/**
 * applyNftablesMembership loads a membership transaction ({@link renderNftablesMembership}'s
 * text) with `nft -f`: the maps' elements change in one transaction; rules, sets, counters and
 * conntrack stay. The file at `configPath` is not rewritten (the next full apply writes it).
 */
export const applyNftablesMembership: ApplyFn<string, NftablesValidateOptions, void> = (text, options) =>
  new ResultAsync(nftFile(text, [], options, "load"));
