/** Timing for {@link Coalescer}. */
export interface CoalesceTiming {
  /** Fire once no poke has come for this long. */
  readonly quietMs: number;
  /** ...but never later than this after the first poke of a burst. */
  readonly maxDelayMs: number;
  /**
   * The quiet period of the first two bursts after a quiet spell (at least `quietMs` without
   * pokes): a lone change is planned this soon instead of after the full `quietMs`. Default 10 ms
   * (never above `quietMs`); set it to `quietMs` to wait the full period always.
   */
  readonly leadMs?: number;
}

// Long enough for the objects of one change that arrive together (a Service and its
// EndpointSlice, on separate watch streams) to land in one plan.
const DEFAULT_LEAD_MS = 10;
// A change often reaches the watch as two objects on two streams, some tens of milliseconds
// apart when the machine is busy (a Service, then its EndpointSlice): the second is quick too.
const LEADING_BURSTS = 2;

/**
 * Turns a burst of pokes into one call: `fire` runs when pokes pause for `quietMs`, or at the
 * latest `maxDelayMs` after the burst began, so a steady stream of events still converges.
 *
 * The first two bursts after a quiet spell (no poke for `quietMs`) pause only `leadMs` instead:
 * pokes that arrive together (gaps under `leadMs`) still make one call, and pokes that keep coming
 * after those are coalesced with the full `quietMs`. So a lone change does not wait for a burst
 * that is not coming, and a long burst costs at most two calls more than it would otherwise.
 */
export class Coalescer {
  readonly #timing: CoalesceTiming;
  readonly #fire: () => void;
  #quiet: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  /** Runs for `quietMs` after each poke; when it ends, a quiet spell has begun. */
  #recent: NodeJS.Timeout | undefined;
  /** Bursts begun since the last quiet spell. */
  #bursts = 0;
  /** Whether the pending burst pauses `leadMs` (one of the first bursts after a quiet spell). */
  #leading = false;

  constructor(timing: CoalesceTiming, fire: () => void) {
    this.#timing = timing;
    this.#fire = fire;
  }

  /** Something changed. */
  poke(): void {
    const { quietMs, maxDelayMs } = this.#timing;
    if (this.#quiet === undefined) {
      if (this.#recent === undefined) this.#bursts = 0;
      this.#leading = this.#bursts < LEADING_BURSTS;
      this.#bursts++;
    }
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(
      () => this.#flush(),
      this.#leading ? Math.min(this.#timing.leadMs ?? DEFAULT_LEAD_MS, quietMs) : quietMs,
    );
    this.#deadline ??= setTimeout(() => this.#flush(), maxDelayMs);
    clearTimeout(this.#recent);
    // Bookkeeping only: it must not keep a stopping process alive.
    this.#recent = setTimeout(() => (this.#recent = undefined), quietMs).unref();
  }

  /** Drop a pending call. */
  cancel(): void {
    this.#clearPending();
    clearTimeout(this.#recent);
    this.#recent = undefined;
  }

  #clearPending(): void {
    clearTimeout(this.#quiet);
    clearTimeout(this.#deadline);
    this.#quiet = undefined;
    this.#deadline = undefined;
  }

  #flush(): void {
    this.#clearPending();
    this.#fire();
  }
}
