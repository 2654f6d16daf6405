import { isRecord } from "../_json.js";
import { preview } from "../_preview.js";
import { parseRange } from "../addressRange.js";
import { parseSelectorObject, type LabelSelector } from "../labels.js";
import { ANNOUNCES, type Announce } from "../bgp.js";
import { isDns1123Label } from "../model.js";
import type { AddressRange, Pool } from "../settings.js";
import {
  boolean,
  checkKnown,
  checkUnique,
  defaulted,
  oneOf,
  optional,
  readField,
  type Bad,
  type Section,
} from "./_field.js";

const dns1123 = (v: unknown, q: string, bad: Bad): string | undefined =>
  isDns1123Label(v) ? v : bad(q, `"${preview(v)}" is not a DNS-1123 label (lowercase letters, digits, '-')`);

/** The fields of each of `pools`. */
export const POOL_FIELDS = {
  name: optional<string>({
    required: true,
    type: "DNS-1123 label",
    defaultText: "required",
    example: "public",
    description: "The name portico.dev/pool refers to.",
    parse: dns1123,
  }),
  addresses: optional<AddressRange[]>({
    required: true,
    type: "list of a-b ranges, CIDRs or addresses (IPv4 and IPv6)",
    defaultText: "required",
    example: '["198.18.100.10-198.18.100.50", "2001:db8:100::/120"]',
    description: "The addresses of the pool; an IPv6 prefix's all-zero address is never handed out.",
    parse: (v, q, bad) => {
      if (!Array.isArray(v) || v.length === 0)
        return bad(q, "must be a non-empty list of ranges (a-b), CIDRs or addresses");
      const ranges: AddressRange[] = [];
      v.forEach((a, i) => {
        const r = parseRange(a);
        if (r.isErr())
          bad(
            `${q}[${i}]`,
            `${r.error} (accepted: an address, a first-last range or a CIDR, ` +
              `e.g. 198.18.100.10-198.18.100.50 or 2001:db8:100::/120)`,
          );
        else ranges.push(r.value);
      });
      return ranges;
    },
  }),
  autoAssign: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "false",
    description: "false: only Services that ask for this pool (portico.dev/pool) or for an address in it get one.",
  }),
  namespaces: optional<string[]>({
    type: "list of namespace names",
    defaultText: "every namespace",
    example: "[team-a, team-b]",
    description: "Only Services in these namespaces may take addresses from the pool.",
    parse: (v, q, bad) =>
      !Array.isArray(v) || v.length === 0 || !v.every(isDns1123Label)
        ? bad(q, "must be a non-empty list of namespace names (DNS-1123 labels)")
        : [...new Set(v as string[])].sort(),
  }),
  serviceSelector: optional<LabelSelector>({
    type: "label selector (matchLabels, matchExpressions)",
    defaultText: "every Service",
    example: "{matchLabels: {tier: edge}}",
    description: "Only Services whose labels match may take addresses from the pool.",
    parse: (v, q, bad) =>
      parseSelectorObject(v).match(
        (s) => s,
        (e) => bad(q, e),
      ),
  }),
  announce: defaulted<Announce>({
    type: ANNOUNCES.join(" | "),
    default: "vrrp",
    example: "bgp",
    description:
      "vrrp: keepalived moves each VIP to one master; bgp: every LB node that can serve a VIP announces it " +
      "(section bgp) and the routers spread flows by ECMP.",
    parse: (v, q, bad) => oneOf(v, ANNOUNCES, q, bad),
  }),
};

/** The `pools` list. */
export const POOLS_SECTION: Section = {
  type: "list",
  defaultText: "required",
  example: "[{name: default, addresses: [...]}]",
  description: "Address pools, tried in this order. Ranges of different pools must not overlap.",
  fields: POOL_FIELDS,
  list: true,
};

// One of `pools`; undefined when it cannot be identified or has no address list.
const parsePool = (raw: unknown, path: string, bad: Bad): Pool | undefined => {
  if (!isRecord(raw)) return bad(path, "must be a mapping with name and addresses");
  checkKnown(raw, Object.keys(POOL_FIELDS), path, bad);
  const F = POOL_FIELDS;
  const name = readField(F.name, raw, "name", path, bad);
  const ranges = readField(F.addresses, raw, "addresses", path, bad);
  if (ranges === undefined) return undefined;
  const autoAssign = readField(F.autoAssign, raw, "autoAssign", path, bad);
  const namespaces = readField(F.namespaces, raw, "namespaces", path, bad);
  const serviceSelector = readField(F.serviceSelector, raw, "serviceSelector", path, bad);
  const announce = readField(F.announce, raw, "announce", path, bad);
  return name === undefined
    ? undefined
    : {
        name,
        ranges,
        autoAssign: autoAssign === true,
        ...(namespaces === undefined ? {} : { namespaces }),
        ...(serviceSelector === undefined ? {} : { serviceSelector }),
        announce: announce ?? "vrrp",
      };
};

// Ranges of different pools, or of one pool, must not overlap.
const checkPoolOverlap = (pools: readonly Pool[], bad: Bad): void => {
  const all = pools.flatMap((p) => p.ranges.map((r) => ({ pool: p.name, r })));
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const x = all[i]!;
      const y = all[j]!;
      if (x.r.family === y.r.family && x.r.first <= y.r.last && y.r.first <= x.r.last) {
        bad("pools", `${x.r.text} (pool ${x.pool}) overlaps ${y.r.text} (pool ${y.pool})`);
      }
    }
  }
};

/** Parse `pools`: a non-empty list of pools with unique names and ranges that do not overlap. */
export const parsePools = (raw: unknown, bad: Bad): Pool[] => {
  const pools: Pool[] = [];
  if (!Array.isArray(raw) || raw.length === 0) bad("pools", "must be a non-empty list of address pools");
  else
    raw.forEach((item, i) => {
      const pool = parsePool(item, `pools[${i}]`, bad);
      if (pool) pools.push(pool);
    });
  checkUnique(
    pools.map((p) => p.name),
    "pools",
    "pool name",
    bad,
  );
  checkPoolOverlap(pools, bad);
  return pools;
};
