import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ingest } from "../src/ingest.js";
import { plan } from "../src/plan/plan.js";
import { isEligible } from "../src/nodes.js";
import { ipFamily } from "../src/ip.js";
import { poolOf } from "../src/ipam.js";
import { rendezvousSubset } from "../src/servers.js";
import { aConfig, aNode, anEndpointSlice, aParsedConfig, aService } from "../src/testing/index.js";
import { clusterObjectsArb, NODES } from "../src/testing/arbitraries.js";
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

const smallPool = aParsedConfig({
  pools: [{ name: "p", addresses: ["198.18.100.10-198.18.100.16", "2001:db8:100::/126"] }],
});

describe("planner invariants", () => {
  it("never gives one address to two Services", () => {
    fc.assert(
      fc.property(clusterObjectsArb, (objs) => {
        const vips = plan(ingest(objs), smallPool).services.flatMap((s) => s.vips);
        expect(new Set(vips).size).toBe(vips.length);
      }),
    );
  });

  it("gives every frontend exactly the eligible nodes with that port's nodePort as servers", () => {
    fc.assert(
      fc.property(clusterObjectsArb, (objs) => {
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
        clusterObjectsArb,
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
      fc.property(clusterObjectsArb, (objs) => {
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
        clusterObjectsArb,
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

// Clusters for the Service semantics of addresses: sharing keys, requested addresses, families
// and policies, sticky status addresses, EndpointSlices, over two pools (one not auto-assigned).
type Obj = Record<string, unknown>;

const twoPools = aParsedConfig({
  pools: [
    { name: "p", addresses: ["198.18.100.10-198.18.100.17", "2001:db8:100::/125"] },
    { name: "q", addresses: ["198.18.101.0/30"], autoAssign: false },
  ],
});

const addressingNodeArb = fc.record({
  name: fc.constantFrom(...NODES),
  v6: fc.boolean(),
  excluded: fc.boolean(),
  deleting: fc.boolean(),
});
const toNode = (n: { name: string; v6: boolean; excluded: boolean; deleting: boolean }, i: number): Obj =>
  aNode(n.name, `198.18.2.${i + 1}`, {
    ...(n.v6 ? { moreIps: [`2001:db8:2::${i + 1}`] } : {}),
    ...(n.excluded ? { labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "" } } : {}),
    deleting: n.deleting,
  });

const addressingServiceArb = fc.record({
  name: fc.constantFrom<string>("a", "b", "c", "d", "e", "f"),
  created: fc.constantFrom("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"),
  policy: fc.constantFrom("Local" as const, "Cluster" as const),
  ports: fc.uniqueArray(
    fc.record({ port: fc.constantFrom(53, 80, 443), protocol: fc.constantFrom("TCP", "TCP", "UDP") }),
    { minLength: 1, maxLength: 2, selector: (p) => `${p.port}/${p.protocol}` },
  ),
  families: fc.constantFrom(["IPv4"], ["IPv6"], ["IPv4", "IPv6"], ["IPv6", "IPv4"]),
  familyPolicy: fc.constantFrom("SingleStack" as const, "PreferDualStack" as const, "RequireDualStack" as const),
  share: fc.constantFrom(undefined, undefined, "k", "j"),
  request: fc.constantFrom<string | undefined>(
    undefined,
    undefined,
    undefined,
    "198.18.100.15",
    "198.18.101.1",
    "198.18.200.1",
  ),
  statusIps: fc.array(fc.constantFrom<string>("198.18.100.10", "198.18.100.12", "2001:db8:100::3"), { maxLength: 2 }),
  slice: fc.option(
    fc.array(
      fc.record({
        node: fc.constantFrom(...NODES),
        ready: fc.boolean(),
        serving: fc.boolean(),
        terminating: fc.boolean(),
      }),
      { maxLength: 5 },
    ),
    { nil: undefined },
  ),
});
type ServiceCase = typeof addressingServiceArb extends fc.Arbitrary<infer T> ? T : never;

const toService = (s: ServiceCase): Obj[] => [
  aService({
    name: s.name,
    created: s.created,
    policy: s.policy,
    ipFamilies: s.families,
    ipFamilyPolicy: s.families.length === 1 ? "SingleStack" : s.familyPolicy,
    ports: s.ports.map((p, i) => ({ name: `p${i}`, port: p.port, protocol: p.protocol, nodePort: 30000 + p.port + i })),
    statusIps: s.statusIps,
    annotations: {
      ...(s.share === undefined ? {} : { "portico.dev/allow-shared-ip": s.share }),
      "portico.dev/weighting": "pods-per-node",
    },
    ...(s.request === undefined ? {} : { loadBalancerIP: s.request }),
  }),
  ...(s.slice === undefined
    ? []
    : [
        anEndpointSlice(
          "default",
          s.name,
          s.slice.map((e, i) => ({
            ip: `10.0.0.${i + 1}`,
            node: e.node,
            ready: e.ready,
            serving: e.serving,
            terminating: e.terminating,
          })),
        ),
      ]),
];

const addressingClusterArb = fc.record({
  nodes: fc.uniqueArray(addressingNodeArb, { maxLength: 5, selector: (n) => n.name }),
  services: fc.uniqueArray(addressingServiceArb, { maxLength: 6, selector: (s) => s.name }),
});
const objectsOf = (c: {
  nodes: { name: string; v6: boolean; excluded: boolean; deleting: boolean }[];
  services: ServiceCase[];
}): Obj[] => [...c.nodes.map(toNode), ...c.services.flatMap(toService)];
const planObjects = (objs: readonly unknown[]) => plan(ingest(objs), twoPools);

// Feed a plan's published status back into the objects: the steady state a controller reaches.
const withStatus = (objs: Obj[], p: ReturnType<typeof planObjects>): Obj[] =>
  objs.map((o) => {
    if (o["kind"] !== "Service") return o;
    const meta = o["metadata"] as { namespace: string; name: string };
    const s = p.services.find((x) => x.key === `${meta.namespace}/${meta.name}`);
    return {
      ...o,
      status: { loadBalancer: { ingress: (s?.status.loadBalancer.ingress ?? []).map((i) => ({ ip: i.ip })) } },
    };
  });

describe("planner invariants: the Service semantics", () => {
  it("gives the same plan for any permutation of the input objects", () => {
    const permuted = (objects: fc.Arbitrary<readonly unknown[]>) =>
      objects.chain((objs) => fc.tuple(fc.constant(objs), fc.shuffledSubarray([...objs], { minLength: objs.length })));
    for (const [objects, config] of [
      [clusterObjectsArb, smallPool],
      [addressingClusterArb.map(objectsOf), twoPools],
    ] as const) {
      fc.assert(
        fc.property(permuted(objects), ([objs, shuffled]) => {
          expect(JSON.stringify(plan(ingest(shuffled), config))).toBe(JSON.stringify(plan(ingest(objs), config)));
        }),
      );
    }
  });

  it("no address is on two Services unless they share a key and their ports do not overlap", () => {
    fc.assert(
      fc.property(addressingClusterArb, (c) => {
        const snap = ingest(objectsOf(c));
        const p = plan(snap, twoPools);
        const holders = new Map<string, string[]>();
        for (const s of p.services) for (const v of s.vips) holders.set(v, [...(holders.get(v) ?? []), s.key]);
        for (const keys of holders.values()) {
          if (keys.length < 2) continue;
          const svcs = keys.map((k) => snap.services.find((s) => s.key === k)!);
          const shareKeys = new Set(svcs.map((s) => s.annotations["portico.dev/allow-shared-ip"]));
          expect(shareKeys.size).toBe(1);
          expect([...shareKeys][0]).toBeDefined();
          const ports = svcs.flatMap((s) => s.ports.map((x) => `${x.port}/${x.protocol}`));
          expect(new Set(ports).size).toBe(ports.length);
        }
      }),
    );
  });

  it("sticky addresses never move while valid", () => {
    fc.assert(
      fc.property(addressingClusterArb, (c) => {
        const objs = objectsOf(c);
        const first = planObjects(objs);
        const second = planObjects(withStatus(objs, first));
        for (const s of first.services.filter((x) => x.status.loadBalancer.ingress.length > 0)) {
          expect(second.services.find((x) => x.key === s.key)?.vips).toEqual(s.vips);
        }
      }),
    );
  });

  it("adding or removing an unrelated Service or node never changes another Service's VIP", () => {
    const changeArb = fc.oneof(
      fc.record({
        kind: fc.constant("add-service" as const),
        s: addressingServiceArb.map((s) => ({ ...s, name: "zz-new", request: undefined, statusIps: [] })),
      }),
      fc.record({ kind: fc.constant("remove-service" as const), index: fc.nat() }),
      fc.record({ kind: fc.constant("add-node" as const), v6: fc.boolean() }),
      fc.record({ kind: fc.constant("remove-node" as const), index: fc.nat() }),
    );
    fc.assert(
      fc.property(addressingClusterArb, changeArb, (c, change) => {
        const objs = objectsOf(c);
        const steady = withStatus(objs, planObjects(objs));
        const before = planObjects(steady);
        const isKind = (k: string) => (o: Obj) => o["kind"] === k;
        let after: Obj[] = steady;
        let removed = "";
        if (change.kind === "add-service") after = [...steady, ...toService(change.s)];
        if (change.kind === "add-node")
          after = [...steady, aNode("zz-node", "198.18.2.99", change.v6 ? { moreIps: ["2001:db8:2::99"] } : {})];
        if (change.kind === "remove-service" || change.kind === "remove-node") {
          const pool = steady.filter(isKind(change.kind === "remove-service" ? "Service" : "Node"));
          const victim = pool[change.index % Math.max(1, pool.length)];
          if (victim !== undefined) {
            removed = `default/${(victim["metadata"] as { name: string }).name}`;
            after = steady.filter((o) => o !== victim);
          }
        }
        const next = planObjects(after);
        // Every address a Service holds stays; it may only gain one it was denied (a requested
        // address the removed Service held, a family that had run out).
        for (const s of before.services.filter((x) => x.status.loadBalancer.ingress.length > 0 && x.key !== removed)) {
          const now = next.services.find((x) => x.key === s.key)?.vips ?? [];
          expect(now).toEqual(expect.arrayContaining([...s.vips]));
          expect(
            now
              .filter((v) => !s.vips.includes(v))
              .every((v) => !before.services.some((o) => o.key !== s.key && o.key !== removed && o.vips.includes(v))),
          ).toBe(true);
        }
      }),
    );
  });

  it("dual-stack Services get one VIP per requested family from a pool of that family", () => {
    fc.assert(
      fc.property(addressingClusterArb, (c) => {
        const snap = ingest(objectsOf(c));
        const p = plan(snap, twoPools);
        for (const sp of p.services.filter((s) => s.state !== "failed")) {
          const s = snap.services.find((x) => x.key === sp.key)!;
          const want = s.ipFamilyPolicy === "SingleStack" ? s.ipFamilies.slice(0, 1) : s.ipFamilies;
          // Partial Services may miss a family (with an error condition); never a wrong or extra one.
          const got = sp.vips.map(ipFamily);
          expect(new Set(got).size).toBe(got.length);
          for (const f of got) expect(want).toContain(f);
          if (!sp.diagnostics.some((d) => d.severity === "error")) expect(got).toEqual(want);
          for (const v of sp.vips) expect(poolOf(v, twoPools.pools)).toBeDefined();
        }
      }),
    );
  });

  it("source ranges in the plan equal the canonical form of the input", () => {
    const v4 = fc.tuple(
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 32 }),
    );
    const v6 = fc.tuple(
      fc.array(
        fc.integer({ min: 0, max: 0xffff }).map((g) => (g % 3 === 0 ? 0 : g)),
        { minLength: 8, maxLength: 8 },
      ),
      fc.integer({ min: 0, max: 128 }),
    );
    const range = fc.oneof(
      v4.map(([b, len]) => ({ family: 4 as const, groups: b, len })),
      v6.map(([g, len]) => ({ family: 6 as const, groups: g, len })),
    );
    // An oracle independent of the planner: mask with BigInt, print through the WHATWG URL serialiser.
    const canonical = (r: { family: 4 | 6; groups: number[]; len: number }): string => {
      const width = r.family === 4 ? 8 : 16;
      const bits = BigInt(r.groups.length * width);
      const value = r.groups.reduce((a, g) => (a << BigInt(width)) | BigInt(g), 0n);
      const masked = value & (((1n << bits) - 1n) ^ ((1n << (bits - BigInt(r.len))) - 1n));
      const parts = r.groups.map((_, i) =>
        Number((masked >> (BigInt(width) * BigInt(r.groups.length - 1 - i))) & ((1n << BigInt(width)) - 1n)),
      );
      const host =
        r.family === 4
          ? new URL(`http://${parts.join(".")}/`).hostname
          : new URL(`http://[${parts.map((p) => p.toString(16)).join(":")}]/`).hostname.slice(1, -1);
      return `${host}/${r.len}`;
    };
    const written = (r: { family: 4 | 6; groups: number[]; len: number }): string =>
      ` ${r.family === 4 ? r.groups.join(".") : r.groups.map((g) => g.toString(16).toUpperCase().padStart(4, "0")).join(":")}/${r.len} `;
    fc.assert(
      fc.property(fc.array(range, { minLength: 1, maxLength: 6 }), (ranges) => {
        const p = planObjects([aNode("w1", "198.18.2.1"), aService({ loadBalancerSourceRanges: ranges.map(written) })]);
        const want = [...new Set(ranges.map(canonical))].sort();
        const got = p.frontends[0]?.sourceRanges ?? [];
        // Same set (the planner's order is family, address, length; checked in the unit tests).
        expect([...got].sort()).toEqual(want);
        expect(new Set(got).size).toBe(got.length);
      }),
    );
  });

  it("weights equal local ready endpoint counts", () => {
    fc.assert(
      fc.property(addressingClusterArb, (c) => {
        const objs = objectsOf(c);
        const snap = ingest(objs);
        const p = plan(snap, twoPools);
        for (const b of p.backends) {
          const sc = c.services.find((s) => `default/${s.name}` === b.service)!;
          if (sc.policy !== "Local" || sc.slice === undefined) continue;
          const eligible = new Set(snap.nodes.filter(isEligible).map((n) => n.name as string));
          const ready = (node: string) => sc.slice!.filter((e) => e.node === node && e.ready && !e.terminating).length;
          const serving = (node: string) =>
            sc.slice!.some((e) => e.node === node && (e.ready || (e.serving && e.terminating)));
          const want = NODES.filter(
            (n) => eligible.has(n) && serving(n) && (b.family === 4 || c.nodes.find((x) => x.name === n)?.v6 === true),
          );
          expect(b.servers.map((s) => s.node)).toEqual(want);
          // Serving-terminating endpoints count only when no node has a ready one (kube-proxy's fallback).
          const anyReady = sc.slice.some((e) => e.ready && !e.terminating);
          const servingCount = (node: string) =>
            sc.slice!.filter((e) => e.node === node && (e.ready || (e.serving && e.terminating))).length;
          for (const s of b.servers) expect(s.weight).toBe(anyReady ? ready(s.node) : servingCount(s.node));
        }
      }),
    );
  });

  it("the number of distinct health checks for Cluster-policy Services equals LB-node x eligible-node pairs whatever the number of Services", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(addressingNodeArb, { minLength: 1, maxLength: 5, selector: (n) => n.name }),
        fc.integer({ min: 1, max: 12 }),
        (nodes, count) => {
          const services = Array.from({ length: count }, (_, i) =>
            aService({
              name: `s${i}`,
              ports: [
                { port: 80, nodePort: 30080 },
                { port: 443, nodePort: 30443 },
              ],
            }),
          );
          const snap = ingest([...nodes.map(toNode), ...services]);
          const big = aParsedConfig({ pools: [{ name: "p", addresses: ["198.18.100.0/24"] }] });
          const p = plan(snap, big);
          const pairs = new Set(
            p.lbNodes.flatMap((lb) => (p.checks ?? []).flatMap((c) => c.servers.map((s) => `${lb.name} ${s.node}`))),
          );
          const eligible = snap.nodes.filter(isEligible).length;
          expect(pairs.size).toBe(p.lbNodes.length * eligible);
          // Cluster backends check nothing themselves: they track.
          expect(p.backends.every((b) => b.healthCheck.kind === "track")).toBe(true);
        },
      ),
    );
  });

  it("subsets change minimally when a node joins or leaves", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 10 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.integer({ min: 501, max: 600 }),
        (ids, k, service, joiner) => {
          const nodes = ids.map((i) => ({ name: `n${i}` }));
          const names = (l: { name: string }[]) => new Set(l.map((n) => n.name));
          const before = names(rendezvousSubset(service, nodes, k));
          expect(before.size).toBe(Math.min(k, nodes.length));
          const joined = names(rendezvousSubset(service, [...nodes, { name: `n${joiner}` }], k));
          expect([...before].filter((n) => !joined.has(n)).length).toBeLessThanOrEqual(1);
          const leaver = nodes[0]!;
          const left = names(rendezvousSubset(service, nodes.slice(1), k));
          if (!before.has(leaver.name)) expect(left).toEqual(before);
          else expect([...before].filter((n) => n !== leaver.name).every((n) => left.has(n))).toBe(true);
        },
      ),
    );
  });

  it("hostile input never throws and never reaches a config", () => {
    const keys = [
      "portico.dev/proxy-protocol",
      "portico.dev/balance",
      "portico.dev/timeout-connect",
      "portico.dev/timeout-client",
      "portico.dev/timeout-server",
      "portico.dev/timeout-tunnel",
      "portico.dev/health-check-interval",
      "portico.dev/health-check-rise",
      "portico.dev/health-check-fall",
      "portico.dev/weighting",
      "portico.dev/pool",
      "portico.dev/node-selector",
      "portico.dev/load-balancer-ips",
      "portico.dev/allow-shared-ip",
      "portico.dev/x",
    ];
    fc.assert(
      fc.property(
        addressingClusterArb,
        fc.array(fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...HOSTILE), fc.string({ maxLength: 200 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 40 })), { maxLength: 3 }),
        (c, annotations, ranges) => {
          const objs = objectsOf(c);
          // Every value keeps a hostile character inside (trimming cannot remove it), so none parses.
          const victim = aService({
            namespace: "zz",
            name: "victim",
            created: "2026-06-01T00:00:00Z",
            annotations: Object.fromEntries(annotations.map(([k, h, s]) => [k, `v2${h}${s}${h}x`])),
          });
          const calm = aService({ namespace: "zz", name: "victim", created: "2026-06-01T00:00:00Z" });
          const hostile = planObjects([...objs, victim]);
          const quiet = planObjects([...objs, calm]);
          const none = planObjects(objs);
          const dataPlane = (p: typeof hostile) =>
            JSON.stringify({
              s: p.services.filter((x) => x.key !== "zz/victim"),
              f: p.frontends,
              b: p.backends,
              c: p.checks,
              v: p.vrrpInstances,
              l: p.unservedListeners,
            });
          const rendered = (p: typeof hostile) =>
            JSON.stringify({ f: p.frontends, b: p.backends, c: p.checks, v: p.vrrpInstances, l: p.unservedListeners });
          // The victim plans with defaults, or (a garbled address request or pool) not at all;
          // never with a hostile value, and the other Services never notice.
          expect([dataPlane(quiet), dataPlane(none)]).toContain(dataPlane(hostile));
          // Source ranges that do not parse fail the Service closed; they never reach a frontend.
          const fenced = planObjects([
            ...objs,
            aService({
              namespace: "zz",
              name: "victim",
              created: "2026-06-01T00:00:00Z",
              loadBalancerSourceRanges: ranges.map((r) => `1.2.3.0/24${r}x`),
            }),
          ]);
          if (ranges.length > 0) expect(fenced.frontends.filter((f) => f.service === "zz/victim")).toEqual([]);
          for (const marker of ["evil", "%[src]", "${x}", "\\u0000", "\\u001b", "\\n", "\\r", ";", "`", "#", "'"])
            expect(rendered(fenced)).not.toContain(marker);
        },
      ),
    );
  });
});
