import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";
import { KUBE_PROXY_CHECK_ID } from "../src/plan/checks.js";
import { aConfig, aNode, anEndpointSlice, aService, planOf, threeNodes } from "../src/testing/index.js";

// The planner's side of the L4 data plane: which ports become L4 listeners, in which mode, with
// which servers, checks and table size.

const dns = (o: Parameters<typeof aService>[0] = {}) =>
  aService({
    name: "dns",
    ports: [
      { name: "dns-tcp", port: 53, nodePort: 30053 },
      { name: "dns", port: 53, nodePort: 30054, protocol: "UDP" },
    ],
    ...o,
  });

describe("L4 listeners", () => {
  it("UDP and SCTP default to nat and TCP to proxy; the config changes the defaults per protocol", () => {
    const svc = aService({
      ports: [
        { port: 80, nodePort: 30080 },
        { port: 53, nodePort: 30053, protocol: "UDP" },
        { port: 38412, nodePort: 30412, protocol: "SCTP" },
      ],
    });
    const p = planOf([...threeNodes(), svc]);
    expect(p.frontends.map((f) => f.port)).toEqual([80]);
    expect(p.l4Listeners?.map((l) => `${l.protocol}/${l.port} ${l.mode}`).sort()).toEqual([
      "SCTP/38412 nat",
      "UDP/53 nat",
    ]);
    const config = parseConfig({ ...aConfig(), nftables: { tcpDataPlane: "direct", udpDataPlane: "direct" } });
    const q = planOf([...threeNodes(), svc], config._unsafeUnwrap());
    expect(q.frontends).toEqual([]);
    expect(q.l4Listeners?.map((l) => `${l.protocol}/${l.port} ${l.mode}`).sort()).toEqual([
      "SCTP/38412 nat",
      "TCP/80 direct",
      "UDP/53 direct",
    ]);
  });

  it("the config takes a listed prime as the table size, absent leaves it to the node count", () => {
    expect(parseConfig(aConfig())._unsafeUnwrap().nftables?.maglevTableSize).toBeUndefined();
    expect(
      parseConfig({ ...aConfig(), nftables: { maglevTableSize: 131071 } })._unsafeUnwrap().nftables?.maglevTableSize,
    ).toBe(131071);
    expect(parseConfig({ ...aConfig(), nftables: { maglevTableSize: 16384 } })._unsafeUnwrapErr()).toEqual([
      {
        path: "nftables.maglevTableSize",
        message: "must be one of 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071",
      },
    ]);
  });

  it("the config refuses proxy as the UDP default and an unknown data plane", () => {
    const bad = parseConfig({ ...aConfig(), nftables: { udpDataPlane: "proxy", tcpDataPlane: "ipvs" } });
    expect(bad._unsafeUnwrapErr().map((i) => i.path)).toEqual(["nftables.tcpDataPlane", "nftables.udpDataPlane"]);
  });

  it("portico.dev/data-plane moves every port of the Service, and a bad value warns and keeps the defaults", () => {
    const p = planOf([...threeNodes(), dns({ annotations: { "portico.dev/data-plane": "direct" } })]);
    expect(p.frontends).toEqual([]);
    expect(p.l4Listeners?.map((l) => `${l.protocol} ${l.mode}`).sort()).toEqual(["TCP direct", "UDP direct"]);
    const q = planOf([...threeNodes(), dns({ annotations: { "portico.dev/data-plane": "ipvs" } })]);
    expect(q.frontends).toHaveLength(1);
    expect(q.l4Listeners?.map((l) => `${l.protocol} ${l.mode}`)).toEqual(["UDP nat"]);
    expect(q.services[0]?.diagnostics.map((d) => d.reason)).toContain("InvalidAnnotation");
  });

  it("one VIP serves TCP 53 through HAProxy and UDP 53 through nftables, per family when dual-stack", () => {
    const p = planOf([
      aNode("w1", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }),
      aNode("w2", "198.18.2.2", { moreIps: ["2001:db8:2::2"] }),
      dns({ ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" }),
    ]);
    const s = p.services[0]!;
    expect(s.state).toBe("ready");
    expect(p.frontends.map((f) => f.vip).sort()).toEqual([...s.vips].sort());
    expect(p.l4Listeners?.map((l) => [l.vip, l.family, l.servers.map((x) => x.address)])).toEqual([
      ["198.18.100.10", 4, ["198.18.2.1", "198.18.2.2"]],
      ["2001:db8:100::1", 6, ["2001:db8:2::1", "2001:db8:2::2"]],
    ]);
  });

  it("carries source ranges and ClientIP affinity to the listener", () => {
    const p = planOf([
      ...threeNodes(),
      dns({ loadBalancerSourceRanges: ["198.18.50.0/24"], sessionAffinity: "ClientIP" }),
    ]);
    expect(p.l4Listeners?.[0]).toMatchObject({
      sourceRanges: ["198.18.50.0/24"],
      affinity: { kind: "clientIp", timeoutSeconds: 10800 },
    });
  });

  it("Cluster policy tracks the shared kube-proxy check, planned also for a UDP-only Service", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ name: "syslog", ports: [{ port: 514, nodePort: 30514, protocol: "UDP" }] }),
    ]);
    expect(p.l4Listeners?.[0]?.healthCheck).toEqual({
      kind: "track",
      source: "kubeProxy",
      backend: KUBE_PROXY_CHECK_ID,
    });
    expect(p.checks?.[0]?.servers.map((s) => s.node)).toEqual(["worker-1", "worker-2", "worker-3"]);
  });

  it("Local policy checks healthCheckNodePort and weights pods-per-node; the table size is the config's", () => {
    const svc = aService({
      name: "dns",
      policy: "Local",
      healthCheckNodePort: 32053,
      annotations: { "portico.dev/weighting": "pods-per-node" },
      ports: [{ port: 53, nodePort: 30053, protocol: "UDP" }],
    });
    const slice = anEndpointSlice("default", "dns", [
      { ip: "198.19.0.1", node: "worker-1" },
      { ip: "198.19.0.2", node: "worker-1" },
      { ip: "198.19.0.3", node: "worker-2" },
    ]);
    const p = planOf([...threeNodes(), svc, slice]);
    const l = p.l4Listeners![0]!;
    // It follows the Service's own check backend, which HAProxy runs: a UDP-only Service has one too.
    expect(l.healthCheck).toMatchObject({ kind: "track", source: "healthCheckNodePort" });
    if (l.healthCheck.kind === "track") expect(l.healthCheck.backend).toMatch(/^chk_default_dns_v4/);
    expect(l.servers.map((s) => [s.node, s.weight])).toEqual([
      ["worker-1", 2],
      ["worker-2", 1],
    ]);
    const check = p.checks!.find((c) => l.healthCheck.kind === "track" && c.id === l.healthCheck.backend)!;
    expect(check.healthCheck).toMatchObject({ kind: "http", port: 32053 });
    expect(check.servers.map((s) => [s.node, s.port])).toEqual([
      ["worker-1", 32053],
      ["worker-2", 32053],
    ]);
    // Three eligible nodes: the smallest default size, whatever servers this listener has.
    expect(l.tableSize).toBe(16381);
  });

  it("sizes every table from the cluster's eligible nodes: 40 give 32749, a set size stays", () => {
    const nodes = Array.from({ length: 40 }, (_, i) => aNode(`worker-${i}`, `198.18.2.${i + 1}`));
    const zoned = aService({
      name: "zoned",
      annotations: { "portico.dev/node-selector": "kubernetes.io/hostname=worker-1" },
      ports: [{ port: 5353, nodePort: 30353, protocol: "UDP" }],
    });
    const p = planOf([...nodes, dns(), zoned]);
    // One node selected or forty, the same size: the eligible count decides it.
    expect(p.l4Listeners?.map((l) => [l.service, l.servers.length, l.tableSize])).toEqual([
      ["default/dns", 40, 32749],
      ["default/zoned", 1, 32749],
    ]);
    const fixed = parseConfig({ ...aConfig(), nftables: { maglevTableSize: 4093 } })._unsafeUnwrap();
    expect(planOf([...nodes, dns(), zoned], fixed).l4Listeners?.map((l) => l.tableSize)).toEqual([4093, 4093]);
  });

  it("a Local Service's TCP and UDP ports share one check per node and family: none runs twice", () => {
    const p = planOf([
      ...threeNodes(),
      aService({
        name: "dns",
        policy: "Local",
        healthCheckNodePort: 32053,
        ports: [
          { name: "tcp", port: 53, nodePort: 30053, protocol: "TCP" },
          { name: "udp", port: 53, nodePort: 30054, protocol: "UDP" },
        ],
      }),
    ]);
    const tracked = new Set([
      ...p.backends.map((b) => (b.healthCheck.kind === "track" ? b.healthCheck.backend : "")),
      ...p.l4Listeners!.map((l) => (l.healthCheck.kind === "track" ? l.healthCheck.backend : "")),
    ]);
    expect([...tracked]).toHaveLength(1);
    expect([...tracked][0]).toMatch(/^chk_default_dns_v4/);
    const checks = p.checks!.filter((c) => c.healthCheck.port === 32053);
    expect(checks.map((c) => c.id)).toEqual([...tracked]);
    const checked = checks[0]!.servers.map((s) => `${s.address}:${s.port}`);
    expect(new Set(checked).size).toBe(checked.length);
    expect(checked).toHaveLength(3);
  });

  it("a UDP port without a nodePort is not served and says why", () => {
    const p = planOf([
      ...threeNodes(),
      dns({
        allocateLoadBalancerNodePorts: false,
        ports: [
          { name: "dns-tcp", port: 53, nodePort: 30053 },
          { name: "dns", port: 53, protocol: "UDP" },
        ],
      }),
    ]);
    expect(p.services[0]?.status.loadBalancer.ingress[0]?.ports).toContainEqual({
      port: 53,
      protocol: "UDP",
      error: "portico.dev/NoNodePort",
    });
    expect(p.l4Listeners).toEqual([]);
  });
});
