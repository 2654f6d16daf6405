import type { NftablesConfig } from "../settings.js";
import { MAGLEV_SIZES } from "../maglev.js";
import { DATA_PLANES, L4_DATA_PLANES, type DataPlane, type L4DataPlane } from "../vocabulary.js";
import {
  boolean,
  checkKnown,
  defaulted,
  oneOf,
  optional,
  readFields,
  wholeNumber,
  type Bad,
  type Section,
} from "./_field.js";
import { safePath } from "./_haproxy.js";

/** The fields of `nftables`. */
export const NFTABLES_FIELDS = {
  configPath: defaulted<string>({
    ...safePath,
    default: "/run/portico-nftables.conf",
    example: "/run/portico-nftables.conf",
    description:
      "Where the L4 ruleset (Portico's own nftables tables) is written before nft -f loads it. Runtime state, " +
      "as the loaded tables are: portico run loads it again when it starts.",
  }),
  apply: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "false",
    description: "Whether portico apply and portico run load the L4 ruleset with nft; false when nothing is L4.",
  }),
  tcpDataPlane: defaulted<DataPlane>({
    type: DATA_PLANES.join(" | "),
    default: "proxy",
    example: "direct",
    description: "The data plane of TCP ports whose Service has no portico.dev/data-plane annotation.",
    parse: (v, p, bad) => oneOf(v, DATA_PLANES, p, bad),
  }),
  udpDataPlane: defaulted<L4DataPlane>({
    type: L4_DATA_PLANES.join(" | "),
    default: "nat",
    example: "direct",
    description: "The data plane of UDP ports whose Service has no portico.dev/data-plane annotation.",
    parse: (v, p, bad) => oneOf(v, L4_DATA_PLANES, p, bad),
  }),
  sctpDataPlane: defaulted<L4DataPlane>({
    type: L4_DATA_PLANES.join(" | "),
    default: "nat",
    example: "nat",
    description: "The data plane of SCTP ports whose Service has no portico.dev/data-plane annotation.",
    parse: (v, p, bad) => oneOf(v, L4_DATA_PLANES, p, bad),
  }),
  maglevTableSize: optional<number>({
    type: MAGLEV_SIZES.join(" | "),
    defaultText: "absent (chosen from the node count)",
    example: "65521",
    description:
      "Slots of every Maglev table (a prime). Absent, chosen from the count of eligible nodes (the cluster's, " +
      "not a Service's, so pods, health verdicts and node selectors never resize a table): the smallest listed " +
      "of at least 500 per node and at least 16381, i.e. 16381 up to 32 nodes, 32749 up to 65, 65521 up to 131, " +
      "131071 beyond (under 500 per node past 262); at 500 per node one of N nodes leaving moves at most 1/N + 1% " +
      "of the flows. Set, it stays fixed whatever the nodes.",
    parse: (v, p, bad) =>
      typeof v === "number" && (MAGLEV_SIZES as readonly number[]).includes(v)
        ? v
        : bad(p, `must be one of ${MAGLEV_SIZES.join(", ")}`),
  }),
  flowPinTimeoutS: defaulted<number>({
    ...wholeNumber(60, 864_000),
    default: 86_400,
    example: "3600",
    description:
      "Seconds an idle TCP or SCTP flow through direct stays pinned to its node (kube-proxy's established TCP " +
      "conntrack timeout); a TCP flow whose client sent FIN or RST keeps its pin 120 s more. A pinned flow " +
      "keeps its node whatever nodes join.",
  }),
  udpFlowPinTimeoutS: defaulted<number>({
    ...wholeNumber(10, 864_000),
    default: 120,
    example: "300",
    description: "Seconds an idle UDP flow through direct stays pinned to its node (conntrack's UDP stream timeout).",
  }),
  flowPinMapSize: defaulted<number>({
    ...wholeNumber(1_024, 16_777_216),
    default: 65_536,
    example: "262144",
    description:
      "Flows each direct listener pins at most; about 150 bytes of kernel memory each when full. Flows beyond " +
      "it (a SYN flood) are forwarded by the Maglev table alone, unpinned.",
  }),
};

/** The `nftables` section. */
export const NFTABLES_SECTION: Section = {
  type: "mapping",
  defaultText: "{}",
  example: "{udpDataPlane: direct}",
  description: "The in-kernel L4 data plane (nat and direct forwarding with Maglev tables) and its defaults.",
  fields: NFTABLES_FIELDS,
};

/** Parse the `nftables` mapping; a field left undefined had a problem, recorded through `bad`. */
export const parseNftables = (
  s: Readonly<Record<string, unknown>>,
  p: string,
  bad: Bad,
): { -readonly [K in keyof NftablesConfig]-?: NftablesConfig[K] | undefined } => {
  const v = readFields(NFTABLES_FIELDS, s, p, bad);
  checkKnown(s, Object.keys(NFTABLES_FIELDS), p, bad);
  return v;
};
