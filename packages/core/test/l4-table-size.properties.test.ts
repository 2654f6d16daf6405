import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseConfig } from "../src/config.js";
import { ingest } from "../src/ingest.js";
import { MAGLEV_SIZE_MIN, MAGLEV_SIZES, maglevSize } from "../src/maglev.js";
import { EXCLUDE_LABEL, isEligible, TO_BE_DELETED_TAINT } from "../src/nodes.js";
import { planIncremental } from "../src/plan/incremental.js";
import { plan } from "../src/plan/plan.js";
import type { Config } from "../src/settings.js";
import { aConfig, aNode, anEndpointSlice, aParsedConfig, aService } from "../src/testing/index.js";

// The Maglev table size of the L4 listeners: a function of the plan's eligible nodes only, the
// same for every listener, so a Service's pods, health or node selector never resize a table.

const LARGEST = MAGLEV_SIZES[MAGLEV_SIZES.length - 1]!;

// A cluster of `count` nodes, some excluded, tainted for deletion or being deleted, half in zone x.
const clusterArb = fc.integer({ min: 0, max: 300 }).chain((count) =>
  fc.record({
    count: fc.constant(count),
    excluded: fc.uniqueArray(fc.nat(count), { maxLength: 20 }),
    tainted: fc.uniqueArray(fc.nat(count), { maxLength: 20 }),
    deleting: fc.uniqueArray(fc.nat(count), { maxLength: 20 }),
  }),
);
type ClusterShape = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;

const nodeName = (i: number) => `node-${i}`;
const nodesOf = (c: ClusterShape): Record<string, unknown>[] =>
  Array.from({ length: c.count }, (_, i) =>
    aNode(nodeName(i), `198.18.${10 + Math.floor(i / 250)}.${(i % 250) + 1}`, {
      labels: { zone: i % 2 === 0 ? "x" : "y", ...(c.excluded.includes(i) ? { [EXCLUDE_LABEL]: "true" } : {}) },
      ...(c.tainted.includes(i) ? { taints: [{ key: TO_BE_DELETED_TAINT, effect: "NoSchedule" }] } : {}),
      deleting: c.deleting.includes(i),
    }),
  );

// A pod per (node, ready) pair of the Local Service, on nodes of the cluster.
const podsArb = fc.array(fc.record({ node: fc.nat(299), ready: fc.boolean() }), { maxLength: 120, size: "max" });

// L4 Services of every kind: Cluster (nat), Local with pods-per-node weights (direct), one with a
// node selector, and one whose only port is TCP through direct.
const servicesOf = (c: ClusterShape, pods: readonly { node: number; ready: boolean }[]): unknown[] => [
  aService({ name: "dns", ports: [{ port: 53, nodePort: 30053, protocol: "UDP" }] }),
  aService({
    name: "game",
    policy: "Local",
    healthCheckNodePort: 32001,
    annotations: { "portico.dev/weighting": "pods-per-node", "portico.dev/data-plane": "direct" },
    ports: [{ port: 7777, nodePort: 30777, protocol: "UDP" }],
  }),
  anEndpointSlice(
    "default",
    "game",
    pods
      .filter((p) => p.node < c.count)
      .map((p, i) => ({ ip: `198.19.${i >> 8}.${(i & 255) + 1}`, node: nodeName(p.node), ready: p.ready })),
  ),
  aService({
    name: "zoned",
    annotations: { "portico.dev/node-selector": "zone=x" },
    ports: [{ port: 5353, nodePort: 30353, protocol: "UDP" }],
  }),
  aService({
    name: "web",
    annotations: { "portico.dev/data-plane": "direct" },
    ports: [{ port: 443, nodePort: 30443 }],
  }),
];

const sizesOf = (objects: readonly unknown[], config: Config): number[] =>
  (plan(ingest(objects), config).l4Listeners ?? []).map((l) => l.tableSize);
const sizeById = (objects: readonly unknown[], config: Config): Map<string, number> =>
  new Map((plan(ingest(objects), config).l4Listeners ?? []).map((l) => [l.id, l.tableSize]));

const defaults = aParsedConfig();

describe("the Maglev table size of a plan's L4 listeners", () => {
  it("is maglevSize of the eligible nodes, at least 500 slots per node up to the largest, for every listener", () => {
    fc.assert(
      fc.property(clusterArb, podsArb, (c, pods) => {
        const objects = [...nodesOf(c), ...servicesOf(c, pods)];
        const eligible = ingest(objects).nodes.filter(isEligible).length;
        const sizes = sizesOf(objects, defaults);
        // Four Services, one port each, IPv4 only: every one is served while a node is eligible.
        if (eligible > 0) expect(sizes).toHaveLength(4);
        for (const size of sizes) {
          expect(size).toBe(maglevSize(eligible));
          expect(size).toBeGreaterThanOrEqual(Math.max(MAGLEV_SIZE_MIN, Math.min(500 * eligible, LARGEST)));
        }
      }),
      { numRuns: 40 },
    );
  });

  it("never changes when a Service's pods scale, move or turn unready", () => {
    fc.assert(
      fc.property(clusterArb, podsArb, podsArb, (c, before, after) => {
        const a = sizeById([...nodesOf(c), ...servicesOf(c, before)], defaults);
        const b = sizeById([...nodesOf(c), ...servicesOf(c, after)], defaults);
        expect(b).toEqual(a);
      }),
      { numRuns: 30 },
    );
  });

  it("is the configured nftables.maglevTableSize, whatever the nodes", () => {
    fc.assert(
      fc.property(clusterArb, fc.constantFrom(...MAGLEV_SIZES), (c, size) => {
        const config = parseConfig({ ...aConfig(), nftables: { maglevTableSize: size } })._unsafeUnwrap();
        for (const s of sizesOf([...nodesOf(c), ...servicesOf(c, [])], config)) expect(s).toBe(size);
      }),
      { numRuns: 30 },
    );
  });

  it("follows the eligible count across a size's bound in the incremental plan too", () => {
    const shape = (count: number): ClusterShape => ({ count, excluded: [], tainted: [], deleting: [] });
    const at = (count: number) => ingest([...nodesOf(shape(count)), ...servicesOf(shape(count), [])]);
    const first = planIncremental(at(32), defaults, undefined, undefined);
    expect(new Set(first.plan.l4Listeners?.map((l) => l.tableSize))).toEqual(new Set([16381]));
    const next = planIncremental(at(33), defaults, undefined, first.cache);
    expect(new Set(next.plan.l4Listeners?.map((l) => l.tableSize))).toEqual(new Set([32749]));
    expect(next.plan.l4Listeners).toEqual(plan(at(33), defaults).l4Listeners);
  });
});
