import { describe, expect, it } from "vitest";
import { parseDuration } from "../src/duration.js";

describe("durations", () => {
  it("reads one number and a unit within bounds", () => {
    expect(parseDuration("500ms", 1, 86_400_000)._unsafeUnwrap()).toBe(500);
    expect(parseDuration("2m", 1, 86_400_000)._unsafeUnwrap()).toBe(120_000);
    expect(parseDuration("25h", 1, 86_400_000).isErr()).toBe(true);
    expect(parseDuration("5 s", 1, 86_400_000).isErr()).toBe(true);
  });
});
