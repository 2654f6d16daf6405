import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import type { AdapterError, ApplyFn } from "@portico/core";
import { pollUntil, readTextIfAny, run, writeFileAtomic } from "@portico/host";
import { defaultSupervisor, KEEPALIVED_UNIT, keepalivedLaunch, type KeepalivedSupervisor } from "./launch.js";
import { validateKeepalived } from "./validate.js";

/** Options for {@link applyKeepalived}. */
export interface KeepalivedApplyOptions {
  /** Where keepalived reads its config (Portico config `keepalived.configPath`). */
  readonly configPath: string;
  /** keepalived's main pid file (`keepalived.pidFile`): SIGHUP goes to this process. */
  readonly pidFile: string;
  /** The VRRP child's pid file when apply has to start keepalived; default `<dir of pidFile>/keepalived_vrrp.pid`. */
  readonly vrrpPidFile?: string;
  /** Validate and start keepalived inside this network namespace (labs and tests). */
  readonly netns?: string;
  /**
   * Who keeps a keepalived that apply starts; default systemd when it is PID 1, else direct.
   * Ignored with `netns` (always direct there).
   */
  readonly supervisor?: KeepalivedSupervisor;
  /** The keepalived program; default `keepalived`. */
  readonly binary?: string;
  /** Give up on validation or start after this long; default 30 s. */
  readonly timeoutMs?: number;
}

/** What {@link applyKeepalived} did. */
export type KeepalivedApplyOutcome = "unchanged" | "reloaded" | "started";

const failure = (kind: AdapterError["kind"], message: string, hint?: string): AdapterError => ({
  kind,
  adapter: "keepalived",
  message,
  ...(hint === undefined ? {} : { hint }),
});

/** The pid in a pid file when that process is alive and is keepalived; otherwise undefined. */
export const runningKeepalived = async (pidFile: string): Promise<number | undefined> => {
  const text = await readTextIfAny(pidFile);
  const pid = text === undefined ? Number.NaN : Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  // A stale pid file may name a pid that now belongs to something else: never signal that.
  const comm = await readTextIfAny(`/proc/${pid}/comm`);
  const stat = await readTextIfAny(`/proc/${pid}/stat`);
  // Field 3 of /proc/<pid>/stat is the state; Z is a zombie that only waits to be reaped.
  const state = stat?.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return comm?.trim() === "keepalived" && state !== "Z" ? pid : undefined;
};

const apply = async (
  text: string,
  options: KeepalivedApplyOptions,
): Promise<Result<KeepalivedApplyOutcome, AdapterError>> => {
  const binary = options.binary ?? "keepalived";
  const timeoutMs = options.timeoutMs ?? 30_000;
  const common = {
    binary,
    timeoutMs,
    ...(options.netns === undefined ? {} : { netns: options.netns }),
  };
  // Never install what keepalived would refuse: the running config stays as it is.
  const valid = await validateKeepalived(text, common);
  if (valid.isErr()) return err(valid.error);

  const pid = await runningKeepalived(options.pidFile);
  if (pid !== undefined && (await readTextIfAny(options.configPath)) === text) return ok("unchanged");

  const written = await writeFileAtomic(options.configPath, text, { mode: 0o644 });
  if (written.isErr()) return err(failure("io", `cannot install the config: ${written.error.message}`));

  if (pid !== undefined) {
    try {
      // keepalived re-reads its config on SIGHUP; instances whose VRID and VIPs are unchanged keep their state.
      process.kill(pid, "SIGHUP");
      return ok("reloaded");
    } catch (e) {
      return err(
        failure(
          "apply",
          `cannot signal keepalived (pid ${pid}): ${(e as Error).message}`,
          "Run apply as root, the user keepalived runs as.",
        ),
      );
    }
  }

  const vrrpPidFile = options.vrrpPidFile ?? join(dirname(options.pidFile), "keepalived_vrrp.pid");
  // No live keepalived owns these pid files (it crashed, or is a zombie not yet reaped), but
  // keepalived would still take a leftover pid as "already running" and exit at once.
  for (const file of [options.pidFile, vrrpPidFile]) {
    try {
      await rm(file, { force: true });
    } catch (e) {
      return err(failure("io", `cannot remove the stale pid file ${file}: ${(e as Error).message}`));
    }
  }
  const supervisor = options.supervisor ?? defaultSupervisor();
  const launch = keepalivedLaunch(
    {
      binary,
      configPath: options.configPath,
      pidFile: options.pidFile,
      vrrpPidFile,
      ...(options.netns === undefined ? {} : { netns: options.netns }),
    },
    supervisor,
  );
  const started = await run(launch.command, launch.args, { timeoutMs });
  if (started.isErr()) return err(failure("unavailable", started.error.message, "apt-get install -y keepalived"));
  if (started.value.code !== 0) {
    return err(
      failure(
        "apply",
        `${binary} did not start (exit ${started.value.code ?? started.value.signal ?? "unknown"}): ${started.value.stderr.trim().slice(0, 2000)}`,
        launch.command === "systemd-run"
          ? `systemctl status ${KEEPALIVED_UNIT}; a unit of that name that runs without a live pid file must be stopped first.`
          : undefined,
      ),
    );
  }
  // keepalived forks into the background and writes its pid file once it is up.
  const up = await pollUntil(
    async () => (await runningKeepalived(options.pidFile)) !== undefined,
    Math.min(timeoutMs, 10_000),
  );
  return up
    ? ok("started")
    : err(
        failure(
          "apply",
          `${binary} started but wrote no live pid to ${options.pidFile}`,
          `Check keepalived's log (journalctl -u ${KEEPALIVED_UNIT}, or syslog).`,
        ),
      );
};

/**
 * Install keepalived.conf and make keepalived run it: validate with `keepalived -t` first (a
 * config that fails is never written), write it atomically, then SIGHUP the running keepalived
 * or, when none runs, start one: in a systemd unit of its own when systemd is PID 1 (see
 * {@link keepalivedLaunch}), directly otherwise. `unchanged` when keepalived already runs this exact text.
 *
 * Apply to every LB node together: keepalived 2.2.7 drops adverts whose VIP list differs from
 * its own, so while nodes disagree about an instance's VIPs the backups may become masters too.
 */
export const applyKeepalived: ApplyFn<string, KeepalivedApplyOptions, KeepalivedApplyOutcome> = (text, options) =>
  new ResultAsync(apply(text, options));
