/**
 * A failed apply tried again after 1 s, doubling to 30 s, as the service controller retries a
 * load balancer that failed; back to 1 s after one that succeeds. One retry waits at a time.
 */
export class ApplyRetry {
  #timer: NodeJS.Timeout | undefined;
  #delayMs = FIRST_MS;

  /** After an apply: when it `failed`, run `again` after the next delay; otherwise start over. */
  after(failed: boolean, again: () => void): void {
    this.cancel();
    if (!failed) {
      this.#delayMs = FIRST_MS;
      return;
    }
    this.#timer = setTimeout(again, this.#delayMs);
    this.#delayMs = Math.min(this.#delayMs * 2, MAX_MS);
  }

  /** Drop the waiting retry (a newer snapshot supersedes it). */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

const FIRST_MS = 1_000;
const MAX_MS = 30_000;
