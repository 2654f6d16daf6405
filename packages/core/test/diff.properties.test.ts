import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { diffPlans } from "../src/diff/diff.js";
import { ingest } from "../src/ingest.js";
import { plan } from "../src/plan/plan.js";
import { planIncremental, type PlanCache } from "../src/plan/incremental.js";
import { NO_VRRP_STATE, vrrpStateOf } from "../src/vrrp.js";
import type { Backend, Plan, Server } from "../src/plan/types.js";
import { aNode, aParsedConfig, anEndpointSlice, aService, planOf, threeNodes } from "../src/testing/index.js";
import { diffPlansInFull } from "../src/diff/full.js";

// A small universe of names, so random edits keep hitting the same objects.
const NODES = ["w1", "w2", "w3", "w4", "w5"];
const SERVICES = ["a", "b", "c", "d", "e"];

const nodeArb = fc.record({ ip: fc.integer({ min: 1, max: 6 }), weightless: fc.boolean(), excluded: fc.boolean() });
const serviceArb = fc.record({
  policy: fc.constantFrom("Local" as const, "Cluster" as const),
  ports: fc.uniqueArray(
    fc.record({
      port: fc.integer({ min: 1, max: 3 }).map((p) => p * 100),
      nodePort: fc.option(fc.integer({ min: 30000, max: 30003 }), { nil: undefined }),
    }),
    {
      minLength: 1,
      maxLength: 2,
      selector: (p) => p.port,
    },
  ),
  family: fc.constantFrom(["IPv4"], ["IPv6"], ["IPv4", "IPv6"]),
  pods: fc.boolean(),
  weighting: fc.boolean(),
  statusIps: fc.array(
    fc.integer({ min: 10, max: 13 }).map((i) => `198.18.100.${i}`),
    { maxLength: 1 },
  ),
});
// Several endpoints per node, so pod backends hold two servers of one node.
const endpointsArb = fc.array(
  fc.record({ node: fc.constantFrom(...NODES), ip: fc.integer({ min: 1, max: 9 }), ready: fc.boolean() }),
  { maxLength: 5 },
);

const editArb = fc.oneof(
  fc.record({
    kind: fc.constant("node" as const),
    name: fc.constantFrom(...NODES),
    node: fc.option(nodeArb, { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant("service" as const),
    name: fc.constantFrom(...SERVICES),
    service: fc.option(serviceArb, { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant("slice" as const),
    name: fc.constantFrom(...SERVICES),
    endpoints: fc.option(endpointsArb, { nil: undefined }),
  }),
);
type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;
type NodeCase = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
type ServiceCase = typeof serviceArb extends fc.Arbitrary<infer T> ? T : never;
type EndpointsCase = typeof endpointsArb extends fc.Arbitrary<infer T> ? T : never;
interface Cluster {
  readonly nodes: ReadonlyMap<string, NodeCase>;
  readonly services: ReadonlyMap<string, ServiceCase>;
  readonly slices: ReadonlyMap<string, EndpointsCase>;
}

const put = <V>(m: ReadonlyMap<string, V>, k: string, v: V | undefined): Map<string, V> => {
  const out = new Map(m);
  if (v === undefined) out.delete(k);
  else out.set(k, v);
  return out;
};
const applyEdit = (c: Cluster, e: Edit): Cluster =>
  e.kind === "node"
    ? { ...c, nodes: put(c.nodes, e.name, e.node) }
    : e.kind === "service"
      ? { ...c, services: put(c.services, e.name, e.service) }
      : { ...c, slices: put(c.slices, e.name, e.endpoints) };

const objects = (c: Cluster): Record<string, unknown>[] => [
  ...[...c.nodes].map(([name, n]) =>
    aNode(name, `198.18.2.${n.ip}`, {
      moreIps: [`2001:db8:2::${n.ip}`],
      labels: n.excluded ? { "node.kubernetes.io/exclude-from-external-load-balancers": "true" } : {},
    }),
  ),
  ...[...c.services].map(([name, s]) =>
    aService({
      name,
      created: `2026-01-0${SERVICES.indexOf(name) + 1}T00:00:00Z`,
      policy: s.policy,
      ports: s.ports.map((p) => ({
        name: `p${p.port}`,
        port: p.port,
        ...(p.nodePort === undefined ? {} : { nodePort: p.nodePort }),
      })),
      ipFamilies: s.family,
      ...(s.family.length > 1 ? { ipFamilyPolicy: "PreferDualStack" as const } : {}),
      ...(s.pods ? { allocateLoadBalancerNodePorts: false } : {}),
      annotations: s.weighting ? { "portico.dev/weighting": "pods-per-node" } : {},
      statusIps: s.statusIps,
    }),
  ),
  ...[...c.slices].map(([name, endpoints]) =>
    anEndpointSlice(
      "default",
      name,
      endpoints.map((e) => ({ node: e.node, ip: `198.19.0.${e.ip}`, ready: e.ready, serving: e.ready })),
      "abcde",
      {
        ports: [
          { name: "p100", port: 8080 },
          { name: "p200", port: 8081 },
          { name: "p300", port: 8082 },
        ],
      },
    ),
  ),
];

const CONFIGS = [
  aParsedConfig({ pools: [{ name: "p", addresses: ["198.18.100.10-198.18.100.14", "2001:db8:100::/125"] }] }),
  aParsedConfig({
    pools: [{ name: "p", addresses: ["198.18.100.10-198.18.100.14", "2001:db8:100::/125"] }],
    podIpsRoutable: true,
    maxBackendsPerService: 2,
  }),
];

// The plans a controller goes through: each planned incrementally from the last.
const plansArb = fc
  .tuple(fc.constantFrom(...CONFIGS), fc.array(editArb, { minLength: 1, maxLength: 12 }))
  .map(([config, edits]) => {
    let cluster: Cluster = { nodes: new Map(), services: new Map(), slices: new Map() };
    let cache: PlanCache | undefined;
    let last: Plan | undefined;
    const plans: { readonly incremental: Plan; readonly full: Plan }[] = [];
    for (const e of edits) {
      cluster = applyEdit(cluster, e);
      const snapshot = ingest(objects(cluster));
      const vrrp = last === undefined ? NO_VRRP_STATE : vrrpStateOf(last);
      const next = planIncremental(snapshot, config, vrrp, cache);
      cache = next.cache;
      last = next.plan;
      plans.push({ incremental: next.plan, full: plan(snapshot, config, vrrp) });
    }
    return plans;
  });

const same = (before: Plan, after: Plan): void => {
  expect(diffPlans(before, after)).toStrictEqual(diffPlansInFull(before, after));
};

// Hand-made oddities the planner never produces: equal copies in place of kept objects, server
// lists out of order or with two servers on one node, lists out of key order, duplicate ids.
// Each one now and then, so most plans keep enough of the planner's order for the fast paths.
const sometimes = fc.constantFrom(false, false, false, true);
const distortionArb = fc.record({
  clone: sometimes,
  shuffleServers: sometimes,
  twoOnANode: sometimes,
  reverse: fc.constantFrom("none", "none", "none", "none", "services", "frontends", "backends"),
  duplicateFrontend: sometimes,
  duplicateBackend: sometimes,
  vrrp: fc.constantFrom("none", "copy", "reprioritise"),
  reorderKeys: sometimes,
  pick: fc.nat(),
});
type Distortion = typeof distortionArb extends fc.Arbitrary<infer T> ? T : never;

const distort = (p: Plan, d: Distortion): Plan => {
  const at = <T>(items: readonly T[]): number => (items.length === 0 ? -1 : d.pick % items.length);
  const replace = <T>(items: readonly T[], k: number, f: (t: T) => T): T[] => items.map((x, i) => (i === k ? f(x) : x));
  let backends: readonly Backend[] = p.backends;
  const k = at(backends);
  const servers = (f: (s: readonly Server[]) => Server[]): void => {
    backends = replace(backends, k, (b) => ({ ...b, servers: f(b.servers) }));
  };
  if (d.clone) backends = replace(backends, k, (b) => structuredClone(b));
  if (d.shuffleServers) servers((s) => [...s].reverse());
  if (d.twoOnANode)
    servers((s) => (s.length === 0 ? [] : [...s, { ...s[0]!, address: "198.18.9.9" as Server["address"] }]));
  if (d.reorderKeys) backends = replace(backends, k, ({ servers: s, ...rest }) => ({ servers: s, ...rest }) as Backend);
  if (d.duplicateBackend && backends.length > 0)
    backends = [...backends, { ...backends[k]!, balance: "leastconn", servers: [...backends[k]!.servers].reverse() }];
  let frontends = p.frontends;
  if (d.duplicateFrontend && frontends.length > 0)
    frontends = [...frontends, { ...frontends[at(frontends)]!, port: 9 as (typeof frontends)[number]["port"] }];
  const vrrpInstances = p.vrrpInstances.map((v, i) =>
    i !== at(p.vrrpInstances) || d.vrrp === "none"
      ? v
      : d.vrrp === "copy"
        ? structuredClone(v)
        : { ...v, priorities: [...v.priorities].reverse().map((x, r) => ({ ...x, priority: 100 - r })) },
  );
  return {
    ...p,
    vrrpInstances,
    services: d.reverse === "services" ? [...p.services].reverse() : p.services,
    frontends: d.reverse === "frontends" ? [...frontends].reverse() : frontends,
    backends: d.reverse === "backends" ? [...backends].reverse() : backends,
  };
};

describe("diffPlans fast paths", () => {
  it("diffPlans gives the reference answer between consecutive incremental plans, and between equal plans that share no objects", () => {
    fc.assert(
      fc.property(plansArb, (plans) => {
        for (const [i, p] of plans.entries()) {
          const prev = plans[i - 1];
          if (prev !== undefined) {
            same(prev.incremental, p.incremental);
            same(prev.full, p.incremental);
            same(prev.incremental, p.full);
          }
          same(p.full, p.incremental);
          same(plans[0]!.incremental, p.incremental);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("diffPlans gives the reference answer for hand-built plans: copies, server lists out of order or with two servers on a node, lists out of order, duplicate ids", () => {
    fc.assert(
      fc.property(plansArb, distortionArb, distortionArb, (plans, d1, d2) => {
        for (const [i, p] of plans.entries()) {
          const prev = plans[i - 1]?.incremental ?? p.full;
          const odd = distort(p.incremental, d1);
          same(prev, odd);
          same(odd, prev);
          same(odd, distort(p.incremental, d2));
          // And back to the planner's own lists, after the odd ones were seen.
          same(prev, p.incremental);
        }
      }),
      { numRuns: 100 },
    );
  });

  it("diffPlans compares a backend listed twice under one id as the reference does (the last one counts)", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ name: "web", policy: "Local" }),
      aService({ name: "api", created: "2026-02-01T00:00:00Z" }),
    ]);
    const first = p.backends[0]!;
    const twice: Plan = {
      ...p,
      backends: [...p.backends, { ...first, balance: "leastconn", servers: [...first.servers].reverse() }],
    };
    expect(diffPlans(p, twice).services[0]?.backends.changed).toEqual([first.id]);
    same(p, twice);
    same(twice, p);
  });
});
