import { describe, expect, it } from "vitest";
import { ingest } from "../src/ingest.js";
import { plan } from "../src/plan/plan.js";
import { DEGRADED_CONDITION, READY_CONDITION } from "../src/plan/status.js";
import { vrrpStateOf } from "../src/vrrp.js";
import { aNode, aParsedConfig, aService, planOf, threeNodes } from "../src/testing/index.js";

const serversOf = (p: ReturnType<typeof planOf>, service: string) =>
  p.backends
    .filter((b) => b.service === service)
    .flatMap((b) => b.servers.map((s) => `${s.node}=${s.address}:${s.port}`));

describe("which Services Portico takes", () => {
  it("takes its own class and unclassed ones, never a foreign class", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ name: "mine", loadBalancerClass: "portico.dev/haproxy" }),
      aService({ name: "unclassed" }),
      aService({ name: "foreign", loadBalancerClass: "example.com/other" }),
      aService({ name: "clusterip", type: "ClusterIP" }),
      aService({ name: "going", deleting: true }),
    ]);
    expect(p.services.map((s) => s.key)).toEqual(["default/mine", "default/unclassed"]);
  });

  it("leaves unclassed Services alone when handleUnclassed is false", () => {
    const p = planOf([aService({ name: "unclassed" })], aParsedConfig({ handleUnclassed: false }));
    expect(p.services).toEqual([]);
  });
});

describe("backend nodes", () => {
  it("excludes nodes as the upstream service controller does, without a Ready check", () => {
    const p = planOf([
      aNode("plain", "198.18.2.1"),
      aNode("excluded", "198.18.2.2", { labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "" } }),
      aNode("label-false", "198.18.2.3", {
        labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "false" },
      }),
      aNode("scaling-down", "198.18.2.4", {
        taints: [{ key: "ToBeDeletedByClusterAutoscaler", value: "1700000000", effect: "NoSchedule" }],
      }),
      aNode("deleting", "198.18.2.5", { deleting: true }),
      aNode("control-plane", "198.18.2.6", {
        taints: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
      }),
      aService(),
    ]);
    expect(serversOf(p, "default/web")).toEqual([
      "control-plane=198.18.2.6:30080",
      "label-false=198.18.2.3:30080",
      "plain=198.18.2.1:30080",
    ]);
  });

  it("uses each node's InternalIP of the VIP's family and skips nodes without one", () => {
    const p = planOf([
      aNode("dual", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }),
      aNode("v4only", "198.18.2.2"),
      aService({ name: "v6", ipFamilies: ["IPv6"] }),
    ]);
    expect(p.services[0]?.vips).toEqual(["2001:db8:100::1"]);
    expect(serversOf(p, "default/v6")).toEqual(["dual=2001:db8:2::1:30080"]);
  });
});

describe("addresses", () => {
  it("gives the lowest free address to the oldest Service first, whatever the input order", () => {
    const objects = [
      aService({ name: "young", created: "2026-03-01T00:00:00Z" }),
      aService({ name: "old", created: "2026-01-01T00:00:00Z" }),
    ];
    const p = planOf(objects);
    expect(p.services.map((s) => [s.key, s.vips[0]])).toEqual([
      ["default/old", "198.18.100.10"],
      ["default/young", "198.18.100.11"],
    ]);
  });

  it("keeps an address from status (sticky) and gives a contested one to the older Service", () => {
    const p = planOf([
      aService({ name: "holder", statusIps: ["198.18.100.30"], created: "2026-02-01T00:00:00Z" }),
      aService({ name: "older-claimant", statusIps: ["198.18.100.30"], created: "2026-01-01T00:00:00Z" }),
      aService({ name: "outside", statusIps: ["198.18.200.1"], created: "2026-01-02T00:00:00Z" }),
    ]);
    const vip = (n: string) => p.services.find((s) => s.key === `default/${n}`)?.vips[0];
    expect(vip("older-claimant")).toBe("198.18.100.30");
    expect(vip("holder")).toBe("198.18.100.11");
    expect(vip("outside")).toBe("198.18.100.10");
  });

  it("reports exhaustion on the Services that missed out and plans the rest", () => {
    const config = aParsedConfig({ pools: [{ name: "tiny", addresses: ["198.18.100.10-198.18.100.11"] }] });
    const p = planOf(
      [
        ...threeNodes(),
        aService({ name: "a", created: "2026-01-01T00:00:00Z" }),
        aService({ name: "b", created: "2026-01-02T00:00:00Z" }),
        aService({ name: "c", created: "2026-01-03T00:00:00Z" }),
      ],
      config,
    );
    const c = p.services.find((s) => s.key === "default/c");
    expect(c?.state).toBe("failed");
    expect(c?.status.conditions[0]).toMatchObject({
      type: READY_CONDITION,
      status: "False",
      reason: "AddressPoolExhausted",
    });
    expect(c?.status.conditions[0]?.message).toBe("Service default/c: no free IPv4 address left in pool(s) tiny");
    expect(p.services.filter((s) => s.state === "ready").map((s) => s.key)).toEqual(["default/a", "default/b"]);
    expect(p.frontends.map((f) => f.service).sort()).toEqual(["default/a", "default/b"]);
  });
});

describe("health checks and PROXY protocol", () => {
  it("checks healthCheckNodePort for Local and kube-proxy's port for Cluster", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ name: "local", policy: "Local", healthCheckNodePort: 31999 }),
      aService({ name: "cluster" }),
    ]);
    const hc = (svc: string) => p.backends.find((b) => b.service === svc)?.healthCheck;
    const local = hc("default/local");
    expect(local).toMatchObject({ kind: "track", source: "healthCheckNodePort" });
    const own = p.checks?.find((c) => local?.kind === "track" && c.id === local.backend);
    expect(own?.healthCheck).toMatchObject({
      source: "healthCheckNodePort",
      port: 31999,
      path: "/healthz",
      expectStatus: 200,
    });
    const shared = p.checks?.find((c) => c.healthCheck.source === "kubeProxy");
    expect(hc("default/cluster")).toMatchObject({ kind: "track", source: "kubeProxy", backend: shared?.id });
    expect(shared?.healthCheck).toMatchObject({ source: "kubeProxy", port: 10256, path: "/healthz" });
  });

  it("turns PROXY protocol on per Service and reports ipMode Proxy", () => {
    const p = planOf([...threeNodes(), aService({ annotations: { "portico.dev/proxy-protocol": "v2" } })]);
    expect(p.backends[0]?.proxyProtocol).toBe("v2");
    expect(p.services[0]?.status.loadBalancer.ingress[0]?.ipMode).toBe("Proxy");
  });

  it("warns about a bad annotation value, names the accepted values, and still serves", () => {
    const p = planOf([...threeNodes(), aService({ annotations: { "portico.dev/proxy-protocol": "v3" } })]);
    const s = p.services[0]!;
    expect(s.state).toBe("ready");
    expect(s.proxyProtocol).toBe("none");
    expect(s.status.conditions.find((c) => c.type === DEGRADED_CONDITION)).toMatchObject({
      status: "True",
      reason: "InvalidAnnotation",
      message:
        'Service default/web: annotation portico.dev/proxy-protocol: "v3" is not one of none, v1, v2; using the default (none)',
    });
  });
});

describe("ports", () => {
  it("serves TCP 53 through HAProxy and UDP 53 through the L4 data plane on one VIP", () => {
    const p = planOf([
      ...threeNodes(),
      aService({
        ports: [
          { name: "dns-tcp", port: 53, nodePort: 30053 },
          { name: "dns", port: 53, nodePort: 30054, protocol: "UDP" },
        ],
      }),
    ]);
    const s = p.services[0]!;
    expect(s.state).toBe("ready");
    expect(s.status.loadBalancer.ingress[0]?.ports).toEqual([
      { port: 53, protocol: "TCP" },
      { port: 53, protocol: "UDP" },
    ]);
    expect(p.frontends).toHaveLength(1);
    expect(p.l4Listeners).toHaveLength(1);
    expect(p.l4Listeners![0]).toMatchObject({ vip: s.vips[0], port: 53, protocol: "UDP", mode: "nat" });
    expect(p.unservedListeners).toEqual([]);
  });

  it("reports a UDP port the Service asks HAProxy to proxy per port without blocking the TCP ones", () => {
    const p = planOf([
      ...threeNodes(),
      aService({
        annotations: { "portico.dev/data-plane": "proxy" },
        ports: [
          { name: "dns-tcp", port: 53, nodePort: 30053 },
          { name: "dns", port: 53, nodePort: 30054, protocol: "UDP" },
        ],
      }),
    ]);
    const s = p.services[0]!;
    expect(s.state).toBe("partial");
    expect(s.status.loadBalancer.ingress[0]?.ports).toEqual([
      { port: 53, protocol: "TCP" },
      { port: 53, protocol: "UDP", error: "portico.dev/ProtocolNotServed" },
    ]);
    expect(p.frontends).toHaveLength(1);
    expect(p.l4Listeners).toEqual([]);
  });

  it("fails a Service with nothing to serve and gives it no address", () => {
    const p = planOf([
      ...threeNodes(),
      aService({
        name: "udp",
        annotations: { "portico.dev/data-plane": "proxy" },
        ports: [{ port: 53, nodePort: 30053, protocol: "UDP" }],
      }),
      aService({ name: "web" }),
    ]);
    expect(p.services.find((s) => s.key === "default/udp")).toMatchObject({ state: "failed", vips: [] });
    expect(p.services.find((s) => s.key === "default/web")?.vips).toEqual(["198.18.100.10"]);
  });

  it("fails a Local Service without healthCheckNodePort instead of checking the wrong port", () => {
    const svc = aService({ policy: "Local" });
    delete (svc["spec"] as Record<string, unknown>)["healthCheckNodePort"];
    const p = planOf([...threeNodes(), svc]);
    expect(p.services[0]).toMatchObject({ state: "failed" });
    expect(p.services[0]?.status.conditions[0]?.reason).toBe("MissingHealthCheckNodePort");
  });
});

describe("VRRP", () => {
  it("spreads masters over LB nodes and keeps VRIDs in the configured range", () => {
    const services = Array.from({ length: 12 }, (_, i) =>
      aService({ name: `s${i}`, created: `2026-01-01T00:00:${String(i).padStart(2, "0")}Z` }),
    );
    const config = aParsedConfig({
      lbNodes: [
        { name: "lb1", address: "198.18.1.1", interface: "eth0" },
        { name: "lb2", address: "198.18.1.2", interface: "eth0" },
        { name: "lb3", address: "198.18.1.3", interface: "eth0" },
      ],
      vrrp: { vridFirst: 50, vridLast: 99 },
    });
    const p = planOf([...threeNodes(), ...services], config);
    expect(p.vrrpInstances).toHaveLength(12);
    const masters = new Map<string, number>();
    for (const i of p.vrrpInstances) {
      expect(i.vrid).toBeGreaterThanOrEqual(50);
      expect(i.vrid).toBeLessThanOrEqual(99);
      masters.set(i.priorities[0]!.lbNode, (masters.get(i.priorities[0]!.lbNode) ?? 0) + 1);
    }
    expect([...masters.keys()].sort()).toEqual(["lb1", "lb2", "lb3"]);
  });

  it("groups VIPs with the same priority order when VIPs outnumber VRIDs", () => {
    const services = Array.from({ length: 6 }, (_, i) => aService({ name: `s${i}` }));
    const p = planOf([...threeNodes(), ...services], aParsedConfig({ vrrp: { vridFirst: 1, vridLast: 2 } }));
    expect(p.vrrpInstances.length).toBeLessThanOrEqual(2);
    expect(p.vrrpInstances.flatMap((i) => i.vips)).toHaveLength(6);
    expect(p.services.every((s) => s.state === "ready")).toBe(true);
  });
});

describe("address families", () => {
  it("gives a dual-stack Service one VIP per family, primary first, each family served by the nodes' address of that family", () => {
    const p = planOf([
      aNode("dual", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }),
      aNode("v4only", "198.18.2.2"),
      aService({ ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "RequireDualStack" }),
    ]);
    const s = p.services[0]!;
    expect(s.state).toBe("ready");
    expect(s.vips).toEqual(["2001:db8:100::1", "198.18.100.10"]);
    expect(s.status.loadBalancer.ingress.map((i) => i.ip)).toEqual(["2001:db8:100::1", "198.18.100.10"]);
    expect(p.backends.map((b) => [b.family, b.servers.map((x) => x.address)])).toEqual([
      [4, ["198.18.2.1", "198.18.2.2"]],
      [6, ["2001:db8:2::1"]],
    ]);
  });

  it("keeps every remaining VIP's VRID and master when given the previous plan's state and a Service goes away", () => {
    const services = Array.from({ length: 9 }, (_, i) =>
      aService({ name: `s${i}`, created: `2026-01-01T00:00:0${i}Z` }),
    );
    const config = aParsedConfig({ vrrp: { vridFirst: 10, vridLast: 30 } });
    const first = planOf([...threeNodes(), ...services], config);
    // Feed back the VIPs the Services now hold (their status), as the controller would.
    const withStatus = services.map((s, i) => ({
      ...s,
      status: {
        loadBalancer: { ingress: first.services.find((x) => x.key === `default/s${i}`)!.vips.map((ip) => ({ ip })) },
      },
    }));
    const second = plan(ingest([...threeNodes(), ...withStatus.slice(1)]), config, vrrpStateOf(first));
    const byVip = (p: typeof first) =>
      new Map(p.vrrpInstances.flatMap((i) => i.vips.map((v) => [v, `${i.vrid}/${i.priorities[0]!.lbNode}`] as const)));
    const before = byVip(first);
    const after = byVip(second);
    expect(after.size).toBe(8);
    for (const [vip, where] of after) expect(where).toBe(before.get(vip));
  });
});
