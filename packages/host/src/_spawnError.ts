/** Why a child process could not be run at all (not: it ran and failed). */
export interface RunError {
  readonly kind: "spawn";
  readonly command: string;
  readonly message: string;
  /** `ENOENT` when the program is not installed. */
  readonly code?: string;
}

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
