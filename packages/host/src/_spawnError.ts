import type { RunError } from "./run.js";

/** The one way a failed spawn is described, for run() and start() alike. */
export const spawnError =
  (command: string) =>
  (e: unknown): RunError => {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      kind: "spawn",
      command,
      message: code === "ENOENT" ? `${command}: not found` : `${command}: ${(e as Error).message}`,
      ...(code === undefined ? {} : { code }),
    };
  };
