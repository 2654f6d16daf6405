import { mkdtemp, readFile, rm, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cpuSet,
  parseCpuMask,
  planTuning,
  type InterfaceName,
  type TuningPlan,
  type TuningPolicy,
} from "@portico/core";
import { applyTuning, irqbalanceRunning, readTopology } from "../src/index.js";
import { fakeTree } from "@portico/testkit";

const policy = (o: Partial<TuningPolicy> = {}): TuningPolicy => ({
  rps: "auto",
  rfs: true,
  rpsSockFlowEntries: 32768,
  xps: true,
  irqAffinity: "off",
  excludeCpus: cpuSet([]),
  ...o,
});

let base = "";
let n = 0;
const fresh = async () => join(base, `m${n++}`);
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "portico-sysfs-"));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const text = (path: string) => readFile(path, "utf8").then((t) => t.trim());

describe("a 2-CPU VM with one queue", () => {
  it("reads the topology, writes RPS and RFS, and a second run changes nothing", async () => {
    const roots = await fakeTree(await fresh(), {
      possible: "0-1",
      online: "0-1",
      nics: [{ name: "eth0", rx: 1, tx: 1 }],
    });
    const topo = (await readTopology({ ...roots, interfaces: ["eth0"] }))._unsafeUnwrap();
    expect(topo).toEqual({
      cpuCount: 2,
      onlineCpus: [0, 1],
      numaNodes: [],
      interfaces: [{ name: "eth0", rxQueues: 1, txQueues: 1, numaNode: null, irqs: [] }],
    });
    const plan = planTuning(topo, policy());
    const first = (await applyTuning(plan, { ...roots, dryRun: false }))._unsafeUnwrap();
    expect(first.ok).toBe(true);
    expect(first.outcomes.map((o) => o.status)).toEqual(["changed", "changed", "changed"]);
    expect(await text(`${roots.sysRoot}/class/net/eth0/queues/rx-0/rps_cpus`)).toBe("3");
    expect(await text(`${roots.sysRoot}/class/net/eth0/queues/rx-0/rps_flow_cnt`)).toBe("32768");
    expect(await text(`${roots.procRoot}/sys/net/core/rps_sock_flow_entries`)).toBe("32768");
    expect(await text(`${roots.sysRoot}/class/net/eth0/queues/tx-0/xps_cpus`)).toBe("0");
    const second = (await applyTuning(plan, { ...roots, dryRun: false }))._unsafeUnwrap();
    expect(second.outcomes.map((o) => o.status)).toEqual(["unchanged", "unchanged", "unchanged"]);
  });

  it("a dry run reports what would change and writes nothing", async () => {
    const roots = await fakeTree(await fresh(), {
      possible: "0-1",
      online: "0-1",
      nics: [{ name: "eth0", rx: 1, tx: 1 }],
    });
    const plan = planTuning((await readTopology({ ...roots, interfaces: ["eth0"] }))._unsafeUnwrap(), policy());
    const r = (await applyTuning(plan, { ...roots, dryRun: true }))._unsafeUnwrap();
    expect(r.outcomes.map((o) => [o.status, o.status === "would-change" ? o.current : ""])).toEqual([
      ["would-change", "0"],
      ["would-change", "0"],
      ["would-change", "0"],
    ]);
    expect(await text(`${roots.sysRoot}/class/net/eth0/queues/rx-0/rps_cpus`)).toBe("0");
  });
});

describe("a 40-CPU 2-socket machine with 4 queues on socket 1", () => {
  it("steers to socket 1's CPUs minus the interrupt CPUs, in the kernel's mask format", async () => {
    const odd = Array.from({ length: 20 }, (_, i) => 2 * i + 1);
    const even = odd.map((c) => c - 1);
    const roots = await fakeTree(await fresh(), {
      possible: "0-39",
      online: "0-39",
      numa: [even.join(","), odd.join(",")],
      nics: [
        {
          name: "enp59s0f0",
          rx: 4,
          tx: 4,
          numaNode: 1,
          irqs: [
            [120, "1"],
            [121, "3"],
            [122, "5"],
            [123, "7"],
          ],
        },
      ],
    });
    const topo = (await readTopology({ ...roots, interfaces: ["enp59s0f0"] }))._unsafeUnwrap();
    expect(topo.numaNodes.map((x) => x.cpus)).toEqual([even, odd]);
    expect(topo.interfaces[0]?.irqs).toEqual([120, 121, 122, 123].map((irq, i) => ({ irq, cpus: [2 * i + 1] })));
    const r = (await applyTuning(planTuning(topo, policy()), { ...roots, dryRun: false }))._unsafeUnwrap();
    expect(r.ok).toBe(true);
    const dir = `${roots.sysRoot}/class/net/enp59s0f0/queues`;
    for (let q = 0; q < 4; q++) {
      const mask = await text(`${dir}/rx-${q}/rps_cpus`);
      expect(mask).toBe("aa,aaaaaa00");
      expect(parseCpuMask(mask)._unsafeUnwrap()).toEqual(odd.filter((c) => c > 7));
      expect(await text(`${dir}/rx-${q}/rps_flow_cnt`)).toBe("8192");
    }
    expect(await text(`${dir}/tx-0/xps_cpus`)).toBe("00,000003ff");
    expect(await text(`${dir}/tx-3/xps_cpus`)).toBe("ff,c0000000");
  });

  it("pins queue interrupts with irqAffinity: spread", async () => {
    const roots = await fakeTree(await fresh(), {
      possible: "0-39",
      online: "0-39",
      numa: ["0-19", "20-39"],
      nics: [
        {
          name: "eth1",
          rx: 2,
          tx: 2,
          numaNode: 1,
          irqs: [
            [130, "0"],
            [131, "0"],
          ],
        },
      ],
      irqbalance: true,
    });
    const plan = planTuning(
      (await readTopology({ ...roots, interfaces: ["eth1"] }))._unsafeUnwrap(),
      policy({ irqAffinity: "spread" }),
    );
    expect(plan.irqbalanceBan).toEqual([130, 131]);
    expect((await applyTuning(plan, { ...roots, dryRun: false }))._unsafeUnwrap().ok).toBe(true);
    expect(await text(`${roots.procRoot}/irq/130/smp_affinity_list`)).toBe("20");
    expect(await text(`${roots.procRoot}/irq/131/smp_affinity_list`)).toBe("21");
    expect((await irqbalanceRunning(roots.procRoot))._unsafeUnwrap()).toBe(true);
  });
});

describe("a 128-CPU machine with 64 queues", () => {
  it("leaves RPS alone because RSS gives every local CPU a queue", async () => {
    const roots = await fakeTree(await fresh(), {
      possible: "0-127",
      online: "0-127",
      numa: ["0-63", "64-127"],
      nics: [{ name: "eth0", rx: 64, tx: 64, numaNode: 0 }],
    });
    const plan = planTuning((await readTopology({ ...roots, interfaces: ["eth0"] }))._unsafeUnwrap(), policy());
    expect(
      plan.writes.filter(
        (w) => w.kind === "rps_cpus" || w.kind === "rps_flow_cnt" || w.kind === "rps_sock_flow_entries",
      ),
    ).toEqual([]);
    expect(plan.notes.join("\n")).toContain("RPS skipped: 64 receive queues for 64 NUMA node 0 CPUs");
    expect((await applyTuning(plan, { ...roots, dryRun: false }))._unsafeUnwrap().ok).toBe(true);
    expect(await text(`${roots.sysRoot}/class/net/eth0/queues/rx-0/rps_cpus`)).toBe("0");
    expect(await text(`${roots.sysRoot}/class/net/eth0/queues/tx-1/xps_cpus`)).toBe(
      "00000000,00000000,00000000,0000000c",
    );
    expect((await irqbalanceRunning(roots.procRoot))._unsafeUnwrap()).toBe(false);
  });
});

describe("failures", () => {
  it("reports a refused write and still applies the others", async () => {
    const roots = await fakeTree(await fresh(), {
      possible: "0-1",
      online: "0-1",
      nics: [{ name: "eth0", rx: 2, tx: 1 }],
    });
    const target = `${roots.sysRoot}/class/net/eth0/queues/rx-0/rps_cpus`;
    await rm(target);
    await mkdir(target);
    const plan = planTuning(
      (await readTopology({ ...roots, interfaces: ["eth0"] }))._unsafeUnwrap(),
      policy({ rps: "always" }),
    );
    const r = (await applyTuning(plan, { ...roots, dryRun: false }))._unsafeUnwrap();
    expect(r.ok).toBe(false);
    const bad = r.outcomes.filter((o) => !o.ok);
    expect(bad.map((o) => [o.status, o.path])).toEqual([["missing", target]]);
    expect(await text(`${roots.sysRoot}/class/net/eth0/queues/rx-1/rps_cpus`)).toBe("3");
  });

  it("refuses an interface name that is not a Linux name before reading anything", async () => {
    const r = await readTopology({ sysRoot: "/nonexistent", procRoot: "/nonexistent", interfaces: ["../../etc"] });
    expect(r._unsafeUnwrapErr()).toMatchObject({ kind: "validate", adapter: "sysfs" });
    expect(r._unsafeUnwrapErr().message).toContain("is not a Linux interface name");
  });

  it("never builds a path from a hand-made plan with a bad interface name", async () => {
    const roots = await fakeTree(await fresh(), {
      possible: "0-1",
      online: "0-1",
      nics: [{ name: "eth0", rx: 1, tx: 1 }],
    });
    const evil = "../../../tmp/x" as InterfaceName;
    const plan: TuningPlan = {
      writes: [{ kind: "rps_cpus", interface: evil, queue: 0, cpus: cpuSet([0]), value: "1", reason: "hand-made" }],
      notes: [],
      irqbalanceBan: [],
    };
    const r = (await applyTuning(plan, { ...roots, dryRun: false }))._unsafeUnwrap();
    expect(r.outcomes).toMatchObject([{ status: "missing", ok: false, path: "" }]);
  });

  it("says which interface is missing", async () => {
    const roots = await fakeTree(await fresh(), { possible: "0-1", online: "0-1", nics: [] });
    const r = await readTopology({ ...roots, interfaces: ["eth9"] });
    expect(r._unsafeUnwrapErr().message).toContain("interface eth9 not found");
  });

  it("says when the sysfs root is not a sysfs tree", async () => {
    const r = await readTopology({ sysRoot: await fresh(), procRoot: "/proc", interfaces: [] });
    expect(r._unsafeUnwrapErr()).toMatchObject({ kind: "unavailable" });
  });
});
