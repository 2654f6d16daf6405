import type { LbNode } from "./config.js";
import { cpuSet, parseCpuList, type CpuSet } from "./cpus.js";
import { preview } from "./ip.js";
import {
  parseInterfaceName,
  type DeclaredTopology,
  type IrqAffinityMode,
  type QueueIrq,
  type RpsMode,
  type TuningConfig,
} from "./tuning.js";

/** Defaults of the config's `tuning` section. */
export const TUNING_DEFAULTS = {
  rps: "auto",
  rfs: true,
  rpsSockFlowEntries: 32768,
  xps: true,
  irqAffinity: "off",
  excludeCpus: "",
  topologies: [],
} as const;

const KNOWN = ["rps", "rfs", "rpsSockFlowEntries", "xps", "irqAffinity", "excludeCpus", "topologies"];
const TOPOLOGY_KNOWN = ["node", "cpus", "numaNodes", "rxQueues", "txQueues", "numaNode", "irqs"];
// The kernel keeps the global RFS table in one allocation; 2^26 entries is far beyond any NIC's need.
const MAX_SOCK_FLOW_ENTRIES = 1 << 26;

type Bad = (path: string, message: string) => undefined;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const oneOf = <T extends string>(v: unknown, values: readonly T[], path: string, bad: Bad): T | undefined =>
  typeof v === "string" && (values as readonly string[]).includes(v)
    ? (v as T)
    : bad(path, `"${preview(v)}" is not one of ${values.join(", ")}`);

const bool = (v: unknown, path: string, bad: Bad): boolean | undefined =>
  typeof v === "boolean" ? v : bad(path, "must be true or false");

/** Parse the optional `tuning` section; every field has a default, every problem is reported through `bad`. */
export const parseTuningSection = (raw: unknown, lbNodes: readonly LbNode[], bad: Bad): TuningConfig | undefined => {
  const s = raw ?? {};
  if (!isRecord(s)) return bad("tuning", "must be a mapping");
  for (const k of Object.keys(s).sort()) {
    if (!KNOWN.includes(k)) bad(`tuning.${preview(k)}`, `unknown field; known fields: ${KNOWN.join(", ")}`);
  }
  const get = <T>(key: string, fallback: T, parse: (v: unknown, path: string) => T | undefined): T | undefined =>
    s[key] === undefined || s[key] === null ? fallback : parse(s[key], `tuning.${key}`);

  const rps = get<RpsMode>("rps", TUNING_DEFAULTS.rps, (v, p) => oneOf(v, ["auto", "always", "off"] as const, p, bad));
  const rfs = get("rfs", TUNING_DEFAULTS.rfs as boolean, (v, p) => bool(v, p, bad));
  const xps = get("xps", TUNING_DEFAULTS.xps as boolean, (v, p) => bool(v, p, bad));
  const irqAffinity = get<IrqAffinityMode>("irqAffinity", TUNING_DEFAULTS.irqAffinity, (v, p) =>
    oneOf(v, ["off", "spread"] as const, p, bad),
  );
  // The kernel rounds the table up to a power of two; asking for one keeps what is read back equal to what was written.
  const rpsSockFlowEntries = get("rpsSockFlowEntries", TUNING_DEFAULTS.rpsSockFlowEntries as number, (v, p) =>
    typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= MAX_SOCK_FLOW_ENTRIES && (v & (v - 1)) === 0
      ? v
      : bad(p, `must be a power of two from 1 to ${MAX_SOCK_FLOW_ENTRIES}`),
  );
  const excludeCpus = get<CpuSet>("excludeCpus", cpuSet([]), (v, p) => {
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
  });
  const topologies: DeclaredTopology[] = [];
  const rawTopologies = s["topologies"] ?? [];
  if (!Array.isArray(rawTopologies)) bad("tuning.topologies", "must be a list of LB node topologies");
  else
    rawTopologies.forEach((t, i) => {
      const parsed = parseDeclared(t, `tuning.topologies[${i}]`, lbNodes, bad);
      if (parsed === undefined) return;
      if (topologies.some((x) => x.node === parsed.node))
        bad(`tuning.topologies[${i}].node`, `LB node ${parsed.node} is declared more than once`);
      else topologies.push(parsed);
    });
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

const count = (v: unknown, path: string, bad: Bad): number | undefined =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 4096
    ? v
    : bad(path, "must be a whole number from 0 to 4096");

const cpus = (v: unknown, path: string, bad: Bad): CpuSet | undefined =>
  typeof v === "string" || typeof v === "number"
    ? parseCpuList(`${v}`).match(
        (c) => c,
        (e) => bad(path, e),
      )
    : bad(path, 'must be a CPU list like "0-3,8"');

/** One declared topology: the LB node's CPUs and NUMA layout and its configured interface's queues. */
const parseDeclared = (
  raw: unknown,
  path: string,
  lbNodes: readonly LbNode[],
  bad: Bad,
): DeclaredTopology | undefined => {
  if (!isRecord(raw)) return bad(path, "must be a mapping with node, cpus, rxQueues and txQueues");
  for (const k of Object.keys(raw).sort()) {
    if (!TOPOLOGY_KNOWN.includes(k))
      bad(`${path}.${preview(k)}`, `unknown field; known fields: ${TOPOLOGY_KNOWN.join(", ")}`);
  }
  const lb = lbNodes.find((n) => n.name === raw["node"]);
  if (lb === undefined) bad(`${path}.node`, `"${preview(raw["node"])}" is not an LB node in lbNodes`);
  const online = cpus(raw["cpus"], `${path}.cpus`, bad);
  if (online !== undefined && online.length === 0) bad(`${path}.cpus`, "must name at least one CPU");
  const rawNuma = raw["numaNodes"] ?? [];
  const numaNodes = Array.isArray(rawNuma)
    ? rawNuma.map((c, i) => ({ id: i, cpus: cpus(c, `${path}.numaNodes[${i}]`, bad) }))
    : bad(`${path}.numaNodes`, "must be a list of CPU lists, one per NUMA node");
  const rxQueues = count(raw["rxQueues"], `${path}.rxQueues`, bad);
  const txQueues = count(raw["txQueues"], `${path}.txQueues`, bad);
  const numaNode =
    raw["numaNode"] === undefined || raw["numaNode"] === null ? null : count(raw["numaNode"], `${path}.numaNode`, bad);
  const rawIrqs = raw["irqs"] ?? [];
  const irqs: QueueIrq[] = [];
  if (!Array.isArray(rawIrqs)) bad(`${path}.irqs`, "must be a list of { irq, cpus }");
  else
    rawIrqs.forEach((x, i) => {
      const q = `${path}.irqs[${i}]`;
      if (!isRecord(x)) return bad(q, "must be a mapping with irq and cpus");
      const irq =
        typeof x["irq"] === "number" && Number.isInteger(x["irq"]) && x["irq"] >= 0 && x["irq"] < 1 << 20
          ? x["irq"]
          : bad(`${q}.irq`, "must be an interrupt number");
      const on = cpus(x["cpus"], `${q}.cpus`, bad);
      if (irq !== undefined && on !== undefined) irqs.push({ irq, cpus: on });
      return undefined;
    });
  const name =
    lb === undefined
      ? undefined
      : parseInterfaceName(lb.interface).match(
          (n) => n,
          (e) => bad(`${path}.node`, e),
        );
  if (
    lb === undefined ||
    name === undefined ||
    online === undefined ||
    numaNodes === undefined ||
    rxQueues === undefined ||
    txQueues === undefined ||
    numaNode === undefined
  )
    return undefined;
  if (numaNodes.some((n) => n.cpus === undefined)) return undefined;
  const last = Math.max(online[online.length - 1] ?? 0, ...numaNodes.map((n) => n.cpus?.[n.cpus.length - 1] ?? 0));
  return {
    node: lb.name,
    topology: {
      cpuCount: last + 1,
      onlineCpus: online,
      numaNodes: numaNodes.map((n) => ({ id: n.id, cpus: n.cpus as CpuSet })),
      interfaces: [{ name, rxQueues, txQueues, numaNode, irqs: irqs.sort((a, b) => a.irq - b.irq) }],
    },
  };
};
