import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ingest, ingestIncremental } from "../src/ingest.js";
import { plan } from "../src/plan/plan.js";
import { isEligible } from "../src/nodes.js";
import { aConfig, aNode, aParsedConfig, aService } from "../src/testing/index.js";
import { parseConfig } from "../src/config.js";

const HOSTILE = [
  "\n",
  "\r\n",
  "#",
  "${x}",
  '"',
  "'",
  "`",
  "}",
  "{",
  "\u0000",
  "\u001b[31m",
  " backend evil",
  "%[src]",
  "\\",
  ";",
];

const nodeArb = fc.record({
  name: fc.constantFrom("w1", "w2", "w3", "w4", "w5", "w6"),
  ip: fc.integer({ min: 1, max: 40 }).map((i) => `198.18.2.${i}`),
  v6: fc.option(
    fc.integer({ min: 1, max: 40 }).map((i) => `2001:db8:2::${i.toString(16)}`),
    { nil: undefined },
  ),
  excluded: fc.constantFrom(undefined, "", "true", "false"),
  tainted: fc.boolean(),
  deleting: fc.boolean(),
});

const serviceArb = fc.record({
  name: fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h"),
  namespace: fc.constantFrom("default", "shop"),
  created: fc.constantFrom("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"),
  policy: fc.constantFrom("Local" as const, "Cluster" as const),
  ports: fc.uniqueArray(
    fc.record({
      port: fc.integer({ min: 1, max: 65535 }),
      nodePort: fc.option(fc.integer({ min: 30000, max: 32767 }), { nil: undefined }),
      protocol: fc.constantFrom("TCP", "TCP", "UDP"),
    }),
    { minLength: 1, maxLength: 3, selector: (p) => `${p.port}/${p.protocol}` },
  ),
  statusIps: fc.array(
    fc.integer({ min: 5, max: 20 }).map((i) => `198.18.100.${i}`),
    { maxLength: 1 },
  ),
  family: fc.constantFrom("IPv4", "IPv4", "IPv6"),
  proxy: fc.constantFrom(undefined, "v1", "v2", "bogus"),
  lbClass: fc.constantFrom(undefined, undefined, "portico.dev/haproxy", "example.com/other"),
});

type NodeCase = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
type ServiceCase = typeof serviceArb extends fc.Arbitrary<infer T> ? T : never;

const toObjects = (nodes: NodeCase[], services: ServiceCase[]): Record<string, unknown>[] => [
  ...nodes.map((n) =>
    aNode(n.name, n.ip, {
      ...(n.v6 === undefined ? {} : { moreIps: [n.v6] }),
      ...(n.excluded === undefined
        ? {}
        : { labels: { "node.kubernetes.io/exclude-from-external-load-balancers": n.excluded } }),
      ...(n.tainted ? { taints: [{ key: "ToBeDeletedByClusterAutoscaler", effect: "NoSchedule" }] } : {}),
      deleting: n.deleting,
    }),
  ),
  ...services.map((s) =>
    aService({
      name: s.name,
      namespace: s.namespace,
      created: s.created,
      policy: s.policy,
      ports: s.ports.map((p) => ({
        port: p.port,
        protocol: p.protocol,
        ...(p.nodePort === undefined ? {} : { nodePort: p.nodePort }),
      })),
      statusIps: s.statusIps,
      ipFamilies: [s.family],
      ...(s.proxy === undefined ? {} : { annotations: { "portico.dev/proxy-protocol": s.proxy } }),
      ...(s.lbClass === undefined ? {} : { loadBalancerClass: s.lbClass }),
    }),
  ),
];

// Unique names so a cluster never holds the same object twice (duplicates are a separate case).
const clusterArb = fc
  .record({
    nodes: fc.uniqueArray(nodeArb, { maxLength: 6, selector: (n) => n.name }),
    services: fc.uniqueArray(serviceArb, { maxLength: 8, selector: (s) => `${s.namespace}/${s.name}` }),
  })
  .map(({ nodes, services }) => toObjects(nodes, services));

const smallPool = aParsedConfig({
  pools: [{ name: "p", addresses: ["198.18.100.10-198.18.100.16", "2001:db8:100::/126"] }],
});

describe("planner invariants", () => {
  it("gives the same plan for any permutation of the input objects", () => {
    fc.assert(
      fc.property(
        clusterArb.chain((objs) => fc.tuple(fc.constant(objs), fc.shuffledSubarray(objs, { minLength: objs.length }))),
        ([objs, shuffled]) => {
          expect(JSON.stringify(plan(ingest(shuffled), smallPool))).toBe(JSON.stringify(plan(ingest(objs), smallPool)));
        },
      ),
    );
  });

  it("never gives one address to two Services", () => {
    fc.assert(
      fc.property(clusterArb, (objs) => {
        const vips = plan(ingest(objs), smallPool).services.flatMap((s) => s.vips);
        expect(new Set(vips).size).toBe(vips.length);
      }),
    );
  });

  it("gives every frontend exactly the eligible nodes with that port's nodePort as servers", () => {
    fc.assert(
      fc.property(clusterArb, (objs) => {
        const snap = ingest(objs);
        const p = plan(snap, smallPool);
        for (const fe of p.frontends) {
          const be = p.backends.find((b) => b.id === fe.backend)!;
          const svc = snap.services.find((s) => s.key === fe.service)!;
          const nodePort = svc.ports.find((x) => x.port === fe.port && x.protocol === "TCP")!.nodePort;
          const want = snap.nodes.filter(isEligible).flatMap((n) =>
            n.internalIps
              .filter((ip) => ip.includes(":") === (be.family === 6))
              .slice(0, 1)
              .map((ip) => `${n.name} ${ip}:${nodePort}`),
          );
          expect(be.servers.map((s) => `${s.node} ${s.address}:${s.port}`).sort()).toEqual(want.sort());
        }
      }),
    );
  });

  it("keeps VRIDs unique and within the configured range", () => {
    fc.assert(
      fc.property(
        clusterArb,
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 5 }),
        (objs, first, width) => {
          const last = Math.min(255, first + width);
          const config = parseConfig({
            ...aConfig({ pools: [{ name: "p", addresses: ["198.18.100.0/24", "2001:db8:100::/120"] }] }),
            vrrp: { vridFirst: first, vridLast: last },
          })._unsafeUnwrap();
          const p = plan(ingest(objs), config);
          const vrids = p.vrrpInstances.map((i) => i.vrid);
          expect(new Set(vrids).size).toBe(vrids.length);
          for (const v of vrids) expect(v >= first && v <= last).toBe(true);
          // Every published VIP is in exactly one instance.
          const inInstances = p.vrrpInstances.flatMap((i) => i.vips).sort();
          const published = p.services
            .filter((s) => s.state !== "failed")
            .flatMap((s) => s.vips)
            .sort();
          expect(inInstances).toEqual(expect.arrayContaining(published));
        },
      ),
    );
  });

  it("keeps a sticky address while it stays in a pool and nobody older holds it", () => {
    fc.assert(
      fc.property(clusterArb, (objs) => {
        const first = plan(ingest(objs), smallPool);
        // Feed the plan's own status back: nothing may move.
        const withStatus = objs.map((o) => {
          const meta = o["metadata"] as { namespace?: string; name: string };
          const s = first.services.find((x) => x.key === `${meta.namespace}/${meta.name}`);
          return o["kind"] === "Service" && s
            ? { ...o, status: { loadBalancer: { ingress: s.status.loadBalancer.ingress.map((i) => ({ ip: i.ip })) } } }
            : o;
        });
        const second = plan(ingest(withStatus), smallPool);
        for (const s of first.services.filter((x) => x.status.loadBalancer.ingress.length > 0)) {
          expect(second.services.find((x) => x.key === s.key)?.vips).toEqual(s.vips);
        }
      }),
    );
  });

  it("a Service with hostile annotation values never changes another Service's plan and never reaches frontends, backends or VRRP", () => {
    fc.assert(
      fc.property(
        clusterArb,
        fc.array(
          fc.tuple(
            fc.constantFrom("portico.dev/proxy-protocol", "portico.dev/x", "other/y"),
            fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 2000 })),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (objs, annotations) => {
          const victim = aService({
            name: "victim",
            namespace: "zz",
            created: "2026-06-01T00:00:00Z",
            annotations: Object.fromEntries(annotations.map(([k, v]) => [k, `v2${v}`])),
          });
          const calm = aService({ name: "victim", namespace: "zz", created: "2026-06-01T00:00:00Z" });
          const hostilePlan = plan(ingest([...objs, victim]), smallPool);
          const calmPlan = plan(ingest([...objs, calm]), smallPool);
          const others = (p: typeof hostilePlan) =>
            JSON.stringify({
              s: p.services.filter((s) => s.key !== "zz/victim"),
              f: p.frontends.filter((f) => f.service !== "zz/victim"),
              b: p.backends.filter((b) => b.service !== "zz/victim"),
            });
          expect(others(hostilePlan)).toBe(others(calmPlan));
          // The victim's own data plane is what a calm victim gets, but for the PROXY version (the
          // one option an annotation may legitimately set): no byte of the values gets through.
          const dataPlane = (p: typeof hostilePlan) =>
            JSON.stringify({
              f: p.frontends,
              b: p.backends.map((b) => ({ ...b, proxyProtocol: "none" })),
              v: p.vrrpInstances,
            });
          expect(dataPlane(hostilePlan)).toBe(dataPlane(calmPlan));
          for (const b of hostilePlan.backends) expect(["none", "v1", "v2"]).toContain(b.proxyProtocol);
        },
      ),
    );
  });

  it("never throws on arbitrary objects", () => {
    fc.assert(
      fc.property(fc.array(fc.anything()), (docs) => {
        plan(ingest(docs), smallPool);
      }),
    );
  });
});

describe("incremental ingest", () => {
  // A sequence of clusters where each step keeps some objects (the same objects, as a watch cache
  // keeps them), replaces some with fresh copies (equal or not), and drops or adds others.
  const stepsArb = fc.array(fc.tuple(clusterArb, fc.array(fc.boolean(), { minLength: 20, maxLength: 20 })), {
    minLength: 1,
    maxLength: 4,
  });

  it("reads every snapshot as a full ingest does, keeps equal objects identical, and returns the last snapshot when nothing changed", () => {
    fc.assert(
      fc.property(clusterArb, stepsArb, (first, steps) => {
        let docs: unknown[] = first;
        let r = ingestIncremental(docs);
        expect(r.snapshot).toEqual(ingest(docs));
        for (const [next, keep] of steps) {
          // Objects of the last input that are kept as they are, beside the new step's objects.
          const kept = docs.filter((_, i) => keep[i % keep.length]);
          const copies = kept.map((o, i) => (keep[(i + 7) % keep.length] ? o : structuredClone(o)));
          const input = [
            ...copies,
            ...next.filter((o) => !copies.some((c) => JSON.stringify(c) === JSON.stringify(o))),
          ];
          const before = r;
          r = ingestIncremental(input, before.cache);
          const full = ingest(input);
          expect(r.snapshot).toEqual(full);
          // An object equal to one of the last snapshot is that object.
          for (const s of r.snapshot.services) {
            const was = before.snapshot.services.find((x) => x.key === s.key);
            if (was !== undefined && JSON.stringify(was) === JSON.stringify(s)) expect(s).toBe(was);
          }
          for (const n of r.snapshot.nodes) {
            const was = before.snapshot.nodes.find((x) => x.name === n.name);
            if (was !== undefined && JSON.stringify(was) === JSON.stringify(n)) expect(n).toBe(was);
          }
          // The same input again, in fresh copies: nothing changed, so the very same snapshot.
          const again = ingestIncremental(structuredClone(input), r.cache);
          expect(again.snapshot).toBe(r.snapshot);
          docs = input;
        }
      }),
      { numRuns: 60 },
    );
  });
});
