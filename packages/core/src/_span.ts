/**
 * Where two lists differ: an incremental plan keeps the objects that did not change, so the list
 * before and the list after share a prefix and a suffix of identical items, found by identity
 * alone. `before[0..start)` is `after[0..start)`, `before[endBefore..)` is `after[endAfter..)`.
 */
export interface Span {
  readonly start: number;
  readonly endBefore: number;
  readonly endAfter: number;
}

/** The common prefix and suffix of two lists, by identity. */
export const spanOf = <T>(before: readonly T[], after: readonly T[]): Span => {
  const lb = before.length;
  const la = after.length;
  const shorter = Math.min(lb, la);
  let start = 0;
  while (start < shorter && before[start] === after[start]) start++;
  let s = 0;
  while (s < shorter - start && before[lb - 1 - s] === after[la - 1 - s]) s++;
  return { start, endBefore: lb - s, endAfter: la - s };
};

/**
 * Lists in strictly ascending order of a string key (so each key appears once), as the planner
 * makes them. A plan is an immutable value, so a list once found in order stays in order: such
 * lists are remembered (weakly), and a list that shares its prefix and suffix with one in order is
 * checked only where it differs, which keeps comparing two plans proportional to their difference.
 */
export class Ordered<T> {
  readonly #key: (t: T) => unknown;
  readonly #known = new WeakSet<readonly T[]>();

  constructor(key: (t: T) => unknown) {
    this.#key = key;
  }

  /** Whether `list` is in strictly ascending order of string keys. */
  has(list: readonly T[]): boolean {
    if (this.#known.has(list)) return true;
    if (!this.#ascending(list, 0, list.length)) return false;
    this.#known.add(list);
    return true;
  }

  /**
   * Whether both lists are in strictly ascending order of string keys, given their common span:
   * `after` is checked only where it differs from `before`. It is not remembered: remembering
   * every list a diff derives costs more (a weak table grown on every call) than checking its
   * middle again, and the running plan, the one compared again and again, is remembered.
   */
  both(before: readonly T[], after: readonly T[], span: Span): boolean {
    if (!this.has(before)) return false;
    // The prefix and the suffix are in order (they are before's); the rest is checked, and where
    // it meets them.
    return this.#ascending(after, span.start, Math.min(after.length, span.endAfter + 1));
  }

  // Whether list[from..to) holds string keys in strictly ascending order.
  #ascending(list: readonly T[], from: number, to: number): boolean {
    if (to - from === 1 && list.length === 1 && typeof this.#key(list[0]!) !== "string") return false;
    for (let i = Math.max(from, 1); i < to; i++) {
      const x = this.#key(list[i - 1]!);
      const y = this.#key(list[i]!);
      if (typeof x !== "string" || typeof y !== "string" || !(x < y)) return false;
    }
    return true;
  }
}
