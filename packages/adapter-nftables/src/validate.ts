import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import type { AdapterError, ValidateFn } from "@portico/core";
import { isNetnsName, runIn } from "@portico/host";

/** Options for {@link validateNftables}. */
export interface NftablesValidateOptions {
  /** The nft program; default `nft` (found on PATH). */
  readonly binary?: string;
  /** Check inside this network namespace (`ip netns exec`): `direct` rules name a device that must exist there. */
  readonly netns?: string;
  /** Give up after this long; default 30 s. */
  readonly timeoutMs?: number;
}

const MAX_LINES = 20;

/** An nftables adapter error. */
export const failure = (kind: AdapterError["kind"], message: string, hint?: string): AdapterError => ({
  kind,
  adapter: "nftables",
  message,
  ...(hint === undefined ? {} : { hint }),
});

/** Run `nft <args...> -f <file with text>` (in `netns` when given), with nft's own lines on failure. */
export const nftFile = async (
  text: string,
  args: readonly string[],
  options: NftablesValidateOptions,
  what: string,
): Promise<Result<void, AdapterError>> => {
  const binary = options.binary ?? "nft";
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { netns } = options;
  if (netns !== undefined && !isNetnsName(netns))
    return err(failure("validate", `netns ${JSON.stringify(netns)} is not a network namespace name`));
  let dir: string;
  try {
    dir = await mkdtemp(join(tmpdir(), "portico-nftables-"));
  } catch (e) {
    return err(failure("io", `cannot create a temporary directory: ${(e as Error).message}`));
  }
  try {
    const file = join(dir, "nftables.conf");
    await writeFile(file, text, { encoding: "utf8", mode: 0o600 });
    const nftArgs = [...args, "-f", file];
    const command = netns === undefined ? binary : "ip";
    const r = await runIn(netns, binary, nftArgs, { timeoutMs });
    if (r.isErr())
      return err(
        failure(
          "unavailable",
          r.error.code === "ENOENT" ? `${command} is not installed: ${r.error.message}` : r.error.message,
          "apt-get install -y nftables",
        ),
      );
    if (r.value.timedOut) return err(failure(what === "check" ? "validate" : "apply", `${binary} did not finish`));
    if (r.value.code === 0) return ok(undefined);
    const lines = `${r.value.stderr}\n${r.value.stdout}`
      .split("\n")
      .map((l) => l.split(file).join("nftables.conf").trimEnd())
      .filter((l) => l.trim() !== "")
      .slice(0, MAX_LINES);
    if (lines.some((l) => l.startsWith("exec of ") && l.includes("No such file")))
      return err(failure("unavailable", lines.join("; "), "apt-get install -y nftables"));
    return err(
      failure(
        what === "check" ? "validate" : "apply",
        `${binary} ${what === "check" ? "-c" : ""} refused the ruleset (exit ${r.value.code ?? r.value.signal}):\n` +
          lines.join("\n"),
        "A direct listener's device must exist where nft runs: check on the LB node or pass netns.",
      ),
    );
  } catch (e) {
    return err(failure("io", `cannot write the ruleset to check: ${(e as Error).message}`));
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
};

/**
 * validateNftables checks ruleset text with the real `nft -c -f` (optionally inside a network
 * namespace): Ok when nft accepts it, Err `validate` with nft's own lines when it does not, Err
 * `unavailable` without nft. Nothing is loaded.
 */
export const validateNftables: ValidateFn<NftablesValidateOptions> = (text, options) =>
  new ResultAsync(nftFile(text, ["-c"], options, "check"));
