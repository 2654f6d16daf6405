import { isRecord } from "../_json.js";
import { preview } from "../_preview.js";
import { parseCpuList, type CpuSet } from "../cpus.js";
import { parseInterfaceName } from "../interfaceName.js";
import type { LbNode } from "../settings.js";
import type { DeclaredTopology, QueueIrq } from "../tuning.js";
import { checkKnown, type Bad } from "./_field.js";

/** The keys of one declared topology, in the order the parser lists them. */
export const TOPOLOGY_KEYS = ["node", "cpus", "numaNodes", "rxQueues", "txQueues", "numaNode", "irqs"] as const;

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

/** Parse one of `tuning.topologies`: the LB node's CPUs and NUMA layout and its configured interface's queues. */
export const parseDeclaredTopology = (
  raw: unknown,
  path: string,
  lbNodes: readonly LbNode[],
  bad: Bad,
): DeclaredTopology | undefined => {
  if (!isRecord(raw)) return bad(path, "must be a mapping with node, cpus, rxQueues and txQueues");
  checkKnown(raw, TOPOLOGY_KEYS, path, bad);
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
