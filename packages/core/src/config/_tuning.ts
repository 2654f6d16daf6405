import { isRecord } from "../_json.js";
import { cpuSet, parseCpuList, type CpuSet } from "../cpus.js";
import type { LbNode } from "../settings.js";
import type { DeclaredTopology, IrqAffinityMode, RpsMode, TuningConfig } from "../tuning.js";
import { boolean, checkKnown, defaulted, oneOf, readField, type Bad, type Section } from "./_field.js";
import { parseDeclaredTopology, TOPOLOGY_KEYS } from "./_topology.js";

const RPS_MODES = ["auto", "always", "off"] as const satisfies readonly RpsMode[];
const IRQ_AFFINITY_MODES = ["off", "spread"] as const satisfies readonly IrqAffinityMode[];
// The kernel keeps the global RFS table in one allocation; 2^26 entries is far beyond any NIC's need.
const MAX_SOCK_FLOW_ENTRIES = 1 << 26;

/** The fields of `tuning`. */
export const TUNING_FIELDS = {
  rps: defaulted<RpsMode>({
    type: RPS_MODES.join(" | "),
    default: "auto",
    example: "always",
    description: "auto: RPS where the device has fewer receive queues than NUMA-local CPUs.",
    parse: (v, p, bad) => oneOf(v, RPS_MODES, p, bad),
  }),
  rfs: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "false",
    description: "Receive Flow Steering on the interfaces that get RPS.",
  }),
  rpsSockFlowEntries: defaulted<number>({
    type: "power of two",
    default: 32768,
    example: "65536",
    description: "RFS's global flow table; each queue gets entries / queues.",
    // The kernel rounds the table up to a power of two; asking for one reads back what was written.
    parse: (v, p, bad) =>
      typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= MAX_SOCK_FLOW_ENTRIES && (v & (v - 1)) === 0
        ? v
        : bad(p, `must be a power of two from 1 to ${MAX_SOCK_FLOW_ENTRIES}`),
  }),
  xps: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "false",
    description: "Share the CPUs over the transmit queues (devices with 2 or more).",
  }),
  irqAffinity: defaulted<IrqAffinityMode>({
    type: IRQ_AFFINITY_MODES.join(" | "),
    default: "off",
    example: "spread",
    description: "spread: pin each queue interrupt to one NUMA-local CPU (and print the irqbalance ban).",
    parse: (v, p, bad) => oneOf(v, IRQ_AFFINITY_MODES, p, bad),
  }),
  excludeCpus: defaulted<CpuSet>({
    type: "CPU list",
    default: cpuSet([]),
    written: "",
    defaultText: "none",
    example: '"0-1"',
    description: "CPUs never used for steering, e.g. those HAProxy is pinned to.",
    parse: (v, p, bad) => {
      if (typeof v === "number" && Number.isInteger(v))
        return parseCpuList(`${v}`).match(
          (c) => c,
          (e) => bad(p, e),
        );
      if (typeof v !== "string") return bad(p, 'must be a CPU list like "0-1,8"');
      return parseCpuList(v).match(
        (c) => c,
        (e) => bad(p, e),
      );
    },
  }),
  topologies: defaulted<DeclaredTopology[], readonly LbNode[]>({
    type: "list",
    default: [],
    defaultText: "none",
    example: "[{node: lb1, cpus: 8, rxQueues: 1, txQueues: 1}]",
    description: `Per LB node: { ${TOPOLOGY_KEYS.join(", ")} }, so render writes tuning.json without the machine.`,
    parse: (v, p, bad, lbNodes) => {
      if (!Array.isArray(v)) return bad(p, "must be a list of LB node topologies");
      const topologies: DeclaredTopology[] = [];
      v.forEach((t, i) => {
        const parsed = parseDeclaredTopology(t, `${p}[${i}]`, lbNodes, bad);
        if (parsed === undefined) return;
        if (topologies.some((x) => x.node === parsed.node))
          bad(`${p}[${i}].node`, `LB node ${parsed.node} is declared more than once`);
        else topologies.push(parsed);
      });
      return topologies;
    },
  }),
};

/** Defaults of the config's `tuning` section, as a config spells them. */
export const TUNING_DEFAULTS = {
  rps: TUNING_FIELDS.rps.default,
  rfs: TUNING_FIELDS.rfs.default,
  rpsSockFlowEntries: TUNING_FIELDS.rpsSockFlowEntries.default,
  xps: TUNING_FIELDS.xps.default,
  irqAffinity: TUNING_FIELDS.irqAffinity.default,
  excludeCpus: "",
  topologies: [] as readonly DeclaredTopology[],
} as const;

/** The `tuning` section. */
export const TUNING_SECTION: Section = {
  type: "mapping",
  defaultText: "{}",
  example: "{}",
  description: "Packet-processing tuning for portico tune (RPS, RFS, XPS, IRQ affinity).",
  fields: TUNING_FIELDS,
};

/** Parse the optional `tuning` section; every field has a default, every problem is reported through `bad`. */
export const parseTuningSection = (raw: unknown, lbNodes: readonly LbNode[], bad: Bad): TuningConfig | undefined => {
  const s = raw ?? {};
  if (!isRecord(s)) return bad("tuning", "must be a mapping");
  checkKnown(s, Object.keys(TUNING_FIELDS), "tuning", bad);
  const F = TUNING_FIELDS;
  const rps = readField(F.rps, s, "rps", "tuning", bad);
  const rfs = readField(F.rfs, s, "rfs", "tuning", bad);
  const xps = readField(F.xps, s, "xps", "tuning", bad);
  const irqAffinity = readField(F.irqAffinity, s, "irqAffinity", "tuning", bad);
  const rpsSockFlowEntries = readField(F.rpsSockFlowEntries, s, "rpsSockFlowEntries", "tuning", bad);
  const excludeCpus = readField(F.excludeCpus, s, "excludeCpus", "tuning", bad);
  const topologies = readField(F.topologies, s, "topologies", "tuning", bad, lbNodes) ?? [];
  if (
    rps === undefined ||
    rfs === undefined ||
    xps === undefined ||
    irqAffinity === undefined ||
    rpsSockFlowEntries === undefined ||
    excludeCpus === undefined
  )
    return undefined;
  return { rps, rfs, xps, irqAffinity, rpsSockFlowEntries, excludeCpus, topologies };
};
