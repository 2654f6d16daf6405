/**
 * Deep equality of plain data (what ingest and the planner build: primitives, arrays, plain
 * objects), with identity as the fast path. The incremental planner uses it to keep the objects
 * of the last plan wherever a new one would be equal, so later stages can compare by identity.
 */
export const same = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
};

/** `next`, or `previous` when the two are equal (so equal values keep one identity). */
export const keepSame = <T>(previous: T | undefined, next: T): T =>
  previous !== undefined && same(previous, next) ? previous : next;

/** Whether two lists hold the same objects (by identity) in the same order. */
export const sameItems = <T>(a: readonly T[] | undefined, b: readonly T[]): boolean => {
  if (a === b) return true;
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};
