import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { cpuSet, formatCpuList, formatCpuMask, parseCpuList, parseCpuMask } from "../src/cpus.js";

// An independent formulation of the kernel's cpumask text: one big integer, printed in hex,
// padded to ceil(cpuCount / 4) digits, then split into 8-digit groups from the right.
const reference = (cpus: readonly number[], cpuCount: number): string => {
  let n = 0n;
  for (const c of cpus) n |= 1n << BigInt(c);
  const hex = n.toString(16).padStart(Math.ceil(cpuCount / 4), "0");
  const groups: string[] = [];
  for (let end = hex.length; end > 0; end -= 8) groups.unshift(hex.slice(Math.max(0, end - 8), end));
  return groups.join(",");
};

const setOf = (maxCount: number) =>
  fc
    .integer({ min: 1, max: maxCount })
    .chain((count) =>
      fc.tuple(
        fc.constant(count),
        fc.uniqueArray(fc.integer({ min: 0, max: count - 1 }), { maxLength: Math.min(count, 300) }),
      ),
    );

describe("CPU masks", () => {
  it("formats 40 CPUs as the kernel does", () => {
    const all40 = cpuSet(Array.from({ length: 40 }, (_, i) => i));
    expect(formatCpuMask(all40, 40)).toBe("ff,ffffffff");
    expect(formatCpuMask(cpuSet([0]), 40)).toBe("00,00000001");
    expect(formatCpuMask(cpuSet([0, 1]), 2)).toBe("3");
    expect(formatCpuMask(cpuSet([31]), 32)).toBe("80000000");
    expect(formatCpuMask(cpuSet([32]), 33)).toBe("1,00000000");
    expect(formatCpuMask(cpuSet([]), 2)).toBe("0");
  });

  it("mask text equals an independent big-integer formulation for 1..1100 CPUs", () => {
    fc.assert(
      fc.property(setOf(1100), ([count, cpus]) => {
        expect(formatCpuMask(cpuSet(cpus), count)).toBe(reference(cpus, count));
      }),
      { numRuns: 300 },
    );
  });

  it("parse(format(set)) = set for CPU counts up to 4096", () => {
    fc.assert(
      fc.property(setOf(4096), ([count, cpus]) => {
        const set = cpuSet(cpus);
        expect(parseCpuMask(formatCpuMask(set, count))._unsafeUnwrap()).toEqual(set);
      }),
      { numRuns: 300 },
    );
  });

  it("reads what the kernel prints, with the newline and short forms", () => {
    expect(parseCpuMask("00,00000003\n")._unsafeUnwrap()).toEqual([0, 1]);
    expect(parseCpuMask("f")._unsafeUnwrap()).toEqual([0, 1, 2, 3]);
    expect(parseCpuMask("0")._unsafeUnwrap()).toEqual([]);
    expect(parseCpuMask("")._unsafeUnwrapErr()).toContain("is not a CPU mask");
    expect(parseCpuMask("3,,1").isErr()).toBe(true);
    expect(parseCpuMask("123456789").isErr()).toBe(true);
  });
});

describe("CPU lists", () => {
  it("parse(format(set)) = set", () => {
    fc.assert(
      fc.property(setOf(4096), ([, cpus]) => {
        const set = cpuSet(cpus);
        expect(parseCpuList(formatCpuList(set))._unsafeUnwrap()).toEqual(set);
      }),
      { numRuns: 300 },
    );
  });

  it("reads kernel lists and refuses anything else", () => {
    expect(parseCpuList("0-3,8,10-11\n")._unsafeUnwrap()).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList("")._unsafeUnwrap()).toEqual([]);
    expect(formatCpuList(cpuSet([0, 1, 2, 5, 7, 8]))).toBe("0-2,5,7-8");
    expect(parseCpuList("3-1").isErr()).toBe(true);
    expect(parseCpuList("0;rm").isErr()).toBe(true);
    expect(parseCpuList("99999").isErr()).toBe(true);
  });
});
