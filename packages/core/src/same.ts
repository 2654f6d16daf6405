// Equality of plain data, the one home for it: deep (`same`), by identity item by item
// (`sameItems`), and as JSON prints it (`sameJson`).

/**
 * same tells whether two plain values (what ingest and the planner build: primitives, arrays,
 * plain objects) are deeply equal, with identity as the fast path. The incremental planner uses
 * it to keep the objects of the last plan wherever a new one would be equal, so later stages can
 * compare by identity.
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

/** keepSame returns `next`, or `previous` when the two are equal (so equal values keep one identity). */
export const keepSame = <T>(previous: T | undefined, next: T): T =>
  previous !== undefined && same(previous, next) ? previous : next;

/** sameItems tells whether two lists hold the same items (by identity, `===`) in the same order. */
export const sameItems = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean => {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * sameJson tells whether `JSON.stringify` prints `a` and `b` alike, without building the strings
 * when a walk shows it at once: identical values, or plain objects and arrays with the same keys
 * in the same order holding such values. Whatever the walk cannot vouch for (a `toJSON`, a boxed primitive,
 * a member printed alike but not identical) is settled by the strings themselves, so the answer
 * is always the one comparing the strings gives. `skip` leaves out one top-level key, as
 * `JSON.stringify({ ...a, [skip]: undefined })` does.
 */
export const sameJson = (a: unknown, b: unknown, skip?: string): boolean =>
  walk(a, b, skip) || stringify(a, skip) === stringify(b, skip);

const stringify = (v: unknown, skip: string | undefined): string | undefined =>
  JSON.stringify(skip !== undefined && typeof v === "object" && v !== null ? { ...v, [skip]: undefined } : v);

// True only when both values print the same; false means "compare the strings".
const walk = (a: unknown, b: unknown, skip?: string): boolean => {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || !plain(a) || !plain(b))
    return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length || skip !== undefined) return false;
    for (let i = 0; i < a.length; i++) if (!walk(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i]) return false;
    if (k !== skip && !walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
};

// Printed member by member: an array or an object of the plain kind with no toJSON.
const plain = (v: object): boolean => {
  if (typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
  if (Array.isArray(v)) return true;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};
