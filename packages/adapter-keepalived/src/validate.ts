import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import type { AdapterError, ValidateFn } from "@portico/core";
import { isNetnsName, runIn, type RunOutput } from "@portico/host";

/** Options for {@link validateKeepalived}. */
export interface KeepalivedValidateOptions {
  /** The keepalived program; default `keepalived` (found on PATH). */
  readonly binary?: string;
  /**
   * Run the check inside this network namespace (`ip netns exec <netns> keepalived -t ...`).
   * keepalived rejects a config whose interface does not exist where it runs, so validate
   * somewhere that has the LB node's interface.
   */
  readonly netns?: string;
  /** Give up after this long; default 30 s. */
  readonly timeoutMs?: number;
}

const ADAPTER = "keepalived";
// Enough of keepalived's output to see what is wrong without flooding a log line.
const MAX_LINES = 20;
const INTERFACE_HINT =
  "The interface named in the config must exist where validation runs: validate on the LB node itself, or pass netns with a namespace that has that interface.";

const failure = (kind: AdapterError["kind"], message: string, hint?: string): AdapterError => ({
  kind,
  adapter: ADAPTER,
  message,
  ...(hint === undefined ? {} : { hint }),
});

/** The lines keepalived printed, with the throw-away temp path shown as the file's name. */
const relevantLines = (out: RunOutput, file: string): string[] =>
  `${out.stderr}\n${out.stdout}`
    .split("\n")
    .map((line) => line.split(file).join("keepalived.conf").trim())
    .filter((line) => line !== "")
    .slice(0, MAX_LINES);

const interpret = (out: RunOutput, file: string, binary: string, timeoutMs: number): Result<void, AdapterError> => {
  const lines = relevantLines(out, file);
  if (out.timedOut) {
    // Fail closed: a check that did not finish has not shown the config valid.
    return err(failure("validate", `${binary} -t did not finish within ${timeoutMs} ms`));
  }
  if (out.code === 0) return ok(undefined);
  // `ip netns exec` reports a missing program itself, as text, not as a spawn error.
  if (lines.some((line) => line.startsWith("exec of ") && line.includes("No such file or directory"))) {
    return err(
      failure(
        "unavailable",
        `${binary} is not installed in the validation namespace: ${lines.join("; ")}`,
        "apt-get install -y keepalived",
      ),
    );
  }
  if (lines.some((line) => line.startsWith("Cannot open network namespace"))) {
    return err(failure("validate", lines.join("; "), "Create the namespace (ip netns add) or validate without netns."));
  }
  const mentionsInterface = lines.some((line) => /interface/i.test(line));
  return err(
    failure(
      "validate",
      `${binary} -t rejected the config (exit ${out.code ?? out.signal ?? "unknown"}):\n${lines.join("\n")}`,
      mentionsInterface
        ? INTERFACE_HINT
        : `Fix the lines above (keepalived.conf(5) documents each keyword). ${INTERFACE_HINT}`,
    ),
  );
};

// keepalived 2.2.7's `-t` kills itself (SIGTERM, exit 143, no message) when script security runs
// scripts as a non-root `script_user` (acassen/keepalived#2617, fixed in 2.2.8), so the copy it
// checks names root there instead. That line is the only difference: every other line is checked
// as written, and the user name itself was parsed by Portico (a non-root [a-z_][a-z0-9_-] name).
const SCRIPT_USER = /^(\s*)script_user\s+\S+(\s+\S+)?\s*$/gm;

/** The text `keepalived -t` is given: `text`, with any `script_user` line naming root (see above). */
const forConfigTest = (text: string): string => text.replace(SCRIPT_USER, "$1script_user root");

const check = async (text: string, options: KeepalivedValidateOptions): Promise<Result<void, AdapterError>> => {
  const binary = options.binary ?? "keepalived";
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { netns } = options;
  // An argument, never a shell word, but a leading '-' would still read as an option to ip.
  if (netns !== undefined && !isNetnsName(netns))
    return err(failure("validate", `netns ${JSON.stringify(netns)} is not a network namespace name`));

  let dir: string;
  try {
    dir = await mkdtemp(join(tmpdir(), "portico-keepalived-"));
  } catch (e) {
    return err(failure("io", `cannot create a temporary directory: ${(e as Error).message}`));
  }
  try {
    const file = join(dir, "keepalived.conf");
    await writeFile(file, forConfigTest(text), { encoding: "utf8", mode: 0o600 });
    // -e: a missing config file is an error (keepalived -t alone exits 0 for it).
    const args = ["-t", "-e", "-f", file];
    const command = netns === undefined ? binary : "ip";
    const result = await runIn(netns, binary, args, { timeoutMs });
    if (result.isErr()) {
      const missing = result.error.code === "ENOENT";
      return err(
        failure(
          "unavailable",
          missing ? `${command} is not installed: ${result.error.message}` : result.error.message,
          command === "ip" ? "apt-get install -y iproute2" : "apt-get install -y keepalived",
        ),
      );
    }
    return interpret(result.value, file, binary, timeoutMs);
  } catch (e) {
    return err(failure("io", `cannot write the config to check: ${(e as Error).message}`));
  } finally {
    // A temp dir left behind is not worth failing a check for.
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
};

/**
 * Check keepalived.conf text with the real `keepalived -t` (optionally inside a network
 * namespace). The text goes to a private temporary directory that is removed afterwards.
 * Ok when keepalived accepts it; Err `validate` with keepalived's own lines when it does not;
 * Err `unavailable` when keepalived (or `ip`, for netns) is not installed.
 */
export const validateKeepalived: ValidateFn<KeepalivedValidateOptions> = (text, options) =>
  new ResultAsync(check(text, options));
