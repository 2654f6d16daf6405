import { describe, expect, it } from "vitest";
import { formatDuration, formatEndpoint } from "../src/_format.js";
import { ip, port } from "./fixtures.js";

describe("formatEndpoint", () => {
  it("writes IPv4 as address:port", () => {
    expect(formatEndpoint(ip("198.18.0.11"), port(30080))).toBe("198.18.0.11:30080");
  });

  it("brackets IPv6 so the port is never read as the last group", () => {
    expect(formatEndpoint(ip("2001:db8::1"), port(80))).toBe("[2001:db8::1]:80");
    expect(formatEndpoint(ip("::1"), port(65535))).toBe("[::1]:65535");
  });

  it("prints the canonical form the parser made, whatever was written", () => {
    expect(formatEndpoint(ip("2001:DB8:0:0:0:0:0:0001"), port(443))).toBe("[2001:db8::1]:443");
    expect(formatEndpoint(ip("::ffff:198.18.0.1"), port(443))).toBe("[::ffff:c612:1]:443");
  });
});

describe("formatDuration", () => {
  it.each([
    [2000, "2s"],
    [1000, "1s"],
    [60_000, "60s"],
    [500, "500ms"],
    [1500, "1500ms"],
    [1, "1ms"],
  ])("%i ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
