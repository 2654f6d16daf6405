import { spawn } from "node:child_process";
import { ResultAsync } from "neverthrow";
import { spawnError } from "./_spawnError.js";

/** How a child process ended. */
export interface RunOutput {
  /** Exit code; null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Why a child process could not be run at all (not: it ran and failed). */
export interface RunError {
  readonly kind: "spawn";
  readonly command: string;
  readonly message: string;
  /** `ENOENT` when the program is not installed. */
  readonly code?: string;
}

/** Options for {@link run}. */
export interface RunOptions {
  /** Killed with SIGKILL after this long; default 30 s. */
  readonly timeoutMs?: number;
  readonly input?: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Output beyond this many bytes per stream is dropped; default 1 MiB. */
  readonly maxOutputBytes?: number;
}

/**
 * The only way Portico starts a process: a program and an argument array, never a shell string,
 * so no argument is ever re-parsed by a shell. Resolves with the exit status whatever it is;
 * fails only when the process could not start.
 */
export const run = (
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): ResultAsync<RunOutput, RunError> =>
  ResultAsync.fromPromise(
    new Promise<RunOutput>((resolve, reject) => {
      const max = options.maxOutputBytes ?? 1 << 20;
      const child = spawn(command, [...args], {
        shell: false,
        // Its own process group, so a timeout ends grandchildren too (they may hold the pipes open).
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        ...(options.env === undefined ? {} : { env: { ...options.env } }),
      });
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let timedOut = false;
      child.stdout.on("data", (b: Buffer) => {
        if (outBytes < max) out.push(b);
        outBytes += b.length;
      });
      child.stderr.on("data", (b: Buffer) => {
        if (errBytes < max) errs.push(b);
        errBytes += b.length;
      });
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      }, options.timeoutMs ?? 30_000);
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(errs).toString("utf8"),
          timedOut,
        });
      });
      child.stdin.on("error", () => undefined);
      child.stdin.end(options.input ?? "");
    }),
    spawnError(command),
  );

/** Whether a program can be found on PATH (or at an absolute path) and started. */
export const isInstalled = async (command: string, versionArgs: readonly string[] = ["-v"]): Promise<boolean> => {
  const r = await run(command, versionArgs, { timeoutMs: 10_000 });
  return r.isOk();
};
