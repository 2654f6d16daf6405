import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { err, ok, ResultAsync, type Result } from "neverthrow";
import { writeFileAtomic } from "@portico/host";
import type { AdapterError, ApplyFn, HaproxyConfig, Plan } from "@portico/core";
import { withApplyLock } from "./_applyLock.js";
import { fitMaxconn, readFdHardLimit } from "./_fdLimit.js";
import { readInstalled } from "./_installed.js";
import { EMPTY_STATES, keepStates } from "./_serverState.js";
import { slotOps } from "./_slotOps.js";
import { renderHaproxy } from "./render/full.js";
import { serverStateFile } from "./render/global.js";
import type { HaproxyRenderer } from "./render/cached.js";
import { sendCommand, sendCommands, succeeded, type RuntimeCommand } from "./runtime.js";
import { validateHaproxy } from "./validate.js";

/** Options for {@link applyHaproxy}. */
export interface HaproxyApplyOptions {
  /** The haproxy program for `haproxy -c`. Default `haproxy`. */
  readonly binary?: string;
  /** How long a reload may take before it counts as failed and is rolled back. Default 15 s. */
  readonly reloadTimeoutMs?: number;
  /** Render through this renderer's cache (a controller keeps one); default `renderHaproxy`. */
  readonly renderer?: HaproxyRenderer;
  /**
   * Reload at most once per this interval: a change that needs a reload sooner is not applied
   * (`deferred`, with the time to wait) and the caller applies its latest plan then. A change the
   * runtime API can make alone is never deferred. Default 0: reload whenever needed.
   */
  readonly minReloadIntervalMs?: number;
}

/** What {@link applyHaproxy} did. */
export interface HaproxyApplyReport {
  /**
   * `unchanged`: the installed file already says this and the running worker runs it. `runtime`:
   * only servers changed; written, then sent through the runtime API. `reload`: written and reloaded. `written`: written,
   * but no haproxy master answers on the master CLI, so nothing was reloaded. `deferred`: a reload
   * is needed but the last one was less than `minReloadIntervalMs` ago; nothing was changed.
   */
  readonly action: "unchanged" | "runtime" | "reload" | "written" | "deferred";
  /** With `deferred`: apply again after this many milliseconds. */
  readonly retryInMs?: number;
  /** Runtime-API commands sent and accepted. */
  readonly runtimeOps: number;
  readonly reloaded: boolean;
  /** The config generation now installed (`description portico-<generation>`). */
  readonly generation: string;
  /** The worker serving the new config, when a reload started one. */
  readonly worker?: number;
  readonly durationMs: number;
  readonly configPath: string;
  /** Why a runtime-API change fell back to a reload, when it did. */
  readonly note?: string;
}

/**
 * Apply a plan to the HAProxy of this LB node; paths and sockets come from
 * `plan.settings.haproxy`. Applies to one file take turns. Renders (keeping servers in their
 * slots, `maxconn` fitted to the open-files limit); when the text is the installed file already
 * and the running worker reports its generation, does nothing more (`unchanged`). Otherwise
 * validates with `haproxy -c` (a failing config is never installed: the error names the Service
 * at fault), then: when only server slots changed, writes the file atomically and then sends the
 * changes through the runtime API in one batch, with no reload; otherwise (unless the last reload
 * is too recent: `deferred`) writes the file and reloads through the master CLI, confirms that a
 * new worker runs the new generation, empties the saved server states, and on failure puts the
 * previous file back and reloads it.
 */
export const applyHaproxy: ApplyFn<Plan, HaproxyApplyOptions | void, HaproxyApplyReport> = (plan, options) =>
  new ResultAsync(withApplyLock(plan.settings.haproxy.configPath, () => applyAsync(plan, options ?? {})));

const applyAsync = async (
  configured: Plan,
  options: HaproxyApplyOptions,
): Promise<Result<HaproxyApplyReport, AdapterError>> => {
  const started = performance.now();
  const plan = fitMaxconn(configured, await readFdHardLimit());
  const paths = plan.settings.haproxy;
  const previous = await readPrevious(paths.configPath);
  if (previous.isErr()) return err(previous.error);
  const renderOptions = previous.value === undefined ? {} : { previous: previous.value };
  const text =
    options.renderer === undefined ? renderHaproxy(plan, renderOptions) : options.renderer.render(plan, renderOptions);
  if (text.isErr()) return err(text.error);
  const next = readInstalled(text.value);
  const report = (
    action: HaproxyApplyReport["action"],
    extra: Partial<HaproxyApplyReport> = {},
  ): HaproxyApplyReport => ({
    action,
    runtimeOps: 0,
    reloaded: action === "reload",
    generation: next.generation,
    durationMs: Math.round(performance.now() - started),
    configPath: paths.configPath,
    ...extra,
  });
  // Nothing is installed when the file already says this and the running worker was started from
  // it: a plan that changes nothing here (a status write echoed back by the watch) costs no
  // `haproxy -c`. A worker on another generation (an apply that wrote but did not reload) is
  // reloaded onto the file.
  let stale: string | undefined;
  if (previous.value === text.value) {
    const running = await runningGeneration(paths.statsSocket);
    if (running === undefined || running === next.generation) return ok(report("unchanged"));
    stale = `the running worker has generation ${running}, the file ${next.generation}: reloaded`;
  }

  // `haproxy -c` takes most of an apply's time; asking the master what runs meanwhile only reads.
  const [valid, before] = await Promise.all([
    validateHaproxy(text.value, { plan, ...(options.binary === undefined ? {} : { binary: options.binary }) }),
    showProcSettled(paths.masterSocket),
  ]);
  if (valid.isErr()) return err(valid.error);
  if (before.isErr()) {
    if (before.error.kind !== "unavailable") return err(before.error);
    // Nothing runs: the validated file is what haproxy will read when it starts.
    const written = await write(paths.configPath, text.value);
    return written.isErr() ? err(written.error) : ok(report("written"));
  }

  let note = stale;
  const installed = previous.value === undefined ? undefined : readInstalled(previous.value);
  if (stale === undefined && installed !== undefined && installed.skeleton === next.skeleton) {
    const ops = slotOps(installed, next);
    // The file first: a file that cannot be written (read-only, full) stops the apply before any
    // command marks a server down, and a retry starts from what was really installed.
    const written = ops.isErr() ? ok(undefined) : await write(paths.configPath, text.value);
    if (written.isErr()) return err(written.error);
    const sent = ops.isErr() ? err<number, string>(ops.error) : await runtimeUpdate(paths, ops.value);
    if (sent.isOk()) return ok(report("runtime", { runtimeOps: sent.value }));
    // Some change did not take: a reload makes the running state exactly the file again.
    note = `runtime API update failed, reloaded instead: ${sent.error}`;
  }

  const wait = reloadWait(before.value, options.minReloadIntervalMs ?? 0);
  if (wait > 0 && note === undefined) return ok(report("deferred", { retryInMs: wait }));

  const reloaded = await reload(paths, text.value, next.generation, before.value, options.reloadTimeoutMs ?? 15_000);
  if (reloaded.isOk()) return ok(report("reload", { worker: reloaded.value, ...(note === undefined ? {} : { note }) }));
  if (previous.value === undefined) return err(reloaded.error);
  // Roll back: the previous file, and a reload onto it so the running config matches the file.
  const restored = await write(paths.configPath, previous.value);
  let back = "";
  if (restored.isOk()) {
    const proc = await showProc(paths.masterSocket);
    const again = proc.isErr()
      ? err(proc.error)
      : await reload(
          paths,
          previous.value,
          readInstalled(previous.value).generation,
          proc.value,
          options.reloadTimeoutMs ?? 15_000,
        );
    if (again.isErr()) back = ` (the reload onto it failed too: ${again.error.message})`;
  }
  return err({
    ...reloaded.error,
    message: `${reloaded.error.message}; ${restored.isErr() ? `could not put the previous file back: ${restored.error.message}` : `rolled back to the previous ${paths.configPath}${back}`}`,
  });
};

const readPrevious = async (path: string): Promise<Result<string | undefined, AdapterError>> => {
  try {
    return ok(await readFile(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return ok(undefined);
    return err({ kind: "io", adapter: "haproxy", message: `cannot read ${path}: ${(e as Error).message}` });
  }
};

const write = (path: string, text: string): ResultAsync<void, AdapterError> =>
  writeFileAtomic(path, text, { mode: 0o644 }).mapErr((e): AdapterError => ({
    kind: "io",
    adapter: "haproxy",
    message: `cannot write ${e.message}`,
  }));

// One batch on one connection; any refused command makes the whole update count as failed.
const runtimeUpdate = async (paths: HaproxyConfig, ops: readonly RuntimeCommand[]): Promise<Result<number, string>> => {
  const answers = await sendCommands(paths.statsSocket, ops);
  if (answers.isErr()) return err(answers.error.message);
  const refused = ops.flatMap((op, i) =>
    succeeded(op, answers.value[i] ?? "")
      ? []
      : [`${op.kind} ${"backend" in op ? op.backend : ""}: ${answers.value[i] ?? ""}`],
  );
  return refused.length === 0 ? ok(ops.length) : err(refused.join("; "));
};

/** The master's reload counters and its workers, from `show proc`. */
export interface ProcState {
  readonly reloads: number;
  readonly failed: number;
  /** Workers, how many reloads each has lived through (0 = started by the last one), and their age. */
  readonly workers: readonly { readonly pid: number; readonly reloads: number; readonly uptimeS: number }[];
}

/** Parse the master CLI's `show proc`. */
export const parseShowProc = (text: string): ProcState | undefined => {
  const master = /^\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]/m.exec(text);
  if (master === null) return undefined;
  const workers = [...text.matchAll(/^(\d+)\s+worker\s+(\d+)(?:\s+(\d+)d(\d+)h(\d+)m(\d+)s)?/gm)].map((m) => ({
    pid: Number(m[1]),
    reloads: Number(m[2]),
    uptimeS: ((Number(m[3] ?? 0) * 24 + Number(m[4] ?? 0)) * 60 + Number(m[5] ?? 0)) * 60 + Number(m[6] ?? 0),
  }));
  return { reloads: Number(master[1]), failed: Number(master[2]), workers };
};

// A master socket that refuses connections exists but nobody accepts on it: a master between
// exec and listening, or a stuck one. Not "nothing runs": ask again, then fail so the caller retries.
const showProcSettled = async (socket: string): Promise<Result<ProcState, AdapterError>> => {
  for (let attempt = 0; ; attempt++) {
    const proc = await showProc(socket);
    if (proc.isOk() || !proc.error.message.includes("ECONNREFUSED") || attempt >= 10) return proc;
    await sleep(100);
  }
};

// The generation the current worker reports in `show info`; undefined when none answers.
const runningGeneration = async (socket: string): Promise<string | undefined> => {
  const info = await sendCommand(socket, { kind: "show-info" });
  return info.isErr() ? undefined : /^description: portico-(\S*)$/m.exec(info.value)?.[1];
};

// How long until a reload may happen: the newest worker's age against the interval (`show proc`
// counts in whole seconds, so a worker is taken to be as young as it may be).
const reloadWait = (proc: ProcState, intervalMs: number): number => {
  const newest = proc.workers.find((w) => w.reloads === 0);
  if (intervalMs <= 0 || newest === undefined) return 0;
  return Math.max(0, intervalMs - newest.uptimeS * 1000);
};

const showProc = (socket: string): ResultAsync<ProcState, AdapterError> =>
  sendCommand(socket, { kind: "show-proc" }).andThen((text) => {
    const state = parseShowProc(text);
    return state === undefined
      ? err<ProcState, AdapterError>({
          kind: "apply",
          adapter: "haproxy",
          message: `master CLI ${socket}: unexpected answer to show proc: ${JSON.stringify(text.slice(0, 200))}`,
        })
      : ok(state);
  });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Write the file, ask the master to reload (asynchronous in 2.6) and wait until a worker started
 * by this reload answers on the stats socket with the expected generation. A failed reload shows
 * as a higher `failed` count; the old workers keep serving meanwhile.
 */
const reload = async (
  paths: HaproxyConfig,
  text: string,
  generation: string,
  before: ProcState,
  timeoutMs: number,
): Promise<Result<number, AdapterError>> => {
  const fail = (message: string): Result<number, AdapterError> =>
    err({
      kind: "apply",
      adapter: "haproxy",
      message,
      hint: "see haproxy's log (journalctl -u haproxy) for why the new worker did not start",
    });
  // Health and weights of the servers that stay, for the new worker to load; without it every
  // server would start up, and a node that is down would get traffic until its checks fail.
  const states = await sendCommand(paths.statsSocket, { kind: "show-servers-state" });
  // Two files, two fsyncs: side by side. Either failing fails the reload, which rolls back.
  const [saved, written] = await Promise.all([
    write(serverStateFile(paths), states.isOk() ? keepStates(states.value, readInstalled(text)) : EMPTY_STATES),
    write(paths.configPath, text),
  ]);
  if (saved.isErr()) return err(saved.error);
  if (written.isErr()) return err(written.error);
  // The master re-executes itself and closes the connection without an answer.
  await sendCommand(paths.masterSocket, { kind: "reload" }, { timeoutMs: 2_000 });
  const old = new Set(before.workers.map((w) => w.pid));
  const deadline = performance.now() + timeoutMs;
  for (let polls = 0; performance.now() < deadline; polls++) {
    // The new worker usually runs within 100-300 ms: look often at first, then less often.
    await sleep(polls < 100 ? 10 : 50);
    const now = await showProc(paths.masterSocket);
    if (now.isErr()) continue; // the master is between exec and listening again
    if (now.value.failed > before.failed)
      return fail(
        `haproxy reload failed (master CLI show proc: failed ${now.value.failed}); the previous workers keep running`,
      );
    const fresh = now.value.workers.find((w) => w.reloads === 0 && !old.has(w.pid));
    if (fresh === undefined) continue;
    const info = await sendCommand(paths.statsSocket, { kind: "show-info" });
    if (info.isErr()) continue;
    const pid = /^Pid: (\d+)$/m.exec(info.value)?.[1];
    const description = /^description: (\S*)$/m.exec(info.value)?.[1];
    if (Number(pid) === fresh.pid && description === `portico-${generation}`) {
      // The states were for this start only: a later start that is not a reload (systemd after a
      // crash, a package upgrade) must not take a slot's old state for its new contents.
      await write(serverStateFile(paths), EMPTY_STATES);
      return ok(fresh.pid);
    }
  }
  return fail(`no haproxy worker running config generation ${generation} within ${timeoutMs} ms after the reload`);
};
