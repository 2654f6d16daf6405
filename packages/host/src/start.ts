import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { ResultAsync } from "neverthrow";
import type { RunError } from "./run.js";
import { spawnError } from "./_spawnError.js";

/** How a started process ended. */
export interface Exit {
  /** Exit code; null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Options for {@link start}. */
export interface StartOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /**
   * `ignore` (the default) discards the child's standard streams; `pipe` exposes them on the
   * handle, for a caller that talks to the process or waits for a line it prints.
   */
  readonly stdio?: "ignore" | "pipe";
}

/** A running process started by {@link start}. */
export interface Started {
  readonly pid: number;
  /** Present with `stdio: "pipe"`. */
  readonly stdin: Writable | null;
  /** Present with `stdio: "pipe"`. */
  readonly stdout: Readable | null;
  /** Present with `stdio: "pipe"`. */
  readonly stderr: Readable | null;
  /** Resolves once, when the process has ended, however it ended. */
  readonly exited: Promise<Exit>;
  /**
   * End the process and everything it started (its process group): `signal` (default SIGTERM),
   * then SIGKILL after `graceMs` (default 5 s). Resolves when it has exited; safe to call twice.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

/**
 * The one way Portico starts a long-running process (a haproxy master, a test server): a program
 * and an argument array, never a shell string. Unlike `run()` it does not wait for the exit; it
 * resolves once the process has been spawned, or fails when it could not start (kind `spawn`,
 * code `ENOENT` when the program is missing). The child gets its own process group, so `stop()`
 * ends its children too.
 */
export const start = (
  command: string,
  args: readonly string[],
  options: StartOptions = {},
): ResultAsync<Started, RunError> =>
  ResultAsync.fromPromise(
    new Promise<Started>((resolve, reject) => {
      const stdio = options.stdio ?? "ignore";
      const child = spawn(command, [...args], {
        shell: false,
        detached: true,
        stdio: stdio === "pipe" ? ["pipe", "pipe", "pipe"] : ["ignore", "ignore", "ignore"],
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        ...(options.env === undefined ? {} : { env: { ...options.env } }),
      });
      const exited = new Promise<Exit>((done) => child.once("exit", (code, signal) => done({ code, signal })));
      // A pipe the child closes early must not crash the parent with EPIPE.
      child.stdin?.on("error", () => undefined);
      child.once("error", reject);
      child.once("spawn", () => {
        child.off("error", reject);
        child.on("error", () => undefined);
        const pid = child.pid!;
        let ended = false;
        void exited.then(() => {
          ended = true;
        });
        const signalGroup = (signal: NodeJS.Signals): void => {
          if (ended) return;
          try {
            process.kill(-pid, signal);
          } catch {
            try {
              child.kill(signal);
            } catch {
              // already gone
            }
          }
        };
        resolve({
          pid,
          stdin: child.stdin,
          stdout: child.stdout,
          stderr: child.stderr,
          exited,
          stop: async (signal = "SIGTERM", graceMs = 5_000) => {
            signalGroup(signal);
            const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
            try {
              return await exited;
            } finally {
              clearTimeout(timer);
            }
          },
        });
      });
    }),
    spawnError(command),
  );
