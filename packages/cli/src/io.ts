/** Where a command writes and what it reads from its environment; tests pass their own. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Colour the output (a terminal, and NO_COLOR unset). */
  readonly color?: boolean;
  /** stdout is a terminal: `status --watch` redraws in place. */
  readonly stdoutTty?: boolean;
  /** stderr is a terminal: long steps show progress there (see `progress`). */
  readonly stderrTty?: boolean;
  /** Ends long-running commands (`status --watch`) like SIGINT does; absent: SIGINT itself. */
  readonly interrupt?: AbortSignal;
}

/** The real process's streams and environment. */
export const processIo = (): Io => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  color: process.stdout.isTTY === true && process.env["NO_COLOR"] === undefined,
  stdoutTty: process.stdout.isTTY === true,
  stderrTty: process.stderr.isTTY === true,
});
