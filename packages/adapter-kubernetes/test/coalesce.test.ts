import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Coalescer } from "../src/index.js";

// Timing on vitest's fake clock: what fires when, exactly, with no real waiting.
const TIMING = { quietMs: 100, maxDelayMs: 1_000, leadMs: 10 };

let fired: number[];
let coalescer: Coalescer;
const start = Date.now();
const now = (): number => Date.now() - start;

beforeEach(() => {
  vi.useFakeTimers({ now: start });
  fired = [];
  coalescer = new Coalescer(TIMING, () => fired.push(now()));
});
afterEach(() => {
  coalescer.cancel();
  vi.useRealTimers();
});

describe("Coalescer", () => {
  it("fires a lone poke after leadMs, not after the full quiet period", () => {
    coalescer.poke();
    vi.advanceTimersByTime(9);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([10]);
    vi.advanceTimersByTime(2_000);
    expect(fired).toEqual([10]);
  });

  it("fires pokes that arrive together (gaps under leadMs) once", () => {
    for (let i = 0; i < 5; i++) {
      coalescer.poke();
      vi.advanceTimersByTime(3);
    }
    vi.advanceTimersByTime(2_000);
    expect(fired).toEqual([12 + 10]);
  });

  it("coalesces a burst that goes on after its first two calls with the full quiet period", () => {
    coalescer.poke(); // t=0: fires at 10
    for (let t = 20; t <= 80; t += 20) {
      vi.advanceTimersByTime(20);
      coalescer.poke(); // t=20: quick too (fires at 30); t=40..80: one call, 100 ms after the last
    }
    vi.advanceTimersByTime(2_000);
    expect(fired).toEqual([10, 30, 180]);
  });

  it("still fires a steady stream of pokes at maxDelayMs", () => {
    for (let i = 0; i < 150; i++) {
      coalescer.poke();
      vi.advanceTimersByTime(50);
    }
    // 0 and 50 are the two quick bursts; the stream from 100 on never pauses for quietMs.
    expect(fired).toEqual([10, 60, 1_100, 2_100, 3_100, 4_100, 5_100, 6_100, 7_100]);
  });

  it("is quick again after a quiet spell of quietMs", () => {
    coalescer.poke();
    vi.advanceTimersByTime(30);
    coalescer.poke();
    vi.advanceTimersByTime(30);
    coalescer.poke(); // the third burst within quietMs of the last poke: the full period
    vi.advanceTimersByTime(340);
    coalescer.poke(); // 340 ms after the last poke: a lone change again
    vi.advanceTimersByTime(1_000);
    expect(fired).toEqual([10, 40, 160, 410]);
  });

  it("waits the full quiet period always when leadMs is quietMs", () => {
    const calls: number[] = [];
    const plain = new Coalescer({ quietMs: 100, maxDelayMs: 1_000, leadMs: 100 }, () => calls.push(now()));
    plain.poke();
    vi.advanceTimersByTime(1_000);
    expect(calls).toEqual([100]);
  });

  it("drops a pending call on cancel", () => {
    coalescer.poke();
    coalescer.cancel();
    vi.advanceTimersByTime(2_000);
    expect(fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
