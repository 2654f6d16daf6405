import { err, ok, type Result } from "neverthrow";
import { preview } from "./_preview.js";

/** ANNOUNCES: how a pool's VIPs reach the routers: `vrrp` (keepalived, one master) or `bgp` (every LB node, ECMP). */
export const ANNOUNCES = ["vrrp", "bgp"] as const;

/** Announce: one of {@link ANNOUNCES}. */
export type Announce = (typeof ANNOUNCES)[number];

/**
 * BGP_DRAINS: what a drained LB node does with its BGP announcements: `withdraw` them, or keep
 * them with the AS path prepended, so routers prefer the other LB nodes until this one stops.
 */
export const BGP_DRAINS = ["withdraw", "prepend"] as const;

/** BgpDrain: one of {@link BGP_DRAINS}. */
export type BgpDrain = (typeof BGP_DRAINS)[number];

declare const asnBrand: unique symbol;
/** Asn: a 4-byte BGP AS number, 1-4294967295. Made by {@link parseAsn}. */
export type Asn = number & { readonly [asnBrand]: true };

const ASN_MAX = 4_294_967_295;

/** parseAsn: a whole number 1-4294967295 as an {@link Asn}. */
export const parseAsn = (v: unknown): Result<Asn, string> =>
  typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= ASN_MAX
    ? ok(v as Asn)
    : err(`${preview(v)} is not an AS number (a whole number 1-${ASN_MAX})`);

/** isAsn: whether a value is an {@link Asn}. */
export const isAsn = (v: unknown): v is Asn => parseAsn(v).isOk();

/**
 * BgpCommunity: a standard community (RFC 1997, `asn:value`, both 0-65535) or a large community
 * (RFC 8092, `asn:value:value`, each 0-4294967295), as numbers.
 */
export type BgpCommunity =
  | { readonly kind: "standard"; readonly asn: number; readonly value: number }
  | { readonly kind: "large"; readonly asn: number; readonly data1: number; readonly data2: number };

/** GRACEFUL_SHUTDOWN: the well-known community 65535:0 (RFC 8326): receivers lower the route's preference to 0. */
export const GRACEFUL_SHUTDOWN: BgpCommunity = { kind: "standard", asn: 65535, value: 0 };

const inRange = (n: number, max: number): boolean => Number.isInteger(n) && n >= 0 && n <= max;

/** isBgpCommunity: whether a value is a well-formed {@link BgpCommunity} (a Plan can be built by hand). */
export const isBgpCommunity = (c: unknown): c is BgpCommunity => {
  if (typeof c !== "object" || c === null) return false;
  const x = c as Record<string, unknown>;
  const num = (k: string, max: number): boolean => typeof x[k] === "number" && inRange(x[k], max);
  if (x["kind"] === "standard") return num("asn", 65535) && num("value", 65535);
  return x["kind"] === "large" && num("asn", ASN_MAX) && num("data1", ASN_MAX) && num("data2", ASN_MAX);
};

/** parseBgpCommunity: `64512:100` (standard) or `64512:1:2` (large) as a {@link BgpCommunity}. */
export const parseBgpCommunity = (v: unknown): Result<BgpCommunity, string> => {
  const bad = err(`"${preview(v)}" is not a community like 64512:100 (standard) or 64512:1:2 (large)`);
  if (typeof v !== "string" || !/^[0-9]{1,10}(:[0-9]{1,10}){1,2}$/.test(v)) return bad;
  const n = v.split(":").map(Number);
  const c: BgpCommunity =
    n.length === 2
      ? { kind: "standard", asn: n[0]!, value: n[1]! }
      : { kind: "large", asn: n[0]!, data1: n[1]!, data2: n[2]! };
  return isBgpCommunity(c) ? ok(c) : bad;
};

/** formatBgpCommunity: a community as a config spells it. */
export const formatBgpCommunity = (c: BgpCommunity): string =>
  c.kind === "standard" ? `${c.asn}:${c.value}` : `${c.asn}:${c.data1}:${c.data2}`;
