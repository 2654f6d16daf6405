import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { maglevShares, maglevSize, maglevTable, MAGLEV_SIZE_MIN, MAGLEV_SIZES } from "../src/maglev.js";
import { maglevMembersArb } from "../src/testing/arbitraries.js";

// The invariants the nftables data plane relies on: flows spread as the weights say, a change
// moves few flows, and every LB node computes the same table from the same nodes.

describe("maglev", () => {
  it("the size is the smallest listed prime of at least 500 slots per node and 16381, up to the largest", () => {
    const largest = MAGLEV_SIZES[MAGLEV_SIZES.length - 1]!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (nodes) => {
        const size = maglevSize(nodes);
        expect(MAGLEV_SIZES).toContain(size);
        expect(size).toBeGreaterThanOrEqual(MAGLEV_SIZE_MIN);
        expect(size).toBeGreaterThanOrEqual(Math.min(500 * nodes, largest));
        // No smaller listed prime would do, and one node more never takes a smaller table.
        const smaller = MAGLEV_SIZES.filter((p) => p < size);
        expect(smaller.every((p) => p < MAGLEV_SIZE_MIN || p < 500 * nodes)).toBe(true);
        expect(maglevSize(nodes + 1)).toBeGreaterThanOrEqual(size);
      }),
    );
    expect([32, 33, 65, 66, 131, 132, 262, 263].map(maglevSize)).toEqual([
      16381, 32749, 32749, 65521, 65521, 131071, 131071, 131071,
    ]);
  });

  // The table's own invariants hold at any size: smaller ones keep these tests fast.
  const anySize = fc.constantFrom(251, 1021, 4093, 16381);

  it("every slot is held, whatever the members and size", () => {
    fc.assert(
      fc.property(maglevMembersArb, anySize, (members, size) => {
        const t = maglevTable(members, size);
        expect(t.slots).toHaveLength(t.size);
        expect(t.slots.every((s) => t.members[s] !== undefined)).toBe(true);
      }),
    );
  });

  it("each member's share is within 1% of the table of its weight's share, at the size for its count", () => {
    fc.assert(
      fc.property(maglevMembersArb, (members) => {
        const t = maglevTable(members, maglevSize(members.length));
        const total = members.reduce((s, m) => s + m.weight, 0);
        const shares = maglevShares(t);
        for (const m of members) {
          const want = (m.weight / total) * t.size;
          expect(Math.abs(shares.get(m.name)! - want)).toBeLessThanOrEqual(0.01 * t.size);
        }
      }),
      { numRuns: 50 },
    );
  });

  it("the table depends only on the set of members and weights, never on their order", () => {
    fc.assert(
      fc.property(
        maglevMembersArb.chain((m) => fc.tuple(fc.constant(m), fc.shuffledSubarray(m, { minLength: m.length }))),
        anySize,
        ([members, shuffled], size) => {
          expect(maglevTable(shuffled, size)).toEqual(maglevTable(members, size));
        },
      ),
    );
  });

  it("a member leaving moves its own slots plus at most 4% of the table", () => {
    fc.assert(
      fc.property(
        maglevMembersArb.filter((m) => m.length >= 2),
        fc.nat(),
        (members, k) => {
          const gone = members[k % members.length]!;
          const rest = members.filter((m) => m !== gone);
          // Same table size, as a node leaving a table of that many slots keeps it.
          const ta = maglevTable(members, maglevSize(members.length));
          const tb = maglevTable(rest, maglevSize(members.length));
          let own = 0;
          let others = 0;
          for (let i = 0; i < ta.size; i++) {
            const was = ta.members[ta.slots[i]!]!.name;
            if (was === gone.name) own++;
            else if (was !== tb.members[tb.slots[i]!]!.name) others++;
          }
          expect(own).toBe(maglevShares(ta).get(gone.name));
          expect(others).toBeLessThanOrEqual(0.04 * ta.size);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a member joining takes slots for itself and moves at most 4% of the table between others", () => {
    fc.assert(
      fc.property(
        maglevMembersArb.filter((m) => m.length >= 2),
        (members) => {
          const joined = members[members.length - 1]!;
          const size = maglevSize(members.length);
          const ta = maglevTable(members.slice(0, -1), size);
          const tb = maglevTable(members, size);
          let others = 0;
          for (let i = 0; i < ta.size; i++) {
            const now = tb.members[tb.slots[i]!]!.name;
            if (now !== joined.name && now !== ta.members[ta.slots[i]!]!.name) others++;
          }
          expect(others).toBeLessThanOrEqual(0.04 * ta.size);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("weights of zero leave a member out, duplicates merge, and no member gives an empty table", () => {
    expect(maglevTable([], 251).slots).toEqual([]);
    const t = maglevTable(
      [
        { name: "b", weight: 0 },
        { name: "a", weight: 1 },
        { name: "a", weight: 1 },
        { name: "c", weight: 2 },
      ],
      251,
    );
    expect(t.members).toEqual([
      { name: "a", weight: 2 },
      { name: "c", weight: 2 },
    ]);
    expect(maglevShares(t).get("a")).toBe((t.size + 1) / 2);
  });
});
