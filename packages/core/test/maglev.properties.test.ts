import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { maglevShares, maglevSize, maglevTable, MAGLEV_SIZES } from "../src/maglev.js";
import { maglevMembersArb } from "../src/testing/arbitraries.js";

// The invariants the nftables data plane relies on: flows spread as the weights say, a change
// moves few flows, and every LB node computes the same table from the same nodes.

describe("maglev", () => {
  it("every slot is held and the size is a listed prime of at least 1000 slots per member, up to 40", () => {
    fc.assert(
      fc.property(maglevMembersArb, (members) => {
        const t = maglevTable(members);
        expect(MAGLEV_SIZES).toContain(t.size);
        expect(t.size).toBe(maglevSize(members.length));
        expect(t.size).toBeGreaterThanOrEqual(Math.min(1000 * members.length, 65521));
        expect(t.slots).toHaveLength(t.size);
        expect(t.slots.every((s) => t.members[s] !== undefined)).toBe(true);
      }),
    );
  });

  it("each member's share is within 1% of the table of its weight's share", () => {
    fc.assert(
      fc.property(maglevMembersArb, (members) => {
        const t = maglevTable(members);
        const total = members.reduce((s, m) => s + m.weight, 0);
        const shares = maglevShares(t);
        for (const m of members) {
          const want = (m.weight / total) * t.size;
          expect(Math.abs(shares.get(m.name)! - want)).toBeLessThanOrEqual(0.01 * t.size);
        }
      }),
    );
  });

  it("the table depends only on the set of members and weights, never on their order", () => {
    fc.assert(
      fc.property(
        maglevMembersArb.chain((m) => fc.tuple(fc.constant(m), fc.shuffledSubarray(m, { minLength: m.length }))),
        ([members, shuffled]) => {
          expect(maglevTable(shuffled)).toEqual(maglevTable(members));
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
    expect(maglevTable([]).slots).toEqual([]);
    const t = maglevTable([
      { name: "b", weight: 0 },
      { name: "a", weight: 1 },
      { name: "a", weight: 1 },
      { name: "c", weight: 2 },
    ]);
    expect(t.members).toEqual([
      { name: "a", weight: 2 },
      { name: "c", weight: 2 },
    ]);
    expect(maglevShares(t).get("a")).toBe((t.size + 1) / 2);
  });
});
