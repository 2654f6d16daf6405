import { readdir, readFile } from "node:fs/promises";
import { err, ok, ResultAsync } from "neverthrow";
import {
  cpuSet,
  parseCpuList,
  parseInterfaceName,
  type AdapterError,
  type CpuSet,
  type InterfaceName,
  type InterfaceTopology,
  type NumaNode,
  type QueueIrq,
  type Topology,
} from "@portico/core";
import type { Roots } from "./_paths.js";

/** What {@link readTopology} reads. */
export interface TopologyOptions extends Roots {
  /** The interfaces to describe (validated as Linux names before any path is built). */
  readonly interfaces: readonly string[];
}

const fail = (kind: AdapterError["kind"], message: string, hint?: string): AdapterError => ({
  kind,
  adapter: "sysfs",
  message,
  ...(hint === undefined ? {} : { hint }),
});

/** Read a small text file; undefined when it does not exist. */
const readOptional = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
      return undefined;
    throw e;
  }
};

const listOptional = async (path: string): Promise<string[]> => {
  try {
    return await readdir(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return [];
    throw e;
  }
};

class TopologyError extends Error {
  constructor(readonly error: AdapterError) {
    super(error.message);
  }
}

const cpuList = async (path: string): Promise<CpuSet> => {
  const text = await readOptional(path);
  if (text === undefined)
    throw new TopologyError(fail("unavailable", `${path} does not exist`, "is --sysfs-root a sysfs tree?"));
  return parseCpuList(text).match(
    (c) => c,
    (e) => {
      throw new TopologyError(fail("io", `${path}: ${e}`));
    },
  );
};

/**
 * The queue interrupts of an interface: /proc/interrupts lines whose name is the interface or
 * starts with `<name>-` (how most drivers name queue vectors, e.g. `eth0-TxRx-3`), else the
 * device's MSI vectors. Virtual devices (veth) have none.
 */
const queueIrqs = async (roots: Roots, name: InterfaceName): Promise<number[]> => {
  const text = (await readOptional(`${roots.procRoot}/interrupts`)) ?? "";
  const named: number[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+):/.exec(line);
    const label = line.trim().split(/\s+/).pop() ?? "";
    if (m !== null && (label === name || label.startsWith(`${name}-`))) named.push(Number(m[1]));
  }
  if (named.length > 0) return named;
  return (await listOptional(`${roots.sysRoot}/class/net/${name}/device/msi_irqs`))
    .filter((n) => /^\d{1,7}$/.test(n))
    .map(Number);
};

const irqCpus = async (roots: Roots, irq: number): Promise<CpuSet> => {
  // effective_affinity_list is where the interrupt really lands (one CPU on x86); smp_affinity_list is what was asked.
  for (const file of ["effective_affinity_list", "smp_affinity_list"]) {
    const text = await readOptional(`${roots.procRoot}/irq/${irq}/${file}`);
    if (text !== undefined && text.trim() !== "") {
      const parsed = parseCpuList(text);
      if (parsed.isOk()) return parsed.value;
    }
  }
  return cpuSet([]);
};

const readInterface = async (roots: Roots, name: InterfaceName): Promise<InterfaceTopology> => {
  const dir = `${roots.sysRoot}/class/net/${name}`;
  const queues = await listOptional(`${dir}/queues`);
  if (queues.length === 0 && (await listOptional(dir)).length === 0) {
    throw new TopologyError(
      fail(
        "unavailable",
        `interface ${name} not found (${dir} does not exist)`,
        "check lbNodes[].interface in the config, and run inside the interface's network namespace",
      ),
    );
  }
  const numaText = (await readOptional(`${dir}/device/numa_node`))?.trim();
  const numa = numaText === undefined ? -1 : Number(numaText);
  const irqs: QueueIrq[] = [];
  for (const irq of [...new Set(await queueIrqs(roots, name))].sort((a, b) => a - b))
    irqs.push({ irq, cpus: await irqCpus(roots, irq) });
  return {
    name,
    rxQueues: queues.filter((q) => /^rx-\d+$/.test(q)).length,
    txQueues: queues.filter((q) => /^tx-\d+$/.test(q)).length,
    numaNode: Number.isInteger(numa) && numa >= 0 ? numa : null,
    irqs,
  };
};

/**
 * Read an LB node's topology: possible and online CPUs, NUMA nodes, and for each interface its
 * queues, NUMA node and queue interrupts. Every interface name is validated first.
 */
export const readTopology = (options: TopologyOptions): ResultAsync<Topology, AdapterError> => {
  const names: InterfaceName[] = [];
  for (const raw of options.interfaces) {
    const parsed = parseInterfaceName(raw);
    if (parsed.isErr()) return new ResultAsync(Promise.resolve(err(fail("validate", `interface: ${parsed.error}`))));
    names.push(parsed.value);
  }
  return ResultAsync.fromPromise(
    (async (): Promise<Topology> => {
      const cpuDir = `${options.sysRoot}/devices/system/cpu`;
      const possible = await cpuList(`${cpuDir}/possible`);
      const online = await cpuList(`${cpuDir}/online`);
      const nodeDir = `${options.sysRoot}/devices/system/node`;
      const numaNodes: NumaNode[] = [];
      for (const entry of await listOptional(nodeDir)) {
        const m = /^node(\d{1,4})$/.exec(entry);
        if (m !== null) numaNodes.push({ id: Number(m[1]), cpus: await cpuList(`${nodeDir}/${entry}/cpulist`) });
      }
      numaNodes.sort((a, b) => a.id - b.id);
      const interfaces: InterfaceTopology[] = [];
      for (const name of names) interfaces.push(await readInterface(options, name));
      const last = possible[possible.length - 1] ?? online[online.length - 1] ?? 0;
      return { cpuCount: last + 1, onlineCpus: online, numaNodes, interfaces };
    })(),
    (e) => (e instanceof TopologyError ? e.error : fail("io", `reading the topology: ${(e as Error).message}`)),
  ).andThen((t) =>
    t.onlineCpus.length === 0 ? err(fail("io", `${options.sysRoot}/devices/system/cpu/online lists no CPU`)) : ok(t),
  );
};
