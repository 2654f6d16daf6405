import { err, ok, type Result } from "neverthrow";
import { sameItems } from "./same.js";

declare const brand: unique symbol;

/**
 * A set of CPU ids: sorted ascending, no duplicates, each a whole number from 0 to
 * {@link MAX_CPUS} - 1. Made only by {@link cpuSet}, {@link parseCpuList} and {@link parseCpuMask}.
 */
export type CpuSet = readonly number[] & { readonly [brand]: "CpuSet" };

/** The largest CPU count Portico plans for (Linux's `NR_CPUS` tops out at 8192). */
export const MAX_CPUS = 8192;

const isCpu = (n: number): boolean => Number.isInteger(n) && n >= 0 && n < MAX_CPUS;

/** Build a {@link CpuSet} from any CPU ids (sorted and deduplicated); ids out of range are a bug. */
export const cpuSet = (cpus: Iterable<number>): CpuSet => {
  const out = [...new Set(cpus)].sort((a, b) => a - b);
  for (const c of out) if (!isCpu(c)) throw new RangeError(`CPU id ${c} is not a whole number below ${MAX_CPUS}`);
  return out as unknown as CpuSet;
};

/** The CPUs in `a` that are not in `b`. */
export const cpuDifference = (a: CpuSet, b: readonly number[]): CpuSet => {
  const drop = new Set(b);
  return cpuSet(a.filter((c) => !drop.has(c)));
};

/** The CPUs in both `a` and `b`. */
export const cpuIntersection = (a: CpuSet, b: readonly number[]): CpuSet => {
  const keep = new Set(b);
  return cpuSet(a.filter((c) => keep.has(c)));
};

/** Whether two CPU sets hold the same CPUs (both are sorted and without repeats). */
export const sameCpus = (a: CpuSet, b: CpuSet): boolean => sameItems(a, b);

/**
 * Format a CPU set the way the kernel prints a cpumask (`rps_cpus`, `xps_cpus`, `smp_affinity`):
 * 32-bit groups in hex, most significant first, separated by commas; every group but the first
 * has 8 digits, the first as many as the CPUs above the last full group need. `cpuCount` is the
 * number of CPU ids the machine has (the kernel's `nr_cpu_ids`), so 40 CPUs, all set, give
 * `ff,ffffffff` and CPU 0 alone on that machine gives `00,00000001`.
 */
export const formatCpuMask = (cpus: CpuSet, cpuCount: number): string => {
  const last = cpus.length === 0 ? -1 : (cpus[cpus.length - 1] as number);
  const bits = Math.max(cpuCount, last + 1, 1);
  const groups = Math.ceil(bits / 32);
  const words = new Array<number>(groups).fill(0);
  for (const c of cpus) {
    const w = Math.floor(c / 32);
    words[w] = ((words[w] as number) | (1 << (c % 32))) >>> 0;
  }
  const topBits = bits - 32 * (groups - 1);
  const parts: string[] = [];
  for (let w = groups - 1; w >= 0; w--) {
    const width = w === groups - 1 ? Math.ceil(topBits / 4) : 8;
    parts.push((words[w] as number).toString(16).padStart(width, "0"));
  }
  return parts.join(",");
};

const MASK = /^[0-9a-fA-F]{1,8}(,[0-9a-fA-F]{1,8})*$/;

/** Parse a kernel cpumask (`00,00000003`, `3`, with or without a trailing newline). */
export const parseCpuMask = (text: string): Result<CpuSet, string> => {
  const t = text.trim();
  if (!MASK.test(t)) return err(`"${t.slice(0, 40)}" is not a CPU mask (comma-separated groups of up to 8 hex digits)`);
  const groups = t.split(",").reverse();
  const cpus: number[] = [];
  for (let w = 0; w < groups.length; w++) {
    const word = parseInt(groups[w] as string, 16);
    for (let b = 0; b < 32; b++) {
      if ((word >>> b) & 1) cpus.push(w * 32 + b);
    }
  }
  if (cpus.some((c) => !isCpu(c))) return err(`"${t.slice(0, 40)}" names a CPU at or above ${MAX_CPUS}`);
  return ok(cpuSet(cpus));
};

/** Format a CPU set as a kernel CPU list (`0-3,8,10-11`), as in `smp_affinity_list`. */
export const formatCpuList = (cpus: CpuSet): string => {
  const parts: string[] = [];
  let i = 0;
  while (i < cpus.length) {
    const start = cpus[i] as number;
    let end = start;
    while (i + 1 < cpus.length && cpus[i + 1] === end + 1) {
      end++;
      i++;
    }
    parts.push(start === end ? `${start}` : `${start}-${end}`);
    i++;
  }
  return parts.join(",");
};

const LIST_ITEM = /^(\d{1,5})(?:-(\d{1,5}))?$/;

/** Parse a kernel CPU list (`0-3,8`; empty text is the empty set), as `/sys/devices/system/cpu/online` prints it. */
export const parseCpuList = (text: string): Result<CpuSet, string> => {
  const t = text.trim();
  if (t === "") return ok(cpuSet([]));
  const cpus: number[] = [];
  for (const item of t.split(",")) {
    const m = LIST_ITEM.exec(item.trim());
    if (m === null) return err(`"${t.slice(0, 40)}" is not a CPU list like 0-3,8`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || !isCpu(a) || !isCpu(b))
      return err(`"${item}" in "${t.slice(0, 40)}" is not a CPU range below ${MAX_CPUS}`);
    for (let c = a; c <= b; c++) cpus.push(c);
  }
  return ok(cpuSet(cpus));
};
