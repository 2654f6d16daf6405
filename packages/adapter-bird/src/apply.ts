import { err, ok, ResultAsync, type Result } from "neverthrow";
import type { AdapterError, ApplyFn } from "@portico/core";
import { isNetnsName, pollUntil, readTextIfAny, runIn, writeFileAtomic } from "@portico/host";
import { birdc } from "./birdc.js";
import { birdFailure, validateBird } from "./validate.js";

/** Options for {@link applyBird}. */
export interface BirdApplyOptions {
  /** Where BIRD reads its config (`bgp.configPath`). */
  readonly configPath: string;
  /** BIRD's control socket (`bgp.socket`). */
  readonly socket: string;
  /** The pid file BIRD writes when apply starts it; absent: none. */
  readonly pidFile?: string;
  /** Start BIRD inside this network namespace (labs and tests). */
  readonly netns?: string;
  /** The bird and birdc programs; default `bird` and `birdc`. */
  readonly binary?: string;
  readonly birdcBinary?: string;
  /** Give up on validation, reconfiguration or start after this long; default 30 s. */
  readonly timeoutMs?: number;
}

/** What {@link applyBird} did. */
export type BirdApplyOutcome = "unchanged" | "reconfigured" | "started";

const apply = async (text: string, options: BirdApplyOptions): Promise<Result<BirdApplyOutcome, AdapterError>> => {
  const binary = options.binary ?? "bird";
  const timeoutMs = options.timeoutMs ?? 30_000;
  const control = {
    socket: options.socket,
    timeoutMs,
    ...(options.birdcBinary ? { binary: options.birdcBinary } : {}),
  };
  if (options.netns !== undefined && !isNetnsName(options.netns))
    return err(birdFailure("apply", `netns ${JSON.stringify(options.netns)} is not a network namespace name`));
  // Never install what BIRD would refuse: the running config stays as it is.
  const valid = await validateBird(text, { binary, timeoutMs });
  if (valid.isErr()) return err(valid.error);

  const running = (await birdc(["show", "status"], control)).isOk();
  if (running && (await readTextIfAny(options.configPath)) === text) return ok("unchanged");

  const written = await writeFileAtomic(options.configPath, text, { mode: 0o644 });
  if (written.isErr()) return err(birdFailure("io", `cannot install the config: ${written.error.message}`));

  if (running) {
    // BIRD compares old and new protocol by protocol: a session whose options are unchanged stays up,
    // one whose export filter changed re-exports its routes without a reset.
    const reply = await birdc(["configure", `"${options.configPath}"`], control);
    if (reply.isErr()) return err(reply.error);
    return /Reconfigured|Reconfiguration in progress|Reconfiguration already in progress/.test(reply.value)
      ? ok("reconfigured")
      : err(birdFailure("apply", `birdc configure: ${reply.value.slice(0, 500)}`));
  }

  const args = [
    "-c",
    options.configPath,
    "-s",
    options.socket,
    ...(options.pidFile === undefined ? [] : ["-P", options.pidFile]),
  ];
  const started = await runIn(options.netns, binary, args, { timeoutMs });
  if (started.isErr()) return err(birdFailure("unavailable", started.error.message, "apt-get install -y bird2"));
  if (started.value.code !== 0)
    return err(
      birdFailure(
        "apply",
        `${binary} did not start (exit ${started.value.code ?? started.value.signal ?? "unknown"}): ` +
          started.value.stderr.trim().slice(0, 2000),
      ),
    );
  // bird forks into the background and opens its control socket once it is up.
  const up = await pollUntil(
    async () => (await birdc(["show", "status"], control)).isOk(),
    Math.min(timeoutMs, 10_000),
  );
  return up ? ok("started") : err(birdFailure("apply", `${binary} started but ${options.socket} does not answer`));
};

/**
 * applyBird installs bird.conf and makes BIRD run it: validate with `bird -p` first (a config
 * that fails is never written), write it atomically, then `birdc configure` the running BIRD or,
 * when none answers on the socket, start one. `unchanged` when BIRD already runs this exact text.
 */
export const applyBird: ApplyFn<string, BirdApplyOptions, BirdApplyOutcome> = (text, options) =>
  new ResultAsync(apply(text, options));
