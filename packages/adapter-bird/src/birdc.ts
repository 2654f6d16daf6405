import { err, ok, ResultAsync } from "neverthrow";
import type { AdapterError } from "@portico/core";
import { run } from "@portico/host";
import { birdFailure } from "./validate.js";

/** Options for {@link birdc}. */
export interface BirdcOptions {
  /** BIRD's control socket (`bgp.socket`). */
  readonly socket: string;
  /** The birdc program; default `birdc`. */
  readonly binary?: string;
  /** Give up after this long; default 10 s. */
  readonly timeoutMs?: number;
}

// birdc's words: a command and its arguments, each a BIRD keyword, a derived protocol name or a quoted safe path.
const WORD = /^("\/[A-Za-z0-9_./-]{1,255}"|[A-Za-z0-9_]{1,64})$/;

/**
 * birdc runs one command on BIRD's control socket (`birdc -s <socket> <words>`) and gives its
 * reply without the `BIRD ... ready.` greeting. Err `unavailable` when BIRD does not answer (not
 * running), `apply` when it answers with an error.
 */
export const birdc = (words: readonly string[], options: BirdcOptions): ResultAsync<string, AdapterError> => {
  const binary = options.binary ?? "birdc";
  const bad = words.find((w) => !WORD.test(w));
  if (bad !== undefined)
    return new ResultAsync(Promise.resolve(err(birdFailure("apply", `birdc: ${JSON.stringify(bad)} is not a word`))));
  return run(binary, ["-s", options.socket, ...words], { timeoutMs: options.timeoutMs ?? 10_000 })
    .mapErr((e) => birdFailure("unavailable", e.message, "apt-get install -y bird2"))
    .andThen((out) => {
      const text = out.stdout
        .split("\n")
        .filter((line) => !/^BIRD [0-9.]+ ready\.$/.test(line))
        .join("\n")
        .trim();
      if (out.code === 0 && !out.timedOut) return ok(text);
      const said = `${out.stderr.trim()} ${text}`.trim().slice(0, 500);
      const refused = /Unable to connect to server control socket/.test(said);
      return err(
        birdFailure(
          refused ? "unavailable" : "apply",
          `birdc ${words.join(" ")}: ${said || `exit ${out.code ?? out.signal ?? "unknown"}`}`,
          refused ? "Is BIRD running with this control socket (bgp.socket)?" : undefined,
        ),
      );
    });
};
