import { describe, expect, it } from "vitest";
import type { HealthCheckConfig, Millis } from "@portico/core";
import { checkTimeoutLines, checkTimeoutMs } from "../src/render/_healthCheck.js";

const config = (fastinterMs?: number): HealthCheckConfig =>
  ({
    kubeProxyPort: 10256,
    intervalMs: 2000,
    rise: 2,
    fall: 3,
    ...(fastinterMs === undefined ? {} : { fastinterMs: fastinterMs as Millis }),
  }) as HealthCheckConfig;

// The worst case inter + fall x timeout + (fall - 1) x fastinter stays 1 s inside the issue's
// inter + fall x fastinter + 2 s while the 500 ms floor allows.
const worst = (inter: number, fall: number, fastinter: number): number =>
  inter + fall * checkTimeoutMs(inter, fall, config(fastinter)) + (fall - 1) * fastinter;

describe("checkTimeoutMs", () => {
  it("is 500 ms for the defaults (fall 3, fastinter 500 ms) and 1 s where 1 s already fits", () => {
    expect(checkTimeoutMs(2000, 3, config(500))).toBe(500);
    expect(checkTimeoutMs(2000, 2, config(1500))).toBe(1000);
    expect(worst(2000, 3, 500)).toBe(2000 + 3 * 500 + 2000 - 1000);
  });

  it("keeps the worst case 1 s inside inter + fall x fastinter + 2 s above the floor", () => {
    for (const fall of [1, 2, 3, 4, 5])
      for (const fastinter of [500, 1000, 1500, 2000]) {
        const t = checkTimeoutMs(2000, fall, config(fastinter));
        expect(t % 100).toBe(0);
        expect(t).toBeGreaterThanOrEqual(500);
        expect(t).toBeLessThanOrEqual(1000);
        if (fall * 500 <= fastinter + 1000)
          expect(worst(2000, fall, fastinter)).toBeLessThanOrEqual(2000 + fall * fastinter + 1000);
      }
  });

  it("never goes below 500 ms, so a /healthz answering in a few hundred ms stays up", () => {
    expect(checkTimeoutMs(2000, 10, config(500))).toBe(500);
  });

  it("uses the check's own interval when fastinter is absent or slower", () => {
    expect(checkTimeoutMs(300, 3, config())).toBe(500);
    expect(checkTimeoutMs(2000, 3, config(5000))).toBe(1000);
  });
});

describe("checkTimeoutLines", () => {
  it("adds nothing at the defaults section's 1 s, and the connect timeout only where asked", () => {
    expect(checkTimeoutLines(1000, true)).toEqual([]);
    expect(checkTimeoutLines(500, true)).toEqual(["timeout connect 500ms", "timeout check 500ms"]);
    expect(checkTimeoutLines(500, false)).toEqual(["timeout check 500ms"]);
  });
});
