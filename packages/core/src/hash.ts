/**
 * A fast, well-mixed, deterministic 53-bit string hash (cyrb53 construction). Used for derived
 * identifiers and rendezvous hashing; it is not cryptographic and need not be.
 */
export const hash53 = (text: string, seed = 0): number => {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
};

/** Eight lowercase hex digits derived from `text`. */
export const hash8 = (text: string): string => (hash53(text) % 0x100000000).toString(16).padStart(8, "0");

const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/**
 * Sixteen lowercase hex digits derived from `text`: two differently seeded hashes, so a birthday
 * search needs about 2^32 inputs. Derived identifiers use it; the planner still checks them.
 */
export const hash16 = (text: string): string => {
  // hash53(text, 1) and hash53(text, 2) in one walk of the text (every derived identifier is one);
  // only their low 32 bits are kept, which are h1 as hash53 finishes it.
  let a1 = 0xdeadbeef ^ 1;
  let a2 = 0x41c6ce57 ^ 1;
  let b1 = 0xdeadbeef ^ 2;
  let b2 = 0x41c6ce57 ^ 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a1 = Math.imul(a1 ^ c, 2654435761);
    a2 = Math.imul(a2 ^ c, 1597334677);
    b1 = Math.imul(b1 ^ c, 2654435761);
    b2 = Math.imul(b2 ^ c, 1597334677);
  }
  return low32Hex(a1, a2) + low32Hex(b1, b2);
};

const low32Hex = (h1: number, h2: number): string => {
  const low = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  // Byte by byte from a table: toString(16) and padStart were most of an identifier's cost.
  return HEX[(low >>> 24) & 255]! + HEX[(low >>> 16) & 255]! + HEX[(low >>> 8) & 255]! + HEX[low & 255]!;
};
