import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hash16, hash53 } from "../src/hash.js";

// hash16 walks the text once for both of its seeds; it must stay the two seeded hash53 it is
// defined as, since every derived identifier in every installed file carries it.
const twoSeeds = (text: string): string =>
  (hash53(text, 1) % 0x100000000).toString(16).padStart(8, "0") +
  (hash53(text, 2) % 0x100000000).toString(16).padStart(8, "0");

describe("hash16", () => {
  it("hash16 is hash53 seeded 1 then 2, low 32 bits each, as sixteen hex digits", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => hash16(s) === twoSeeds(s)));
    expect(hash16("")).toBe(twoSeeds(""));
    expect(hash16("node\u0000worker-1")).toMatch(/^[0-9a-f]{16}$/);
  });
});
