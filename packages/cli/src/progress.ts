import type { Io } from "./io.js";

/** Progress of a long step, shown on one line of stderr that each update overwrites. */
export interface Progress {
  /** A step has started (`planning 4000 Services`). */
  step(text: string): void;
  /** `done` of `total` items of a step; the line changes only when the percentage does. */
  count(text: string, done: number, total: number): void;
  /** Clear the line: what follows prints where the progress was. */
  done(): void;
}

const SILENT: Progress = { step: () => undefined, count: () => undefined, done: () => undefined };

// Carriage return, then erase the line: each update replaces the last, and done() leaves nothing.
const CLEAR = "\r\u001b[K";

/**
 * Progress for a command's long steps: on a terminal only (stderr is a TTY), never on stdout, so
 * JSON output and pipes stay clean. Pass `enabled: false` for output meant for machines
 * (`--output json`). Commands and the lab use it alike.
 */
export const progress = (io: Io, enabled = true): Progress => {
  if (!enabled || io.stderrTty !== true) return SILENT;
  let shown = false;
  let last = "";
  let lastCount = "";
  const show = (line: string): void => {
    if (line === last) return;
    last = line;
    shown = true;
    io.stderr(`${CLEAR}${line}`);
  };
  return {
    step: (text) => show(`${text}…`),
    count: (text, done, total) => {
      // A terminal redrawn for every one of thousands of items costs more than the work itself.
      const percent = total === 0 ? 100 : Math.floor((100 * Math.min(done, total)) / total);
      const key = `${text} ${percent}`;
      if (key === lastCount) return;
      lastCount = key;
      show(`${text} ${percent}% (${done}/${total})`);
    },
    done: () => {
      if (shown) io.stderr(CLEAR);
      shown = false;
      last = "";
      lastCount = "";
    },
  };
};
