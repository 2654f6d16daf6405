import { describe, expect, it } from "vitest";
import { BackoffState } from "../src/backoff.js";

describe("BackoffState", () => {
  it("doubles each wait up to the bound, however often the feed fails", () => {
    const b = new BackoffState({ initialMs: 50, maxMs: 400, jitter: 0.5, resetAfterMs: 1_000 });
    const waits = Array.from({ length: 7 }, (_, i) => b.failed(i, 0));
    expect(waits).toEqual([50, 100, 200, 400, 400, 400, 400]);
  });

  it("stretches each wait by up to its jitter, at the bound too, so LB nodes never retry in step", () => {
    const b = new BackoffState({ initialMs: 100, maxMs: 300, jitter: 0.5 });
    expect([b.failed(0, 1), b.failed(0, 1), b.failed(0, 1), b.failed(0, 0)]).toEqual([150, 300, 450, 300]);
    const c = new BackoffState({ initialMs: 100, maxMs: 1_000, jitter: 0.5 });
    expect(c.failed(0, 0.5)).toBe(125);
  });

  it("starts over only once the feed has been healthy for resetAfterMs, not on every attempt", () => {
    const b = new BackoffState({ initialMs: 50, maxMs: 10_000, jitter: 0, resetAfterMs: 1_000 });
    expect([b.failed(0, 0), b.failed(100, 0), b.failed(300, 0)]).toEqual([50, 100, 200]);
    b.healthy(500); // a list went through, and the watch failed soon after
    expect(b.failed(600, 0)).toBe(400);
    b.healthy(1_000);
    expect(b.failed(2_000, 0)).toBe(50);
  });
});
