import { hash53 } from "./hash.js";

/** MAGLEV_SIZES lists the prime table sizes a Maglev table may have, smallest first. */
export const MAGLEV_SIZES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;

/** MaglevMember is one entry of a Maglev table: a name (a node's) and its weight (0 leaves it out). */
export interface MaglevMember {
  readonly name: string;
  readonly weight: number;
}

/** MaglevTable is a consistent-hash lookup table: slot `i` of `slots` is an index into `members`. */
export interface MaglevTable {
  /** A prime from {@link MAGLEV_SIZES}. */
  readonly size: number;
  /** The members with a positive weight, sorted by name, duplicates merged. */
  readonly members: readonly MaglevMember[];
  /** `size` entries; empty when no member has a positive weight. */
  readonly slots: readonly number[];
}

/** The fewest slots per node a table of {@link maglevSize} has, up to the largest listed size. */
export const MAGLEV_SLOTS_PER_NODE = 500;

/** The smallest table {@link maglevSize} gives, whatever few nodes there are (Cilium's default too). */
export const MAGLEV_SIZE_MIN = 16381;

/**
 * maglevSize is the table size for `nodes` nodes: the smallest listed prime of at least
 * {@link MAGLEV_SLOTS_PER_NODE} slots per node and at least {@link MAGLEV_SIZE_MIN}, at most the
 * largest listed. Maglev moves more flows beyond a leaving node's own the fewer slots each node
 * has: at 500 a node, one of N leaving moves at most 1/N + 1% of the flows (at 328 a node, 16381
 * slots over 50 nodes, up to 1/N + 1.2%). So 16381 up to 32 nodes, 32749 up to 65, 65521 up to
 * 131, 131071 beyond (fewer than 500 a node past 262).
 */
export const maglevSize = (nodes: number): number =>
  MAGLEV_SIZES.find((p) => p >= MAGLEV_SIZE_MIN && p >= MAGLEV_SLOTS_PER_NODE * nodes) ??
  MAGLEV_SIZES[MAGLEV_SIZES.length - 1]!;

// The members a table is made of, in name order: names compared by code unit so the order is
// the same everywhere, weights rounded down to whole numbers.
const normalize = (members: readonly MaglevMember[]): MaglevMember[] => {
  const byName = new Map<string, number>();
  for (const m of members) {
    const w = Number.isFinite(m.weight) ? Math.floor(m.weight) : 0;
    if (w > 0) byName.set(m.name, (byName.get(m.name) ?? 0) + w);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, weight]) => ({ name, weight }));
};

/**
 * The `j`th preferred slot of the member whose name hashes to `seed`: a well-mixed draw (the
 * murmur3 finaliser over the seed and `j`), so members' preferences are independent. The paper's
 * `offset + j * skip` would be cheaper, but its arithmetic lists can shadow one another: in a
 * 5-member table of 16381 slots (two of its members shared a skip) one member leaving moved 12-16%
 * of the others' slots.
 */
const preference = (seed: number, j: number, m: number): number => {
  let x = seed ^ Math.imul(j + 1, 0x9e3779b9);
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) >>> 0) % m;
};

/**
 * maglevTable builds the Maglev lookup table (Eisenbud et al., NSDI 2016) of the members: each
 * member walks its own sequence of preferred slots (see {@link preference}), and
 * members take turns claiming their next free slot, a member of weight w taking w turns for
 * every `max weight` rounds. The table depends only on the set of names and weights, never on
 * their order, so every LB node computes the same one. `size` is the caller's (a plan's comes from
 * its node count, never from the members, so a member's weight or health never resizes a table).
 */
export const maglevTable = (members: readonly MaglevMember[], size: number): MaglevTable => {
  const list = normalize(members);
  if (list.length === 0) return { size, members: list, slots: [] };
  const seeds = list.map((x) => hash53(x.name, 0x6d61676c) % 0x100000000);
  const next = list.map(() => 0);
  const credit = list.map(() => 0);
  const max = Math.max(...list.map((x) => x.weight));
  const slots = new Array<number>(size).fill(-1);
  let filled = 0;
  while (filled < size) {
    for (let i = 0; i < list.length && filled < size; i++) {
      credit[i]! += list[i]!.weight;
      if (credit[i]! < max) continue;
      credit[i]! -= max;
      let c = preference(seeds[i]!, next[i]!, size);
      while (slots[c] !== -1) {
        next[i]! += 1;
        c = preference(seeds[i]!, next[i]!, size);
      }
      slots[c] = i;
      next[i]! += 1;
      filled += 1;
    }
  }
  return { size, members: list, slots };
};

/** maglevShares counts the slots each member of a table holds, by name (in the table's order). */
export const maglevShares = (table: MaglevTable): ReadonlyMap<string, number> => {
  const counts = table.members.map(() => 0);
  for (const s of table.slots) counts[s]! += 1;
  return new Map(table.members.map((x, i) => [x.name, counts[i]!]));
};

/** maglevOwner is the name of the member holding slot `slot` of a table (undefined when it is empty). */
export const maglevOwner = (table: MaglevTable, slot: number): string | undefined => {
  const i = table.slots[slot];
  return i === undefined ? undefined : table.members[i]?.name;
};
