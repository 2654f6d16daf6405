import { describe, expect, it } from "vitest";
import { pollUntil } from "../src/poll.js";
import { readTextIfAny } from "../src/files.js";

describe("pollUntil and readTextIfAny", () => {
  it("asks until the check comes true, or gives up after the timeout", async () => {
    let asked = 0;
    expect(await pollUntil(async () => ++asked === 3, 5_000, 1)).toBe(true);
    expect(asked).toBe(3);
    expect(await pollUntil(async () => false, 30, 5)).toBe(false);
  });

  it("reads a file's text, and undefined for a file that is not there", async () => {
    expect(await readTextIfAny("/proc/self/comm")).toMatch(/\S/);
    expect(await readTextIfAny("/nonexistent/portico")).toBeUndefined();
  });
});
