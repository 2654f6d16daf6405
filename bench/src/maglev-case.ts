// Maglev: flows moved when one of N nodes leaves. Each run builds the table of N nodes (names of
// that run) at the size Portico picks for N eligible nodes without nftables.maglevTableSize
// (maglevSize), and the table without one of them at the same size (no N here is at a bound, so
// the plan after the node left keeps the size), and follows 100k flows (a hash of each flow's
// 5-tuple, mod the table size, as the ruleset's jhash does) from one table to the other. Reported
// per N: with equal weights, the share of all flows that moved (goal at most 1/N + 1%); with
// pods-per-node weights 1-4, the share of all flows that moved although their node stayed (goal
// at most 1%).
// Usage: node maglev-case.js <runs>  -> one JSON line.
import { hash53, maglevSize, maglevTable } from "@portico/core";
import { report, type CaseFigure } from "./_case.js";

const [runs = 10] = process.argv.slice(2).map(Number);
const FLOWS = 100_000;
const flowSlots = (size: number): Int32Array => {
  const out = new Int32Array(FLOWS);
  for (let f = 0; f < FLOWS; f++) out[f] = hash53(`198.19.${f >> 8}.${f & 255}:${40000 + (f % 9973)}`) % size;
  return out;
};

const figures: CaseFigure[] = [];
for (const n of [3, 5, 10, 20, 50, 100]) {
  const equal: number[] = [];
  const beyond: number[] = [];
  const size = maglevSize(n);
  const slots = flowSlots(size);
  for (let r = 0; r < runs; r++) {
    for (const weighted of [false, true]) {
      const members = Array.from({ length: n }, (_, i) => ({
        name: `node-${r * 100 + i}`,
        weight: weighted ? 1 + ((r + i) % 4) : 1,
      }));
      const gone = members[r % n]!.name;
      const before = maglevTable(members, size);
      const after = maglevTable(
        members.filter((m) => m.name !== gone),
        size,
      );
      let moved = 0;
      let others = 0;
      for (const s of slots) {
        const was = before.members[before.slots[s]!]!.name;
        if (was === after.members[after.slots[s]!]!.name) continue;
        moved++;
        if (was !== gone) others++;
      }
      (weighted ? beyond : equal).push((100 * (weighted ? others : moved)) / FLOWS);
    }
  }
  figures.push({
    name: `Maglev: flows moved when 1 of ${n} equal nodes leaves (table ${size})`,
    values: equal,
    unit: "%",
    goal: `<= ${(100 / n + 1).toFixed(1)} % (1/N + 1%)`,
  });
  figures.push({
    name: `Maglev: flows of staying nodes moved when 1 of ${n} nodes weighted 1-4 leaves (table ${size})`,
    values: beyond,
    unit: "%",
    goal: "<= 1 %",
  });
}
report({ figures });
