import { readFile } from "node:fs/promises";
import { ResultAsync, err, ok } from "neverthrow";
import type { AdapterError, ApplyFn } from "@portico/core";
import { writeFileAtomic } from "@portico/host";
import { failure, nftFile, type NftablesValidateOptions } from "./validate.js";

/** Options for {@link applyNftables}. */
export interface NftablesApplyOptions extends NftablesValidateOptions {
  /** Where the ruleset is written (config `nftables.configPath`) before nft -f loads it. */
  readonly configPath: string;
}

/** What {@link applyNftables} did: `loaded` the whole ruleset, or `unchanged` (same text, already loaded). */
export type NftablesApplyOutcome = "unchanged" | "loaded";

const readText = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
};

/**
 * applyNftables installs a rendered ruleset: `nft -c` first (a ruleset nft refuses is never
 * written nor loaded), then the file written atomically and loaded with `nft -f`, which replaces
 * Portico's tables in one transaction. Text equal to the installed file is loaded only when `force`.
 */
export const applyNftables: ApplyFn<
  string,
  NftablesApplyOptions & { readonly force?: boolean },
  NftablesApplyOutcome
> = (text, options) =>
  new ResultAsync(
    (async () => {
      if (!options.force && (await readText(options.configPath)) === text) return ok("unchanged" as const);
      const checked = await nftFile(text, ["-c"], options, "check");
      if (checked.isErr()) return err(checked.error);
      const written = await writeFileAtomic(options.configPath, text, { mode: 0o644 });
      if (written.isErr()) return err(failure("io", written.error.message));
      const loaded = await nftFile(text, [], options, "load");
      return loaded.isErr() ? err<NftablesApplyOutcome, AdapterError>(loaded.error) : ok("loaded" as const);
    })(),
  );

/**
 * applyNftablesMembership loads a membership transaction ({@link renderNftablesMembership}'s
 * text) with `nft -f`: the maps' elements change in one transaction; rules, sets, counters and
 * conntrack stay. The file at `configPath` is not rewritten (the next full apply writes it).
 */
export const applyNftablesMembership: ApplyFn<string, NftablesValidateOptions, void> = (text, options) =>
  new ResultAsync(nftFile(text, [], options, "load"));
