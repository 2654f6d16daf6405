import { err, ok, type Result } from "neverthrow";
import { preview } from "./_preview.js";

/** An IP address family: 4 or 6. */
export type IpFamily = 4 | 6;

declare const ipBrand: unique symbol;
/**
 * An IP address in canonical text form (dotted quad for IPv4, RFC 5952 for IPv6).
 * Made only by {@link parseIp}; two equal addresses always have equal text.
 */
export type Ip = string & { readonly [ipBrand]: true };

declare const cidrBrand: unique symbol;
/** A canonical CIDR (`198.18.0.0/15`, `2001:db8::/32`): host bits are zero. Made by {@link parseCidr}. */
export type Cidr = string & { readonly [cidrBrand]: true };

const V4_MAX = (1n << 32n) - 1n;
const V6_MAX = (1n << 128n) - 1n;

/** The family of a canonical address. */
export const ipFamily = (ip: Ip): IpFamily => (ip.includes(":") ? 6 : 4);

/** The address as an unsigned integer (32 or 128 bits). */
export const ipToBigInt = (ip: Ip): bigint => {
  if (ipFamily(ip) === 4) {
    return ip.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  }
  const groups = expandV6(ip);
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
};

/** The canonical address of an integer in the given family; callers keep it in range. */
export const bigIntToIp = (value: bigint, family: IpFamily): Ip => {
  if (family === 4) {
    const parts = [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn));
    return parts.join(".") as Ip;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  return formatV6(groups) as Ip;
};

/** The largest address of a family as an integer. */
export const familyMax = (family: IpFamily): bigint => (family === 4 ? V4_MAX : V6_MAX);

/** Parse an IPv4 or IPv6 address (no zone, no prefix) into canonical form. */
export const parseIp = (text: string): Result<Ip, string> => {
  if (typeof text !== "string" || text.length === 0 || text.length > 45) {
    return err(`"${preview(text)}" is not an IP address`);
  }
  if (/^[0-9.]+$/.test(text)) {
    const parts = text.split(".");
    if (parts.length !== 4) return err(`"${preview(text)}" is not an IPv4 address`);
    for (const p of parts) {
      // Leading zeros are rejected, as Kubernetes' own validation does: 010 is ambiguous (octal?).
      if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) {
        return err(`"${preview(text)}" is not an IPv4 address`);
      }
    }
    return ok(parts.map(Number).join(".") as Ip);
  }
  const groups = parseV6Groups(text);
  if (groups === undefined) return err(`"${preview(text)}" is not an IP address`);
  return ok(formatV6(groups) as Ip);
};

/** Parse `addr/len` into a canonical CIDR; host bits must be zero unless `lenient` masks them off. */
export const parseCidr = (text: string, lenient = false): Result<Cidr, string> => {
  if (typeof text !== "string") return err("not a CIDR");
  const slash = text.indexOf("/");
  if (slash < 0) return err(`"${preview(text)}" is not a CIDR (no /prefix)`);
  const addr = parseIp(text.slice(0, slash));
  if (addr.isErr()) return err(`"${preview(text)}" is not a CIDR: ${addr.error}`);
  const lenText = text.slice(slash + 1);
  const family = ipFamily(addr.value);
  const bits = family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > bits) {
    return err(`"${preview(text)}" has a prefix length outside 0-${bits}`);
  }
  const len = Number(lenText);
  const { first } = cidrBounds(family, ipToBigInt(addr.value), len);
  if (first !== ipToBigInt(addr.value) && !lenient) {
    return err(`"${preview(text)}" has host bits set (did you mean ${bigIntToIp(first, family)}/${len}?)`);
  }
  return ok(`${bigIntToIp(first, family)}/${len}` as Cidr);
};

/** First and last address (as integers) of a prefix. */
export const cidrBounds = (family: IpFamily, value: bigint, len: number): { first: bigint; last: bigint } => {
  const bits = family === 4 ? 32n : 128n;
  const hostBits = bits - BigInt(len);
  const hostMask = (1n << hostBits) - 1n;
  const first = value & (familyMax(family) ^ hostMask);
  return { first, last: first | hostMask };
};

const parseV6Groups = (text: string): number[] | undefined => {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let head = text;
  let tailV4: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) fills the last two groups.
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = parseIp(text.slice(lastColon + 1));
    if (v4.isErr() || ipFamily(v4.value) !== 4) return undefined;
    const n = Number(ipToBigInt(v4.value));
    tailV4 = [(n >>> 16) & 0xffff, n & 0xffff];
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const want = 8 - tailV4.length;
  const double = head.indexOf("::");
  if (double !== head.lastIndexOf("::")) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (double >= 0) {
    const left = parse(head.slice(0, double));
    const right = parse(head.slice(double + 2));
    if (!left || !right || left.length + right.length >= want) return undefined;
    groups = [...left, ...new Array<number>(want - left.length - right.length).fill(0), ...right];
  } else {
    const all = parse(head);
    if (!all || all.length !== want) return undefined;
    groups = all;
  }
  return [...groups, ...tailV4];
};

const expandV6 = (ip: string): number[] => parseV6Groups(ip) ?? [0, 0, 0, 0, 0, 0, 0, 0];

// RFC 5952: lowercase, no leading zeros, the longest run (first on ties) of two or more zero groups as "::".
const formatV6 = (groups: readonly number[]): string => {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
};

/** Order addresses numerically, IPv4 before IPv6. */
export const compareIp = (a: Ip, b: Ip): number => {
  const fa = ipFamily(a);
  const fb = ipFamily(b);
  if (fa !== fb) return fa - fb;
  const x = ipToBigInt(a);
  const y = ipToBigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Order CIDRs by family, then address, then prefix length. */
export const compareCidr = (a: Cidr, b: Cidr): number => {
  const [aa, al] = a.split("/") as [Ip, string];
  const [ba, bl] = b.split("/") as [Ip, string];
  return compareIp(aa, ba) || Number(al) - Number(bl);
};

/** Whether a CIDR contains an address. */
export const cidrContains = (cidr: Cidr, ip: Ip): boolean => {
  const [addr, len] = cidr.split("/") as [Ip, string];
  const family = ipFamily(addr);
  if (family !== ipFamily(ip)) return false;
  const { first, last } = cidrBounds(family, ipToBigInt(addr), Number(len));
  const v = ipToBigInt(ip);
  return first <= v && v <= last;
};
