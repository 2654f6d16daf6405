import { describe, expect, it } from "vitest";
import { aNode, anEndpointSlice, aParsedConfig, aService, planOf } from "../src/testing/index.js";
import type { Plan } from "../src/plan/types.js";

// The rows of the Kubernetes e2e LoadBalancer suite (test/e2e/network/loadbalancer.go) that a
// planner can decide on its own: each row plans a "before" and an "after" cluster, the way the
// e2e test mutates a Service, and checks what the e2e test would observe.

type Obj = Record<string, unknown>;
const nodes = (): Obj[] => [aNode("n1", "198.18.2.1"), aNode("n2", "198.18.2.2"), aNode("n3", "198.18.2.3")];
const published = (p: Plan, key = "default/web") =>
  p.services.find((s) => s.key === key)?.status.loadBalancer.ingress.map((i) => i.ip) ?? [];
// What a controller does between the two steps: publish the first plan's status on the Service.
const statusFrom = (p: Plan, key = "default/web") => published(p, key);
const servers = (p: Plan) => p.backends.flatMap((b) => b.servers.map((s) => s.node)).sort();
const slice = (...onNodes: string[]) =>
  anEndpointSlice(
    "default",
    "web",
    onNodes.map((n, i) => ({ ip: `10.0.0.${i + 1}`, node: n })),
  );

interface Row {
  readonly e2e: string;
  readonly run: () => void;
}

const rows: readonly Row[] = [
  {
    e2e: "should be able to change the type and ports of a TCP service: LoadBalancer -> ClusterIP clears the status",
    run: () => {
      const before = planOf([...nodes(), aService()]);
      expect(published(before)).toEqual(["198.18.100.10"]);
      const after = planOf([...nodes(), aService({ type: "ClusterIP", statusIps: statusFrom(before) })]);
      expect(after.services).toEqual([]);
      expect(after.frontends).toEqual([]);
      expect(after.statusToClear).toEqual(["default/web"]);
    },
  },
  {
    e2e: "should be able to change the type and ports of a TCP service: changing ports keeps the VIP",
    run: () => {
      const before = planOf([...nodes(), aService({ created: "2026-03-01T00:00:00Z" })]);
      const ip = statusFrom(before);
      // A second, older Service without status would take the lowest address if the VIP were not sticky.
      const after = planOf([
        ...nodes(),
        aService({ name: "older", created: "2026-01-01T00:00:00Z" }),
        aService({ created: "2026-03-01T00:00:00Z", statusIps: ip, ports: [{ port: 81, nodePort: 31081 }] }),
      ]);
      expect(published(after)).toEqual(ip);
      expect(after.frontends.filter((f) => f.service === "default/web").map((f) => f.port)).toEqual([81]);
    },
  },
  {
    e2e: "should only allow access from service loadbalancer source ranges: allow-all (no ranges)",
    run: () => expect(planOf([...nodes(), aService()]).frontends[0]?.sourceRanges).toEqual([]),
  },
  {
    e2e: "should only allow access from service loadbalancer source ranges: deny-all but one /32 (the acceptable pod)",
    run: () =>
      expect(
        planOf([...nodes(), aService({ loadBalancerSourceRanges: ["198.18.9.9/32"] })]).frontends[0]?.sourceRanges,
      ).toEqual(["198.18.9.9/32"]),
  },
  {
    e2e: "should only allow access from service loadbalancer source ranges: cleared ranges admit all again, same VIP, other Services untouched",
    run: () => {
      const before = planOf([
        ...nodes(),
        aService({ loadBalancerSourceRanges: ["198.18.9.9/32"] }),
        aService({ name: "other", created: "2026-02-01T00:00:00Z" }),
      ]);
      const after = planOf([
        ...nodes(),
        aService({ statusIps: statusFrom(before) }),
        aService({ name: "other", created: "2026-02-01T00:00:00Z", statusIps: statusFrom(before, "default/other") }),
      ]);
      expect(after.frontends.find((f) => f.service === "default/web")?.sourceRanges).toEqual([]);
      expect(published(after)).toEqual(published(before));
      const other = (p: Plan) =>
        JSON.stringify([
          p.frontends.filter((f) => f.service === "default/other"),
          p.backends.filter((b) => b.service === "default/other"),
        ]);
      expect(other(after)).toBe(other(before));
    },
  },
  {
    e2e: "should have session affinity work for LoadBalancer service (ESIPP on and off): ClientIP sticks clients",
    run: () => {
      for (const policy of ["Local", "Cluster"] as const) {
        const p = planOf([...nodes(), aService({ policy, sessionAffinity: "ClientIP" }), slice("n1")]);
        expect(p.backends[0]?.affinity).toEqual({ kind: "clientIp", timeoutSeconds: 10800 });
      }
    },
  },
  {
    e2e: "should be able to switch session affinity for LoadBalancer service (ESIPP on and off): off -> on -> off",
    run: () => {
      const on = planOf([...nodes(), aService({ sessionAffinity: "ClientIP", sessionAffinityTimeoutSeconds: 60 })]);
      expect(on.backends[0]?.affinity?.timeoutSeconds).toBe(60);
      const off = planOf([...nodes(), aService({ sessionAffinity: "None", statusIps: statusFrom(on) })]);
      expect(off.backends[0]?.affinity).toBeUndefined();
      expect(published(off)).toEqual(published(on));
    },
  },
  {
    e2e: "should only target nodes with endpoints (ESIPP)",
    run: () => expect(servers(planOf([...nodes(), aService({ policy: "Local" }), slice("n2")]))).toEqual(["n2"]),
  },
  {
    e2e: "should target all nodes with endpoints (ESIPP)",
    run: () =>
      expect(servers(planOf([...nodes(), aService({ policy: "Local" }), slice("n1", "n3", "n3")]))).toEqual([
        "n1",
        "n3",
      ]),
  },
  {
    e2e: "should work for type=LoadBalancer (ESIPP): switching Local -> Cluster re-plans only that Service and keeps its VIP",
    run: () => {
      const before = planOf([
        ...nodes(),
        aService({ policy: "Local" }),
        slice("n2"),
        aService({ name: "other", created: "2026-02-01T00:00:00Z" }),
      ]);
      const after = planOf([
        ...nodes(),
        aService({ policy: "Cluster", statusIps: statusFrom(before) }),
        slice("n2"),
        aService({ name: "other", created: "2026-02-01T00:00:00Z", statusIps: statusFrom(before, "default/other") }),
      ]);
      expect(servers({ ...after, backends: after.backends.filter((b) => b.service === "default/web") })).toEqual([
        "n1",
        "n2",
        "n3",
      ]);
      expect(published(after)).toEqual(published(before));
      expect(after.backends.filter((b) => b.service === "default/other")).toEqual(
        before.backends.filter((b) => b.service === "default/other"),
      );
    },
  },
  {
    e2e: "should be able to create LoadBalancer Service without NodePort and change it",
    run: () => {
      const objects = [
        ...nodes(),
        anEndpointSlice("default", "web", [{ ip: "10.0.0.7", node: "n1" }], "a", {
          ports: [{ name: "http", port: 8080 }],
        }),
      ];
      const without = planOf(
        [...objects, aService({ allocateLoadBalancerNodePorts: false, ports: [{ name: "http", port: 80 }] })],
        aParsedConfig({ podIpsRoutable: true }),
      );
      expect(without.backends[0]?.servers.map((s) => `${s.address}:${s.port}`)).toEqual(["10.0.0.7:8080"]);
      const withPorts = planOf(
        [
          ...objects,
          aService({ statusIps: statusFrom(without), ports: [{ name: "http", port: 80, nodePort: 30080 }] }),
        ],
        aParsedConfig({ podIpsRoutable: true }),
      );
      expect(withPorts.backends[0]?.servers.map((s) => `${s.address}:${s.port}`)).toEqual([
        "198.18.2.1:30080",
        "198.18.2.2:30080",
        "198.18.2.3:30080",
      ]);
      expect(published(withPorts)).toEqual(published(without));
    },
  },
  {
    e2e: "should be able to create LoadBalancer Service with mixed protocols (TCP and UDP on one port number)",
    run: () => {
      const p = planOf([
        ...nodes(),
        aService({
          ports: [
            { name: "dns-tcp", port: 53, nodePort: 30053 },
            { name: "dns-udp", port: 53, nodePort: 30053, protocol: "UDP" },
          ],
        }),
      ]);
      expect(p.services[0]?.state).toBe("ready");
      expect(p.frontends.map((f) => `${f.protocol}/${f.port}`)).toEqual(["TCP/53"]);
      expect(p.l4Listeners?.map((l) => `${l.protocol}/${l.port} ${l.mode}`)).toEqual(["UDP/53 nat"]);
      expect(p.unservedListeners).toEqual([]);
      expect(p.services[0]?.status.loadBalancer.ingress[0]?.ports).toEqual([
        { port: 53, protocol: "TCP" },
        { port: 53, protocol: "UDP" },
      ]);
    },
  },
  {
    e2e: "should not touch a Service of a foreign loadBalancerClass",
    run: () => {
      const p = planOf([
        ...nodes(),
        aService({ loadBalancerClass: "example.com/other", statusIps: ["198.18.100.10"] }),
        aService({ name: "mine", created: "2026-02-01T00:00:00Z" }),
      ]);
      expect(p.services.map((s) => s.key)).toEqual(["default/mine"]);
      expect(p.statusToClear).toEqual([]);
      expect(p.diagnostics.filter((d) => d.object.name === "web")).toEqual([]);
    },
  },
  {
    e2e: "should handle load balancer cleanup finalizer: a Service being deleted leaves the plan and its status is cleared",
    run: () => {
      const p = planOf([...nodes(), aService({ deleting: true, statusIps: ["198.18.100.10"] })]);
      expect(p.services).toEqual([]);
      expect(p.vrrpInstances).toEqual([]);
      expect(p.statusToClear).toEqual(["default/web"]);
    },
  },
];

describe("Kubernetes e2e LoadBalancer checklist", () => {
  for (const row of rows) it(row.e2e, row.run);
});
