/**
 * Backoff for restarting a watch after an error: from `initialMs`, doubling up to `maxMs`, and each
 * wait stretched by up to `jitter` of itself (at most `maxMs * (1 + jitter)`), so that many LB
 * nodes do not retry in step, at the bound too; back to `initialMs` once the watch has been healthy
 * for `resetAfterMs` (client-go's reflector: 800 ms to 30 s, jitter 1.0, reset after 2 minutes).
 */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** 0 to 1; default 0.5. */
  readonly jitter?: number;
  /** Default 30 s. */
  readonly resetAfterMs?: number;
}

/** The backoff `portico run` uses. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 200, maxMs: 5_000, jitter: 0.5, resetAfterMs: 30_000 };

/** One feed's place in its backoff: how long the next wait is, and since when it has been healthy. */
export class BackoffState {
  readonly #backoff: Backoff;
  #delayMs: number;
  #healthySince: number | undefined;

  constructor(backoff: Backoff) {
    this.#backoff = backoff;
    this.#delayMs = backoff.initialMs;
  }

  /** The feed listed or opened a watch. */
  healthy(now: number): void {
    this.#healthySince ??= now;
  }

  /** The feed failed: how long to wait before the next attempt. */
  failed(now: number, random: number): number {
    const { initialMs, maxMs, jitter = 0.5, resetAfterMs = 30_000 } = this.#backoff;
    if (this.#healthySince !== undefined && now - this.#healthySince >= resetAfterMs) this.#delayMs = initialMs;
    this.#healthySince = undefined;
    const wait = this.#delayMs * (1 + jitter * random);
    this.#delayMs = Math.min(maxMs, this.#delayMs * 2);
    return wait;
  }
}
