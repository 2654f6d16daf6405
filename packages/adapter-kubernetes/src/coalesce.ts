/** Timing for {@link Coalescer}. */
export interface CoalesceTiming {
  /** Fire once no poke has come for this long. */
  readonly quietMs: number;
  /** ...but never later than this after the first poke of a burst. */
  readonly maxDelayMs: number;
}

/**
 * Turns a burst of pokes into one call: `fire` runs when pokes pause for `quietMs`, or at the
 * latest `maxDelayMs` after the burst began, so a steady stream of events still converges.
 */
export class Coalescer {
  readonly #timing: CoalesceTiming;
  readonly #fire: () => void;
  #quiet: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;

  constructor(timing: CoalesceTiming, fire: () => void) {
    this.#timing = timing;
    this.#fire = fire;
  }

  /** Something changed. */
  poke(): void {
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#flush(), this.#timing.quietMs);
    this.#deadline ??= setTimeout(() => this.#flush(), this.#timing.maxDelayMs);
  }

  /** Drop a pending call. */
  cancel(): void {
    clearTimeout(this.#quiet);
    clearTimeout(this.#deadline);
    this.#quiet = undefined;
    this.#deadline = undefined;
  }

  #flush(): void {
    this.cancel();
    this.#fire();
  }
}
