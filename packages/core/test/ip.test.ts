import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { bigIntToIp, compareIp, ipToBigInt, parseCidr, parseIp } from "../src/ip.js";

describe("parseIp", () => {
  it.each([
    ["198.18.0.1", "198.18.0.1"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::", "::"],
    ["::ffff:198.18.0.1", "::ffff:c612:1"],
    ["2001:db8:1:1:1:1:1:1", "2001:db8:1:1:1:1:1:1"],
  ])("canonicalises %s to %s", (input, canonical) => {
    expect(parseIp(input)._unsafeUnwrap()).toBe(canonical);
  });

  it.each([
    "",
    "198.18.0",
    "198.18.0.256",
    "198.018.0.1",
    "1.2.3.4.5",
    "2001:db8::1::2",
    "2001:db8:::1",
    "gggg::1",
    "198.18.0.1/32",
    " 198.18.0.1",
    "fe80::1%eth0",
  ])("rejects %j", (input) => {
    expect(parseIp(input).isErr()).toBe(true);
  });

  it("round-trips every IPv6 integer through text", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        const ip = bigIntToIp(v, 6);
        expect(parseIp(ip)._unsafeUnwrap()).toBe(ip);
        expect(ipToBigInt(ip)).toBe(v);
      }),
    );
  });

  it("orders addresses numerically", () => {
    const sorted = (["198.18.100.9", "2001:db8::1", "198.18.100.10"] as const)
      .map((s) => parseIp(s)._unsafeUnwrap())
      .sort(compareIp);
    expect(sorted).toEqual(["198.18.100.9", "198.18.100.10", "2001:db8::1"]);
  });
});

describe("parseCidr", () => {
  it("canonicalises and refuses host bits", () => {
    expect(parseCidr("2001:DB8:100::/120")._unsafeUnwrap()).toBe("2001:db8:100::/120");
    expect(parseCidr("198.18.1.1/24")._unsafeUnwrapErr()).toContain("did you mean 198.18.1.0/24");
    expect(parseCidr("198.18.1.1/24", true)._unsafeUnwrap()).toBe("198.18.1.0/24");
    expect(parseCidr("198.18.1.0/33").isErr()).toBe(true);
  });
});
