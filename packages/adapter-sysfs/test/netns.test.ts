import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith, NetnsLab, program, root } from "@portico/testkit";
import type { Topology } from "@portico/core";
import type { ApplyReport } from "../src/index.js";

// The adapter against a real kernel: a veth in a network namespace made by this test. A child
// started with `ip netns exec` sees that namespace's /sys (ip remounts it), so every write here
// lands on the test's own veth and nowhere else.
const adapter = resolve(import.meta.dirname, "../dist/index.js");
const core = resolve(import.meta.dirname, "../../core/dist/index.js");
const SCRIPT = `
import { applyTuning, readTopology } from ${JSON.stringify(adapter)};
import { cpuSet, formatCpuMask } from ${JSON.stringify(core)};
const [ifname] = process.argv.slice(2);
const topology = (await readTopology({ sysRoot: "/sys", procRoot: "/proc", interfaces: [ifname] }))._unsafeUnwrap();
const n = topology.cpuCount;
const w = (kind, value, extra) => ({ kind, interface: ifname, queue: 0, value, reason: "test", ...extra });
const plan = {
  notes: [],
  irqbalanceBan: [],
  writes: [
    w("rps_cpus", formatCpuMask(cpuSet([0]), n), { cpus: cpuSet([0]) }),
    // Not a power of two: the kernel keeps 128.
    w("rps_flow_cnt", "100", { count: 100 }),
    // A CPU the machine cannot have: the kernel refuses the mask.
    w("xps_cpus", formatCpuMask(cpuSet([n]), n + 1), { cpus: cpuSet([n]) }),
  ],
};
const report = (await applyTuning(plan, { sysRoot: "/sys", procRoot: "/proc", dryRun: false }))._unsafeUnwrap();
process.stdout.write(JSON.stringify({ topology, report }));
`;

await describeWith([program("ip", ["-V"]), root], "sysfs adapter on a real veth in a network namespace", () => {
  const lab = new NetnsLab();
  let ns = "";
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "portico-sysfs-netns-"));
    await writeFile(join(dir, "apply.mjs"), SCRIPT);
    ns = await lab.add("sysfs");
    await lab.addInterface(ns, "vt0");
  });
  afterAll(async () => {
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the veth's queues, and reports what the kernel changed and what it refused", async () => {
    const r = (await lab.exec(ns, process.execPath, [join(dir, "apply.mjs"), "vt0"]))._unsafeUnwrap();
    expect(r.stderr).toBe("");
    const { topology, report } = JSON.parse(r.stdout) as { topology: Topology; report: ApplyReport };
    expect(topology.interfaces).toEqual([{ name: "vt0", rxQueues: 1, txQueues: 1, numaNode: null, irqs: [] }]);
    expect(report.outcomes.map((o) => o.status)).toEqual(["changed", "kernel-changed", "refused"]);
    expect(report.outcomes[1]).toMatchObject({ readBack: "128" });
    expect(report.ok).toBe(false);
    const cat = async (file: string) =>
      (await lab.exec(ns, "cat", [`/sys/class/net/vt0/queues/${file}`]))._unsafeUnwrap().stdout.trim();
    expect(await cat("rx-0/rps_flow_cnt")).toBe("128");
    expect(Number.parseInt((await cat("rx-0/rps_cpus")).replaceAll(",", ""), 16)).toBe(1);
    expect(Number.parseInt((await cat("tx-0/xps_cpus")).replaceAll(",", ""), 16)).toBe(0);
  });
});
