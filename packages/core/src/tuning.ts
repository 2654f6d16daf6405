import type { InterfaceName } from "./interfaceName.js";
import type { LbNodeName } from "./model.js";
import { cpuDifference, cpuIntersection, cpuSet, formatCpuList, formatCpuMask, type CpuSet } from "./cpus.js";

/** A NUMA node and its CPUs. */
export interface NumaNode {
  readonly id: number;
  readonly cpus: CpuSet;
}

/** One interrupt of an interface's queues and the CPUs it is delivered to now. */
export interface QueueIrq {
  readonly irq: number;
  readonly cpus: CpuSet;
}

/** What the planner needs to know about one interface. */
export interface InterfaceTopology {
  readonly name: InterfaceName;
  readonly rxQueues: number;
  readonly txQueues: number;
  /** The device's NUMA node; null when unknown (virtual devices, single-node machines, `-1`). */
  readonly numaNode: number | null;
  /** The interface's queue interrupts, sorted by number; empty for virtual devices. */
  readonly irqs: readonly QueueIrq[];
}

/** An LB node's CPUs, NUMA layout and the configured interfaces, as read from /sys and /proc. */
export interface Topology {
  /** CPU ids the kernel can have (`nr_cpu_ids`, from `cpu/possible`); sets the width of every mask. */
  readonly cpuCount: number;
  readonly onlineCpus: CpuSet;
  /** Sorted by id; empty when the machine exposes no NUMA nodes. */
  readonly numaNodes: readonly NumaNode[];
  readonly interfaces: readonly InterfaceTopology[];
}

/**
 * `auto`: RPS only where the device has fewer queues than CPUs; `always`: also with enough RSS queues;
 * `off`: never.
 */
export type RpsMode = "auto" | "always" | "off";

/** `spread`: pin each queue interrupt to one NUMA-local CPU; `off`: leave interrupts to the kernel/irqbalance. */
export type IrqAffinityMode = "off" | "spread";

/** The `tuning` section of the config. */
export interface TuningPolicy {
  readonly rps: RpsMode;
  /** Receive Flow Steering: steer a flow to the CPU its socket is read on. */
  readonly rfs: boolean;
  /** `/proc/sys/net/core/rps_sock_flow_entries`, a power of two. */
  readonly rpsSockFlowEntries: number;
  readonly xps: boolean;
  readonly irqAffinity: IrqAffinityMode;
  /** CPUs never used for packet steering, e.g. those HAProxy is pinned to. */
  readonly excludeCpus: CpuSet;
}

/** An LB node's topology as written in the config, so `render` can plan its tuning without the machine. */
export interface DeclaredTopology {
  readonly node: LbNodeName;
  readonly topology: Topology;
}

/** The config's `tuning` section: the policy, and any declared topologies. */
export interface TuningConfig extends TuningPolicy {
  readonly topologies: readonly DeclaredTopology[];
}

/** One write into sysfs or procfs, with the exact text written and why. */
export type TuningWrite =
  | { readonly kind: "rps_sock_flow_entries"; readonly count: number; readonly value: string; readonly reason: string }
  | {
      readonly kind: "rps_cpus";
      readonly interface: InterfaceName;
      readonly queue: number;
      readonly cpus: CpuSet;
      readonly value: string;
      readonly reason: string;
    }
  | {
      readonly kind: "rps_flow_cnt";
      readonly interface: InterfaceName;
      readonly queue: number;
      readonly count: number;
      readonly value: string;
      readonly reason: string;
    }
  | {
      readonly kind: "xps_cpus";
      readonly interface: InterfaceName;
      readonly queue: number;
      readonly cpus: CpuSet;
      readonly value: string;
      readonly reason: string;
    }
  | {
      readonly kind: "irq_affinity";
      readonly interface: InterfaceName;
      readonly irq: number;
      readonly cpus: CpuSet;
      readonly value: string;
      readonly reason: string;
    };

/** The planned writes for one LB node, with what was left alone and why. */
export interface TuningPlan {
  readonly writes: readonly TuningWrite[];
  /** Decisions not to write something, and other things the operator should know. */
  readonly notes: readonly string[];
  /** Interrupts pinned by `irqAffinity: spread`, which irqbalance must be told to leave alone. */
  readonly irqbalanceBan: readonly number[];
}

/** The largest power of two that is at most `n` (at least 1). */
export const floorPowerOfTwo = (n: number): number => {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
};

const list = (cpus: CpuSet): string => (cpus.length === 0 ? "none" : formatCpuList(cpus));

/**
 * Plan RPS, RFS, XPS and (optionally) IRQ-affinity writes for an LB node. Pure and total: the
 * same topology and policy give the same writes in the same order; anything it will not do is a
 * note with the reason. Every planned mask is a non-empty subset of the online CPUs.
 */
export const planTuning = (topology: Topology, policy: TuningPolicy): TuningPlan => {
  const writes: TuningWrite[] = [];
  const notes: string[] = [];
  const ban: number[] = [];
  const online = topology.onlineCpus;
  const usable = cpuDifference(online, policy.excludeCpus);
  if (usable.length === 0) {
    notes.push(
      `no CPU is left for packet steering: online ${list(online)}, excluded ${list(policy.excludeCpus)}; ` +
        `nothing planned`,
    );
    return { writes, notes, irqbalanceBan: ban };
  }
  const mask = (cpus: CpuSet): string => formatCpuMask(cpus, topology.cpuCount);
  let rfsWanted = false;

  for (const nic of [...topology.interfaces].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const name = nic.name;
    const { local, where } = localCpus(topology, nic, usable);

    // IRQ affinity first: RPS keeps off the CPUs the interrupts will land on.
    let irqCpus = cpuSet(nic.irqs.flatMap((i) => [...i.cpus]));
    if (policy.irqAffinity === "spread") {
      if (nic.irqs.length === 0)
        notes.push(`${name}: irqAffinity spread: no queue interrupts found (a virtual device?); nothing to pin`);
      const pinned: number[] = [];
      [...nic.irqs]
        .sort((a, b) => a.irq - b.irq)
        .forEach((irq, i) => {
          const cpu = local[i % local.length] as number;
          const cpus = cpuSet([cpu]);
          pinned.push(cpu);
          ban.push(irq.irq);
          writes.push({
            kind: "irq_affinity",
            interface: name,
            irq: irq.irq,
            cpus,
            value: formatCpuList(cpus),
            reason:
              `${name}: queue interrupt ${irq.irq} #${i} pinned to CPU ${cpu}, ` +
              `one ${where} CPU per interrupt in turn`,
          });
        });
      if (nic.irqs.length > 0) irqCpus = cpuSet(pinned);
    }

    // RPS.
    let rpsPlanned = false;
    if (policy.rps === "off") {
      notes.push(`${name}: RPS off by policy; rps_cpus left as they are`);
    } else if (nic.rxQueues === 0) {
      notes.push(`${name}: no receive queues found; RPS not planned`);
    } else if (policy.rps === "auto" && nic.rxQueues >= local.length) {
      // RPS would only spread over the local CPUs, and RSS already gives each of them a queue.
      notes.push(
        `${name}: RPS skipped: ${nic.rxQueues} receive queues for ${local.length} ${where} CPUs, so RSS already ` +
          `spreads receive work (set tuning.rps: always to force it)`,
      );
    } else {
      const away = cpuDifference(local, irqCpus);
      // Keep off the interrupt CPUs only while at least half of the local CPUs remain; otherwise
      // RPS would squeeze all receive work onto a few CPUs, the problem it exists to solve.
      const useAway = irqCpus.length > 0 && away.length > 0 && away.length * 2 >= local.length;
      const cpus = useAway ? away : local;
      const why = useAway
        ? `the ${where} CPUs (${list(local)}) minus those taking ${name}'s interrupts ` +
          `(${list(cpuIntersection(local, irqCpus))})`
        : irqCpus.length > 0 && cpuIntersection(local, irqCpus).length > 0
          ? `the ${where} CPUs (${list(local)}), interrupt CPUs (${list(irqCpus)}) kept because too few would remain ` +
            `without them`
          : `the ${where} CPUs (${list(local)})`;
      const forced = policy.rps === "always" && nic.rxQueues >= local.length ? " (forced by tuning.rps: always)" : "";
      for (let q = 0; q < nic.rxQueues; q++) {
        writes.push({
          kind: "rps_cpus",
          interface: name,
          queue: q,
          cpus,
          value: mask(cpus),
          reason: `${name} rx-${q}: steer receive processing to ${why}${forced}`,
        });
      }
      rpsPlanned = true;
    }

    // RFS rides on RPS: without an RPS mask there is nothing to steer with.
    if (policy.rfs && rpsPlanned) {
      const count = floorPowerOfTwo(Math.max(1, Math.floor(policy.rpsSockFlowEntries / nic.rxQueues)));
      for (let q = 0; q < nic.rxQueues; q++) {
        writes.push({
          kind: "rps_flow_cnt",
          interface: name,
          queue: q,
          count,
          value: `${count}`,
          reason:
            `${name} rx-${q}: RFS flow table: ${policy.rpsSockFlowEntries} socket flow entries / ${nic.rxQueues} ` +
            `queues, rounded down to a power of two (the kernel rounds any other value up)`,
        });
      }
      rfsWanted = true;
    } else if (policy.rfs) {
      notes.push(`${name}: RFS not planned because RPS is not`);
    }

    // XPS.
    if (!policy.xps) {
      notes.push(`${name}: XPS off by policy`);
    } else if (nic.txQueues < 2) {
      notes.push(
        `${name}: XPS skipped: ${nic.txQueues} transmit queue${nic.txQueues === 1 ? "" : "s"}, ` +
          `nothing to choose between`,
      );
    } else {
      partition(usable, nic.txQueues).forEach((cpus, q) => {
        writes.push({
          kind: "xps_cpus",
          interface: name,
          queue: q,
          cpus,
          value: mask(cpus),
          reason:
            `${name} tx-${q}: transmit from CPUs ${list(cpus)} on this queue (${usable.length} CPUs shared over ` +
            `${nic.txQueues} queues)`,
        });
      });
    }
  }

  if (rfsWanted) {
    writes.unshift({
      kind: "rps_sock_flow_entries",
      count: policy.rpsSockFlowEntries,
      value: `${policy.rpsSockFlowEntries}`,
      reason: `RFS global socket flow table: ${policy.rpsSockFlowEntries} entries (tuning.rpsSockFlowEntries)`,
    });
  }
  return { writes, notes, irqbalanceBan: ban.sort((a, b) => a - b) };
};

/** The line for `/etc/default/irqbalance` that keeps irqbalance off the pinned interrupts. */
export const irqbalanceBanLine = (irqs: readonly number[]): string =>
  `IRQBALANCE_ARGS="${irqs.map((i) => `--banirq=${i}`).join(" ")}"`;

const localCpus = (topology: Topology, nic: InterfaceTopology, usable: CpuSet): { local: CpuSet; where: string } => {
  if (nic.numaNode === null) return { local: usable, where: "usable" };
  const node = topology.numaNodes.find((n) => n.id === nic.numaNode);
  const local = node === undefined ? cpuSet([]) : cpuIntersection(usable, node.cpus);
  // A device on a node with no usable CPU (all excluded, or offline) still needs somewhere to go.
  return local.length === 0
    ? { local: usable, where: `usable (NUMA node ${nic.numaNode} has none usable)` }
    : { local, where: `NUMA node ${nic.numaNode}` };
};

/** Share `cpus` over `n` queues: contiguous slices when there are enough CPUs, one CPU per queue in turn otherwise. */
const partition = (cpus: CpuSet, n: number): CpuSet[] => {
  const out: CpuSet[] = [];
  for (let q = 0; q < n; q++) {
    if (cpus.length >= n)
      out.push(cpuSet(cpus.slice(Math.floor((q * cpus.length) / n), Math.floor(((q + 1) * cpus.length) / n))));
    else out.push(cpuSet([cpus[q % cpus.length] as number]));
  }
  return out;
};
