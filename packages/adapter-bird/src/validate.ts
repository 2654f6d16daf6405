import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import type { AdapterError, ValidateFn } from "@portico/core";
import { run } from "@portico/host";

/** Options for {@link validateBird}. */
export interface BirdValidateOptions {
  /** The bird program; default `bird` (found on PATH). */
  readonly binary?: string;
  /** Give up after this long; default 30 s. */
  readonly timeoutMs?: number;
}

// Enough of BIRD's output to see what is wrong without flooding a log line.
const MAX_LINES = 20;

/** An Err from this adapter. */
export const birdFailure = (kind: AdapterError["kind"], message: string, hint?: string): AdapterError => ({
  kind,
  adapter: "bird",
  message,
  ...(hint === undefined ? {} : { hint }),
});

const check = async (text: string, options: BirdValidateOptions): Promise<Result<void, AdapterError>> => {
  const binary = options.binary ?? "bird";
  const timeoutMs = options.timeoutMs ?? 30_000;
  let dir: string;
  try {
    dir = await mkdtemp(join(tmpdir(), "portico-bird-"));
  } catch (e) {
    return err(birdFailure("io", `cannot create a temporary directory: ${(e as Error).message}`));
  }
  try {
    const path = join(dir, "bird.conf");
    await writeFile(path, text, { encoding: "utf8", mode: 0o600 });
    // -p: parse the config and exit, nothing is started.
    const result = await run(binary, ["-p", "-c", path], { timeoutMs });
    if (result.isErr())
      return err(
        birdFailure(
          "unavailable",
          result.error.code === "ENOENT" ? `${binary} is not installed: ${result.error.message}` : result.error.message,
          "apt-get install -y bird2",
        ),
      );
    const out = result.value;
    // Fail closed: a check that did not finish has not shown the config valid.
    if (out.timedOut) return err(birdFailure("validate", `${binary} -p did not finish within ${timeoutMs} ms`));
    if (out.code === 0) return ok(undefined);
    const lines = `${out.stderr}\n${out.stdout}`
      .split("\n")
      .map((line) => line.split(path).join("bird.conf").trim())
      .filter((line) => line !== "")
      .slice(0, MAX_LINES);
    return err(
      birdFailure(
        "validate",
        `${binary} -p rejected the config (exit ${out.code ?? out.signal ?? "unknown"}):\n${lines.join("\n")}`,
        "Fix the line named above (the BIRD 2 user guide documents each option).",
      ),
    );
  } catch (e) {
    return err(birdFailure("io", `cannot write the config to check: ${(e as Error).message}`));
  } finally {
    // A temp dir left behind is not worth failing a check for.
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
};

/**
 * validateBird checks bird.conf text with the real `bird -p -c` (parse only; nothing starts). The
 * text goes to a private temporary directory that is removed afterwards. Ok when BIRD accepts it;
 * Err `validate` with BIRD's own line when it does not; Err `unavailable` when bird is not installed.
 */
export const validateBird: ValidateFn<BirdValidateOptions> = (text, options) => new ResultAsync(check(text, options));
