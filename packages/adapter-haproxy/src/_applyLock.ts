import { open, readFile, unlink } from "node:fs/promises";
import { err, type Result } from "neverthrow";
import type { AdapterError } from "@portico/core";

// Two applies at once would each render from the same installed file and send their own runtime
// commands, leaving HAProxy's servers and the file disagreeing. Applies to one haproxy.cfg take
// turns: in one process through a queue, across processes (`portico apply` beside `portico run`)
// through a lock file beside the config holding the holder's pid.

const queues = new Map<string, Promise<unknown>>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The lock file of a config path. */
export const lockPathOf = (configPath: string): string => `${configPath}.portico-lock`;

const acquire = async (path: string, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = await open(path, "wx", 0o644);
      await fd.writeFile(`${process.pid}\n`);
      await fd.close();
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // No directory yet: nothing is installed and nobody else can be writing there.
      if (code === "ENOENT") return true;
      if (code !== "EEXIST") throw e;
    }
    const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
    // A holder that died (a crash, SIGKILL) leaves its file behind, and this process's own turns are
    // queued, so a file naming it is a leftover; another process's live lock is waited for.
    if (Number.isInteger(holder) && holder > 0 && (holder === process.pid || !alive(holder)))
      await unlink(path).catch(() => undefined);
    else if (Date.now() > deadline) return false;
    else await sleep(50);
  }
};

/**
 * Run `fn` while holding the apply lock of `configPath`; waits for the holder up to `timeoutMs`,
 * then fails without running it.
 */
export const withApplyLock = async <T>(
  configPath: string,
  fn: () => Promise<Result<T, AdapterError>>,
  timeoutMs = 60_000,
): Promise<Result<T, AdapterError>> => {
  const before = queues.get(configPath) ?? Promise.resolve();
  const turn = before.then(async (): Promise<Result<T, AdapterError>> => {
    const path = lockPathOf(configPath);
    if (!(await acquire(path, timeoutMs)))
      return err({
        kind: "apply",
        adapter: "haproxy",
        message: `another apply holds ${path} (pid ${(await readFile(path, "utf8").catch(() => "?")).trim()}) for more than ${timeoutMs} ms`,
        hint: "two portico processes apply to this LB node; the next apply retries",
      });
    try {
      return await fn();
    } finally {
      await unlink(path).catch(() => undefined);
    }
  });
  const settled = turn.catch(() => undefined);
  queues.set(configPath, settled);
  void settled.then(() => {
    if (queues.get(configPath) === settled) queues.delete(configPath);
  });
  return turn;
};
