// Generators of clusters and of the changes a controller sees, for property tests of the planner,
// the diff and the renderers: a small universe of names, so random edits keep hitting the same
// objects (Services come and go and change, nodes join, leave and change, EndpointSlices change).
import fc from "fast-check";
import type { Config } from "../settings.js";
import { aNode, anEndpointSlice, aParsedConfig, aService } from "./builders.js";

/** The node names clusters are made of. */
export const NODES = ["w1", "w2", "w3", "w4", "w5"] as const;
/** The Service names (in `default`) clusters are made of. */
export const SERVICES = ["a", "b", "c", "d", "e", "f"] as const;

/** A node: its address, whether it has an IPv6 one too, its zone and how it is excluded. */
export const nodeArb = fc.record({
  ip: fc.integer({ min: 1, max: 6 }).map((i) => `198.18.2.${i}`),
  v6: fc.boolean(),
  zone: fc.constantFrom("x", "y"),
  excluded: fc.boolean(),
  tainted: fc.boolean(),
  deleting: fc.boolean(),
});

/** A Service: policy, ports (nodePorts or none, TCP or UDP), families, annotations, status. */
export const serviceArb = fc.record({
  created: fc.constantFrom("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
  policy: fc.constantFrom("Local" as const, "Cluster" as const),
  ports: fc.uniqueArray(
    fc.record({
      port: fc.integer({ min: 1, max: 4 }).map((p) => p * 100),
      nodePort: fc.option(fc.integer({ min: 30000, max: 30005 }), { nil: undefined }),
      protocol: fc.constantFrom("TCP", "TCP", "UDP"),
    }),
    { minLength: 1, maxLength: 2, selector: (p) => `${p.port}/${p.protocol}` },
  ),
  family: fc.constantFrom(["IPv4"], ["IPv6"], ["IPv4", "IPv6"]),
  annotations: fc.record(
    {
      "portico.dev/proxy-protocol": fc.constantFrom("v2", "bogus"),
      "portico.dev/weighting": fc.constant("pods-per-node"),
      "portico.dev/node-selector": fc.constant("zone=x"),
      "portico.dev/balance": fc.constantFrom("leastconn", "source"),
    },
    { requiredKeys: [] },
  ),
  statusIps: fc.array(
    fc.integer({ min: 10, max: 13 }).map((i) => `198.18.100.${i}`),
    { maxLength: 1 },
  ),
});

/** The endpoints of one Service's EndpointSlice: several per node, some not ready or terminating. */
export const endpointsArb = fc.array(
  fc.record({
    node: fc.constantFrom(...NODES),
    ip: fc.integer({ min: 1, max: 9 }).map((i) => `198.19.0.${i}`),
    ready: fc.boolean(),
    terminating: fc.boolean(),
  }),
  { maxLength: 4 },
);

/** A node as {@link nodeArb} makes it. */
export type NodeCase = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;
/** A Service as {@link serviceArb} makes it. */
export type ServiceCase = typeof serviceArb extends fc.Arbitrary<infer T> ? T : never;
/** Endpoints as {@link endpointsArb} makes them. */
export type EndpointsCase = typeof endpointsArb extends fc.Arbitrary<infer T> ? T : never;

/** A cluster of the small universe, by name. */
export interface Cluster {
  readonly nodes: ReadonlyMap<string, NodeCase>;
  readonly services: ReadonlyMap<string, ServiceCase>;
  readonly slices: ReadonlyMap<string, EndpointsCase>;
}

/** The cluster with nothing in it. */
export const EMPTY: Cluster = { nodes: new Map(), services: new Map(), slices: new Map() };

/** One change: a node, a Service or an EndpointSlice put (or, when undefined, removed). */
export const editArb = fc.oneof(
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

/** A change as {@link editArb} makes it. */
export type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

const put = <V>(m: ReadonlyMap<string, V>, k: string, v: V | undefined): Map<string, V> => {
  const out = new Map(m);
  if (v === undefined) out.delete(k);
  else out.set(k, v);
  return out;
};

/** The cluster after one change. */
export const apply = (c: Cluster, e: Edit): Cluster =>
  e.kind === "node"
    ? { ...c, nodes: put(c.nodes, e.name, e.node) }
    : e.kind === "service"
      ? { ...c, services: put(c.services, e.name, e.service) }
      : { ...c, slices: put(c.slices, e.name, e.endpoints) };

/** The Kubernetes objects of a cluster, as the API server would list them. */
export const objects = (c: Cluster): Record<string, unknown>[] => [
  ...[...c.nodes].map(([name, n]) =>
    aNode(name, n.ip, {
      ...(n.v6 ? { moreIps: [`2001:db8:2::${n.ip.split(".")[3]}`] } : {}),
      labels: {
        zone: n.zone,
        ...(n.excluded ? { "node.kubernetes.io/exclude-from-external-load-balancers": "true" } : {}),
      },
      ...(n.tainted ? { taints: [{ key: "ToBeDeletedByClusterAutoscaler", effect: "NoSchedule" }] } : {}),
      deleting: n.deleting,
    }),
  ),
  ...[...c.services].map(([name, s]) =>
    aService({
      name,
      created: s.created,
      policy: s.policy,
      ports: s.ports.map((p) => ({
        name: `p${p.port}`,
        port: p.port,
        protocol: p.protocol,
        ...(p.nodePort === undefined ? {} : { nodePort: p.nodePort }),
      })),
      ipFamilies: s.family,
      ...(s.family.length > 1 ? { ipFamilyPolicy: "PreferDualStack" as const } : {}),
      annotations: s.annotations,
      statusIps: s.statusIps,
    }),
  ),
  ...[...c.slices].map(([name, endpoints]) =>
    anEndpointSlice(
      "default",
      name,
      endpoints.map((e) => ({ ...e, serving: e.ready })),
      "abcde",
      {
        ports: [
          { name: "p100", port: 8080 },
          { name: "p200", port: 8081 },
        ],
      },
    ),
  ),
];

/** Configs for the small universe: one pool of both families; and with subsets and pod backends. */
export const CONFIGS: readonly Config[] = [
  aParsedConfig({ pools: [{ name: "p", addresses: ["198.18.100.10-198.18.100.14", "2001:db8:100::/125"] }] }),
  aParsedConfig({
    pools: [{ name: "p", addresses: ["198.18.100.10-198.18.100.14", "2001:db8:100::/125"] }],
    maxBackendsPerService: 2,
    podIpsRoutable: true,
  }),
];

/** A config of {@link CONFIGS}. */
export const configArb: fc.Arbitrary<Config> = fc.constantFrom(...CONFIGS);

/**
 * The clusters a controller goes through: changes applied one after another, several at times
 * landing in one snapshot (as a burst does). Each cluster is one the next snapshot is read from.
 */
export const clustersArb: fc.Arbitrary<readonly Cluster[]> = fc
  .tuple(fc.array(editArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 4 }))
  .map(([edits, every]) => {
    const out: Cluster[] = [];
    let cluster = EMPTY;
    for (const [i, e] of edits.entries()) {
      cluster = apply(cluster, e);
      if (i % every === every - 1 || i === edits.length - 1) out.push(cluster);
    }
    return out;
  });

/** A node put or removed: the change that reaches every Service's backends. */
export const nodeEditArb = fc.record({
  kind: fc.constant("node" as const),
  name: fc.constantFrom(...NODES),
  node: fc.option(nodeArb, { nil: undefined }),
});

/**
 * A cluster full of Services that follow every node (no node selector, TCP only, the common
 * case; the rest stay in the mix), then steps of one to three node changes each.
 */
export const nodeStepsArb: fc.Arbitrary<readonly Cluster[]> = (() => {
  const plain = serviceArb.map(
    ({ annotations: { "portico.dev/node-selector": _, ...annotations }, ...s }): ServiceCase => ({
      ...s,
      annotations,
      ports: s.ports.map((p) => ({ ...p, protocol: "TCP" as const })),
    }),
  );
  const serviceEdit = fc.record({
    kind: fc.constant("service" as const),
    name: fc.constantFrom(...SERVICES),
    service: fc.option(fc.oneof(plain, plain, serviceArb), { nil: undefined }),
  });
  const sliceEdit = fc.record({
    kind: fc.constant("slice" as const),
    name: fc.constantFrom(...SERVICES),
    endpoints: endpointsArb,
  });
  const setup = fc.array(fc.oneof(nodeEditArb, serviceEdit, sliceEdit), { minLength: 12, maxLength: 30 });
  const steps = fc.array(fc.array(nodeEditArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 });
  return fc.tuple(setup, steps).map(([first, rest]) => {
    let cluster = first.reduce<Cluster>(apply, EMPTY);
    const out = [cluster];
    for (const edits of rest) out.push((cluster = edits.reduce<Cluster>(apply, cluster)));
    return out;
  });
})();

/**
 * The objects of one cluster, each named once (duplicates are a separate case): nodes excluded,
 * tainted or being deleted, Services of two namespaces with TCP and UDP ports, sticky addresses,
 * PROXY protocol (valid or not) and classes of ours, none or another controller's.
 */
export const clusterObjectsArb: fc.Arbitrary<Record<string, unknown>[]> = (() => {
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

  const toObjects = (
    nodes: (typeof nodeArb extends fc.Arbitrary<infer T> ? T : never)[],
    services: (typeof serviceArb extends fc.Arbitrary<infer T> ? T : never)[],
  ): Record<string, unknown>[] => [
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

  return fc
    .record({
      nodes: fc.uniqueArray(nodeArb, { maxLength: 6, selector: (n) => n.name }),
      services: fc.uniqueArray(serviceArb, { maxLength: 8, selector: (s) => `${s.namespace}/${s.name}` }),
    })
    .map(({ nodes, services }) => toObjects(nodes, services));
})();

/**
 * maglevMembersArb makes the members of a Maglev table: 1-40 distinct node names with weights
 * as `pods-per-node` gives them (1-8 ready pods, mostly equal).
 */
export const maglevMembersArb = fc.uniqueArray(
  fc.record({
    name: fc.integer({ min: 0, max: 199 }).map((i) => `node-${i}`),
    weight: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 8 })),
  }),
  { minLength: 1, maxLength: 40, selector: (m) => m.name },
);
