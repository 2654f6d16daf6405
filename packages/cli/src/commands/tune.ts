import { isAbsolute, join } from "node:path";
import { match } from "ts-pattern";
import { formatCpuList, irqbalanceBanLine, planTuning, type Topology } from "@portico/core";
import { applyTuning, irqbalanceRunning, readTopology, type WriteOutcome } from "@portico/adapter-sysfs";
import { EXIT, fail, type Flags } from "../args.js";
import type { Io } from "../io.js";
import { findLbNode, loadConfig } from "../load.js";

const describeTopology = (t: Topology): string => {
  const nics = t.interfaces.map(
    (n) =>
      `${n.name}: ${n.rxQueues} rx / ${n.txQueues} tx queues, NUMA node ${n.numaNode ?? "unknown"}, ${n.irqs.length} queue interrupt${n.irqs.length === 1 ? "" : "s"}`,
  );
  const numa =
    t.numaNodes.length === 0
      ? "no NUMA nodes"
      : t.numaNodes.map((x) => `node ${x.id}: ${formatCpuList(x.cpus)}`).join("; ");
  return `CPUs online ${formatCpuList(t.onlineCpus)} (of ${t.cpuCount}); ${numa}\n${nics.map((l) => `  ${l}\n`).join("")}`;
};

const line = (o: WriteOutcome): string =>
  match(o)
    .with({ status: "unchanged" }, (x) => `  unchanged     ${x.path} = ${x.current}`)
    .with({ status: "would-change" }, (x) => `  would set     ${x.path}: ${x.current} -> ${x.write.value}`)
    .with({ status: "changed" }, (x) => `  set           ${x.path}: ${x.previous} -> ${x.readBack}`)
    .with(
      { status: "kernel-changed" },
      (x) => `  CHANGED BY KERNEL ${x.path}: wrote ${x.write.value}, reads back ${x.readBack} (was ${x.previous})`,
    )
    .with(
      { status: "refused" },
      (x) => `  REFUSED       ${x.path}: ${x.write.value} (${x.message}; still ${x.previous})`,
    )
    .with({ status: "missing" }, (x) => (x.ok ? `  not present   ${x.message}` : `  MISSING       ${x.message}`))
    .exhaustive();

// Files the kernel does not have where tune runs (RFS's global table outside the initial network namespace).
const notPresent = (outcomes: readonly WriteOutcome[]): string => {
  const n = outcomes.filter((o) => o.status === "missing" && o.ok).length;
  return n === 0 ? "" : `, ${n} not present here`;
};

/** `portico tune --config <file> --node <lbNode> [--dry-run] [--sysfs-root <dir>] [--procfs-root <dir>]` */
export const tuneCommand = async (flags: Flags, io: Io): Promise<number> => {
  const node = flags.required("node");
  if (node === undefined) return fail(io, "tune needs --node <lbNode>", EXIT.usage);
  const abs = (p: string): string => (isAbsolute(p) ? p : join(io.cwd, p));
  const sysRoot = abs(flags.string("sysfs-root") ?? "/sys");
  const procRoot = abs(flags.string("procfs-root") ?? "/proc");
  const dryRun = flags.boolean("dry-run");

  const config = await loadConfig(flags.configPath(io));
  if (config.isErr()) return fail(io, config.error.message, EXIT.usage);
  const found = findLbNode(config.value, node);
  if (found.isErr()) return fail(io, found.error.message, EXIT.usage);
  const lb = found.value;
  const topology = await readTopology({ sysRoot, procRoot, interfaces: [lb.interface] });
  if (topology.isErr())
    return fail(
      io,
      `${topology.error.message}${topology.error.hint === undefined ? "" : ` (${topology.error.hint})`}`,
      EXIT.usage,
    );

  const plan = planTuning(topology.value, config.value.tuning);
  io.stdout(
    `Tuning LB node ${node}${dryRun ? " (dry run: nothing is written)" : ""}\n${describeTopology(topology.value)}`,
  );
  for (const note of plan.notes) io.stdout(`note: ${note}\n`);
  const report = await applyTuning(plan, { sysRoot, procRoot, dryRun });
  if (report.isErr()) return fail(io, report.error.message, EXIT.usage);
  for (const o of report.value.outcomes) io.stdout(`${line(o)}\n    because ${o.write.reason}\n`);
  const count = (s: WriteOutcome["status"]) => report.value.outcomes.filter((o) => o.status === s).length;
  io.stdout(
    dryRun
      ? `${plan.writes.length} planned writes: ${count("would-change")} would change, ${count("unchanged")} already set\n`
      : `${plan.writes.length} planned writes: ${count("changed")} changed, ${count("unchanged")} already set, ${report.value.outcomes.filter((o) => !o.ok).length} failed${notPresent(report.value.outcomes)}\n`,
  );

  const irqbalance = await irqbalanceRunning(procRoot);
  if (irqbalance.isOk() && irqbalance.value) {
    io.stderr(
      `portico: warning: irqbalance is running; it may move the interface's interrupts and override the IRQ side of this tuning\n`,
    );
  }
  if (plan.irqbalanceBan.length > 0) {
    io.stdout(
      `To keep irqbalance off the pinned interrupts, put this in /etc/default/irqbalance and restart it:\n  ${irqbalanceBanLine(plan.irqbalanceBan)}\n`,
    );
  }
  return report.value.ok ? EXIT.ok : EXIT.someFailed;
};
