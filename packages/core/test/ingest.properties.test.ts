import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ingest, ingestIncremental } from "../src/ingest.js";
import { clusterObjectsArb as clusterArb } from "../src/testing/arbitraries.js";

describe("incremental ingest", () => {
  // A sequence of clusters where each step keeps some objects (the same objects, as a watch cache
  // keeps them), replaces some with fresh copies (equal or not), and drops or adds others.
  const stepsArb = fc.array(fc.tuple(clusterArb, fc.array(fc.boolean(), { minLength: 20, maxLength: 20 })), {
    minLength: 1,
    maxLength: 4,
  });

  it("reads every snapshot as a full ingest does, keeps equal objects identical, and returns the last snapshot when nothing changed", () => {
    fc.assert(
      fc.property(clusterArb, stepsArb, (first, steps) => {
        let docs: unknown[] = first;
        let r = ingestIncremental(docs);
        expect(r.snapshot).toEqual(ingest(docs));
        for (const [next, keep] of steps) {
          // Objects of the last input that are kept as they are, beside the new step's objects.
          const kept = docs.filter((_, i) => keep[i % keep.length]);
          const copies = kept.map((o, i) => (keep[(i + 7) % keep.length] ? o : structuredClone(o)));
          const input = [
            ...copies,
            ...next.filter((o) => !copies.some((c) => JSON.stringify(c) === JSON.stringify(o))),
          ];
          const before = r;
          r = ingestIncremental(input, before.cache);
          const full = ingest(input);
          expect(r.snapshot).toEqual(full);
          // An object equal to one of the last snapshot is that object.
          for (const s of r.snapshot.services) {
            const was = before.snapshot.services.find((x) => x.key === s.key);
            if (was !== undefined && JSON.stringify(was) === JSON.stringify(s)) expect(s).toBe(was);
          }
          for (const n of r.snapshot.nodes) {
            const was = before.snapshot.nodes.find((x) => x.name === n.name);
            if (was !== undefined && JSON.stringify(was) === JSON.stringify(n)) expect(n).toBe(was);
          }
          // The same input again, in fresh copies: nothing changed, so the very same snapshot.
          const again = ingestIncremental(structuredClone(input), r.cache);
          expect(again.snapshot).toBe(r.snapshot);
          docs = input;
        }
      }),
      { numRuns: 60 },
    );
  });
});
