import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { cpuSet, parseCpuMask } from "../src/cpus.js";
import { parseConfig } from "../src/config.js";
import { aConfig } from "../src/testing/index.js";
import { parseInterfaceName } from "../src/interfaceName.js";
import {
  planTuning,
  type InterfaceTopology,
  type Topology,
  type TuningPolicy,
  type TuningWrite,
} from "../src/tuning.js";

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const ifname = (s: string) => parseInterfaceName(s)._unsafeUnwrap();
const policy = (o: Partial<TuningPolicy> = {}): TuningPolicy => ({
  rps: "auto",
  rfs: true,
  rpsSockFlowEntries: 32768,
  xps: true,
  irqAffinity: "off",
  excludeCpus: cpuSet([]),
  ...o,
});
const nic = (o: Partial<InterfaceTopology> = {}): InterfaceTopology => ({
  name: ifname("eth0"),
  rxQueues: 1,
  txQueues: 1,
  numaNode: null,
  irqs: [],
  ...o,
});
const of = <K extends TuningWrite["kind"]>(writes: readonly TuningWrite[], kind: K) =>
  writes.filter((w): w is Extract<TuningWrite, { kind: K }> => w.kind === kind);

// 40 CPUs on two sockets, interleaved the way many BIOSes number them: even CPUs on node 0, odd on node 1.
const twoSocket = (): Topology => ({
  cpuCount: 40,
  onlineCpus: cpuSet(range(0, 39)),
  numaNodes: [
    { id: 0, cpus: cpuSet(range(0, 39).filter((c) => c % 2 === 0)) },
    { id: 1, cpus: cpuSet(range(0, 39).filter((c) => c % 2 === 1)) },
  ],
  interfaces: [
    nic({
      rxQueues: 4,
      txQueues: 4,
      numaNode: 1,
      irqs: [101, 102, 103, 104].map((irq, i) => ({ irq, cpus: cpuSet([1 + 2 * i]) })),
    }),
  ],
});

describe("planTuning", () => {
  it("a 2-CPU VM with one queue: RPS on both CPUs, RFS, no XPS", () => {
    const p = planTuning({ cpuCount: 2, onlineCpus: cpuSet([0, 1]), numaNodes: [], interfaces: [nic()] }, policy());
    expect(p.writes.map((w) => [w.kind, w.value])).toEqual([
      ["rps_sock_flow_entries", "32768"],
      ["rps_cpus", "3"],
      ["rps_flow_cnt", "32768"],
    ]);
    expect(p.notes).toContain("eth0: XPS skipped: 1 transmit queue, nothing to choose between");
  });

  it("a 2-CPU VM whose queue interrupt is on CPU 0 steers to CPU 1", () => {
    const p = planTuning(
      {
        cpuCount: 2,
        onlineCpus: cpuSet([0, 1]),
        numaNodes: [],
        interfaces: [nic({ irqs: [{ irq: 24, cpus: cpuSet([0]) }] })],
      },
      policy(),
    );
    const rps = of(p.writes, "rps_cpus");
    expect(rps.map((w) => w.value)).toEqual(["2"]);
    expect(rps[0]?.reason).toContain("minus those taking eth0's interrupts (0)");
  });

  it("40 CPUs on 2 sockets, 4 queues on socket 1: RPS on socket 1's CPUs without the interrupt CPUs", () => {
    const p = planTuning(twoSocket(), policy());
    const rps = of(p.writes, "rps_cpus");
    expect(rps).toHaveLength(4);
    const expected = range(0, 39).filter((c) => c % 2 === 1 && ![1, 3, 5, 7].includes(c));
    for (const w of rps) {
      expect(w.cpus).toEqual(expected);
      expect(w.value).toBe("aa,aaaaaa00");
    }
    expect(of(p.writes, "rps_flow_cnt").map((w) => w.count)).toEqual([8192, 8192, 8192, 8192]);
    // XPS shares every usable CPU over the 4 tx queues, 10 each.
    expect(of(p.writes, "xps_cpus").map((w) => w.cpus)).toEqual([
      range(0, 9),
      range(10, 19),
      range(20, 29),
      range(30, 39),
    ]);
    expect(of(p.writes, "xps_cpus")[0]?.value).toBe("00,000003ff");
  });

  it("128 CPUs on 2 nodes with 64 queues: RPS skipped because RSS gives every local CPU a queue, unless forced", () => {
    const topo: Topology = {
      cpuCount: 128,
      onlineCpus: cpuSet(range(0, 127)),
      numaNodes: [
        { id: 0, cpus: cpuSet(range(0, 63)) },
        { id: 1, cpus: cpuSet(range(64, 127)) },
      ],
      interfaces: [nic({ rxQueues: 64, txQueues: 64, numaNode: 0 })],
    };
    const p = planTuning(topo, policy());
    expect(of(p.writes, "rps_cpus")).toEqual([]);
    expect(of(p.writes, "rps_flow_cnt")).toEqual([]);
    expect(of(p.writes, "rps_sock_flow_entries")).toEqual([]);
    expect(p.notes.join("\n")).toContain("RPS skipped: 64 receive queues for 64 NUMA node 0 CPUs");
    const forced = planTuning(topo, policy({ rps: "always" }));
    expect(of(forced.writes, "rps_cpus")).toHaveLength(64);
    expect(of(forced.writes, "rps_cpus")[0]?.reason).toContain("forced by tuning.rps: always");
    expect(of(forced.writes, "rps_flow_cnt")[0]?.count).toBe(512);
    // With fewer queues than local CPUs, auto plans RPS.
    expect(
      of(planTuning({ ...topo, interfaces: [nic({ rxQueues: 8, numaNode: 0 })] }, policy()).writes, "rps_cpus"),
    ).toHaveLength(8);
  });

  it("keeps off the excluded CPUs", () => {
    const p = planTuning(twoSocket(), policy({ excludeCpus: cpuSet([9, 11, 13]) }));
    for (const w of [...of(p.writes, "rps_cpus"), ...of(p.writes, "xps_cpus")])
      for (const c of [9, 11, 13]) expect(w.cpus).not.toContain(c);
  });

  it("spreads queue interrupts over NUMA-local CPUs and names them for irqbalance", () => {
    const p = planTuning(twoSocket(), policy({ irqAffinity: "spread" }));
    expect(of(p.writes, "irq_affinity").map((w) => [w.irq, w.value])).toEqual([
      [101, "1"],
      [102, "3"],
      [103, "5"],
      [104, "7"],
    ]);
    expect(p.irqbalanceBan).toEqual([101, 102, 103, 104]);
  });

  it("plans nothing when every CPU is excluded, and says so", () => {
    const p = planTuning(
      { cpuCount: 2, onlineCpus: cpuSet([0, 1]), numaNodes: [], interfaces: [nic()] },
      policy({ excludeCpus: cpuSet([0, 1]) }),
    );
    expect(p.writes).toEqual([]);
    expect(p.notes[0]).toContain("no CPU is left");
  });

  it("rounds flow counts down to a power of two", () => {
    const p = planTuning(
      { cpuCount: 16, onlineCpus: cpuSet(range(0, 15)), numaNodes: [], interfaces: [nic({ rxQueues: 3 })] },
      policy(),
    );
    expect(of(p.writes, "rps_flow_cnt").map((w) => w.count)).toEqual([8192, 8192, 8192]);
  });
});

const topologyArb: fc.Arbitrary<Topology> = fc
  .record({
    cpuCount: fc.integer({ min: 1, max: 1100 }),
    nodes: fc.integer({ min: 0, max: 4 }),
    offline: fc.array(fc.nat(), { maxLength: 8 }),
    nics: fc.array(
      fc.record({
        rx: fc.integer({ min: 0, max: 70 }),
        tx: fc.integer({ min: 0, max: 70 }),
        numa: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
        irqCpus: fc.array(fc.nat(), { maxLength: 6 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map(({ cpuCount, nodes, offline, nics }) => {
    const online = cpuSet(
      range(0, cpuCount - 1).filter((c) => c === 0 || !offline.map((o) => o % cpuCount).includes(c)),
    );
    return {
      cpuCount,
      onlineCpus: online,
      numaNodes: range(0, nodes - 1).map((id) => ({
        id,
        cpus: cpuSet(online.filter((c) => c % Math.max(nodes, 1) === id)),
      })),
      interfaces: nics.map((n, i) =>
        nic({
          name: ifname(`eth${i}`),
          rxQueues: n.rx,
          txQueues: n.tx,
          numaNode: n.numa,
          irqs: n.irqCpus.map((c, j) => ({ irq: 100 + 10 * i + j, cpus: cpuSet([c % cpuCount]) })),
        }),
      ),
    };
  });

const policyArb: fc.Arbitrary<TuningPolicy> = fc.record({
  rps: fc.constantFrom("auto" as const, "always" as const, "off" as const),
  rfs: fc.boolean(),
  rpsSockFlowEntries: fc.integer({ min: 0, max: 20 }).map((e) => 2 ** e),
  xps: fc.boolean(),
  irqAffinity: fc.constantFrom("off" as const, "spread" as const),
  excludeCpus: fc.array(fc.integer({ min: 0, max: 1100 }), { maxLength: 6 }).map((c) => cpuSet(c)),
});

describe("planTuning invariants", () => {
  it("every planned mask is a non-empty subset of the online CPUs, and its text parses back to it", () => {
    fc.assert(
      fc.property(topologyArb, policyArb, (topo, pol) => {
        const online = new Set(topo.onlineCpus);
        const excluded = new Set(pol.excludeCpus);
        const bad: string[] = [];
        const seen = new Set<string>();
        for (const w of planTuning(topo, pol).writes) {
          if (w.kind === "rps_cpus" || w.kind === "xps_cpus" || w.kind === "irq_affinity") {
            if (w.cpus.length === 0) bad.push(`${w.kind} ${w.value}: empty`);
            if (w.cpus.some((c) => !online.has(c) || excluded.has(c)))
              bad.push(`${w.kind} ${w.value}: not a subset of the usable online CPUs`);
          }
          // Masks repeat across queues; parse each distinct text once.
          if ((w.kind === "rps_cpus" || w.kind === "xps_cpus") && !seen.has(w.value)) {
            seen.add(w.value);
            if (parseCpuMask(w.value)._unsafeUnwrap().join() !== w.cpus.join())
              bad.push(`${w.kind} ${w.value}: does not parse back to its CPUs`);
          }
        }
        expect(bad).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("flow counts are powers of two and never exceed the global table", () => {
    fc.assert(
      fc.property(topologyArb, policyArb, (topo, pol) => {
        for (const w of planTuning(topo, pol).writes) {
          if (w.kind === "rps_flow_cnt") {
            expect(w.count & (w.count - 1)).toBe(0);
            expect(w.count).toBeGreaterThanOrEqual(1);
            expect(w.count).toBeLessThanOrEqual(Math.max(1, pol.rpsSockFlowEntries));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it("the same topology and policy give the same writes, whatever the interface order", () => {
    fc.assert(
      fc.property(topologyArb, policyArb, (topo, pol) => {
        const reversed = { ...topo, interfaces: [...topo.interfaces].reverse() };
        expect(planTuning(reversed, pol)).toEqual(planTuning(topo, pol));
      }),
      { numRuns: 50 },
    );
  });
});

describe("interface names", () => {
  it("accepts Linux names and refuses anything that could leave the interface's directory", () => {
    for (const ok of ["eth0", "enp3s0f1", "bond0.100", "a-b_c", "x".repeat(15)])
      expect(parseInterfaceName(ok).isOk()).toBe(true);
    for (const bad of ["", ".", "..", "../etc", "eth0/x", "eth0:1", "x".repeat(16), "eth 0", "eth0\n", 7, null])
      expect(parseInterfaceName(bad).isErr()).toBe(true);
  });
});

describe("the tuning section of the config", () => {
  it("defaults when absent, so the documented example keeps working", () => {
    const c = parseConfig(aConfig())._unsafeUnwrap();
    expect(c.tuning).toEqual({
      rps: "auto",
      rfs: true,
      rpsSockFlowEntries: 32768,
      xps: true,
      irqAffinity: "off",
      excludeCpus: [],
      topologies: [],
    });
  });

  it("parses every field", () => {
    const c = parseConfig({
      ...aConfig(),
      tuning: {
        rps: "always",
        rfs: false,
        rpsSockFlowEntries: 65536,
        xps: false,
        irqAffinity: "spread",
        excludeCpus: "0-1,8",
      },
    })._unsafeUnwrap();
    expect(c.tuning).toEqual({
      rps: "always",
      rfs: false,
      rpsSockFlowEntries: 65536,
      xps: false,
      irqAffinity: "spread",
      excludeCpus: [0, 1, 8],
      topologies: [],
    });
  });

  it("reads a declared topology for an LB node, with the node's interface", () => {
    const c = parseConfig({
      ...aConfig(),
      tuning: {
        topologies: [
          {
            node: "lb1",
            cpus: "0-3",
            numaNodes: ["0-1", "2-3"],
            rxQueues: 2,
            txQueues: 2,
            numaNode: 1,
            irqs: [
              { irq: 41, cpus: "3" },
              { irq: 40, cpus: 2 },
            ],
          },
        ],
      },
    })._unsafeUnwrap();
    expect(c.tuning.topologies).toEqual([
      {
        node: "lb1",
        topology: {
          cpuCount: 4,
          onlineCpus: [0, 1, 2, 3],
          numaNodes: [
            { id: 0, cpus: [0, 1] },
            { id: 1, cpus: [2, 3] },
          ],
          interfaces: [
            {
              name: c.lbNodes[0]?.interface,
              rxQueues: 2,
              txQueues: 2,
              numaNode: 1,
              irqs: [
                { irq: 40, cpus: [2] },
                { irq: 41, cpus: [3] },
              ],
            },
          ],
        },
      },
    ]);
  });

  it("names every bad field of a declared topology", () => {
    const r = parseConfig({
      ...aConfig(),
      tuning: {
        topologies: [
          {
            node: "lb9",
            cpus: "",
            rxQueues: -1,
            txQueues: "2",
            numaNodes: "0-1",
            irqs: [{ irq: "x", cpus: "0" }],
            extra: 1,
          },
        ],
      },
    });
    expect(
      r
        ._unsafeUnwrapErr()
        .map((i) => i.path)
        .sort(),
    ).toEqual(
      [
        "tuning.topologies[0].node",
        "tuning.topologies[0].cpus",
        "tuning.topologies[0].rxQueues",
        "tuning.topologies[0].txQueues",
        "tuning.topologies[0].numaNodes",
        "tuning.topologies[0].irqs[0].irq",
        "tuning.topologies[0].extra",
      ].sort(),
    );
  });

  it("names every bad field", () => {
    const r = parseConfig({
      ...aConfig(),
      tuning: { rps: "sometimes", rpsSockFlowEntries: 1000, excludeCpus: "a-b", colour: 1 },
    });
    const paths = r._unsafeUnwrapErr().map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(["tuning.rps", "tuning.rpsSockFlowEntries", "tuning.excludeCpus", "tuning.colour"]),
    );
  });
});
