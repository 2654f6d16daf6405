import { once } from "node:events";
import { createServer } from "node:net";
import type { Started } from "@portico/host";

/**
 * until polls `ok` every `everyMs` until it holds; throws after `capMs` (a safety cap, not a
 * target). Resolves with the time taken.
 */
export const until = async (
  what: string,
  ok: () => Promise<boolean> | boolean,
  capMs = 20_000,
  everyMs = 20,
): Promise<number> => {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > capMs) throw new Error(`timed out after ${capMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Date.now() - t0;
};

/**
 * waitForLine resolves with the first line a started child prints from now on that starts with
 * `prefix`; fails after `capMs` (a safety cap).
 */
export const waitForLine = async (proc: Started, prefix: string, capMs = 20_000): Promise<string> => {
  let seen = "";
  const timer = setTimeout(
    () => proc.stdout!.emit("error", new Error(`no "${prefix}" within ${capMs} ms: ${seen}`)),
    capMs,
  );
  try {
    for (;;) {
      const line = seen.split("\n").find((l) => l.startsWith(prefix));
      if (line !== undefined) return line;
      const [chunk] = (await once(proc.stdout!, "data")) as [Buffer];
      seen += chunk.toString();
    }
  } finally {
    clearTimeout(timer);
  }
};

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/**
 * Wait until `read` has given the same answer for `quietMs` (compared as JSON): the system under
 * test has stopped reacting to its own last action (a controller's status write coming back as a
 * watch event, say). Throws after `capMs`. Resolves with the settled answer.
 */
export const settled = async <T>(
  what: string,
  read: () => Promise<T> | T,
  quietMs = 300,
  capMs = 20_000,
): Promise<T> => {
  const t0 = Date.now();
  let last = JSON.stringify(await read());
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const now = JSON.stringify(await read());
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return JSON.parse(last) as T;
    if (Date.now() - t0 > capMs) throw new Error(`timed out after ${capMs} ms waiting for ${what} to settle`);
  }
};
