import { describe, expect, it } from "vitest";
import { DEGRADED_CONDITION, READY_CONDITION } from "../src/plan/status.js";
import { healthChecksPerLbNode } from "../src/plan/checks.js";
import { parseSelectorObject, parseSelectorString, matchesSelector, formatSelector } from "../src/labels.js";
import { parseDuration } from "../src/duration.js";
import { parseConfig } from "../src/config.js";
import { aConfig, aNode, anEndpointSlice, aParsedConfig, aService, planOf, threeNodes } from "../src/testing/index.js";
import type { Plan } from "../src/plan/types.js";

const svc = (p: Plan, key: string) => p.services.find((s) => s.key === key)!;
const reasons = (p: Plan, key: string) => svc(p, key).diagnostics.map((d) => d.reason);
const TWO_POOLS = aParsedConfig({
  pools: [
    { name: "public", addresses: ["198.18.100.10-198.18.100.12", "2001:db8:100::/126"] },
    { name: "reserved", addresses: ["198.18.101.0/30"], autoAssign: false },
    { name: "team-a", addresses: ["198.18.102.0/30"], namespaces: ["team-a"] },
    {
      name: "edge",
      addresses: ["198.18.103.0/30"],
      autoAssign: false,
      serviceSelector: { matchLabels: { tier: "edge" } },
    },
  ],
});

describe("label selectors", () => {
  it("parses the kubectl string form and matches with Kubernetes semantics", () => {
    const s = parseSelectorString("role in (ingress, edge),zone!=b,!draining,gpu")._unsafeUnwrap();
    expect(formatSelector(s)).toBe("!draining,gpu,role in (edge,ingress),zone!=b");
    expect(matchesSelector(s, { role: "edge", gpu: "" })).toBe(true);
    expect(matchesSelector(s, { role: "edge", gpu: "", zone: "b" })).toBe(false);
    expect(matchesSelector(s, { role: "edge", gpu: "", draining: "1" })).toBe(false);
    expect(matchesSelector(s, { role: "web", gpu: "" })).toBe(false);
    expect(parseSelectorString("a=b\nbackend evil").isErr()).toBe(true);
    expect(parseSelectorString("x in (a").isErr()).toBe(true);
  });

  it("parses the object form used in the config", () => {
    const s = parseSelectorObject({
      matchLabels: { tier: "edge" },
      matchExpressions: [{ key: "env", operator: "NotIn", values: ["dev"] }],
    })._unsafeUnwrap();
    expect(matchesSelector(s, { tier: "edge" })).toBe(true);
    expect(matchesSelector(s, { tier: "edge", env: "dev" })).toBe(false);
    expect(parseSelectorObject({ matchExpressions: [{ key: "a", operator: "Near" }] })._unsafeUnwrapErr()).toContain(
      "operator",
    );
  });
});

describe("durations", () => {
  it("reads one number and a unit within bounds", () => {
    expect(parseDuration("500ms", 1, 86_400_000)._unsafeUnwrap()).toBe(500);
    expect(parseDuration("2m", 1, 86_400_000)._unsafeUnwrap()).toBe(120_000);
    expect(parseDuration("25h", 1, 86_400_000).isErr()).toBe(true);
    expect(parseDuration("5 s", 1, 86_400_000).isErr()).toBe(true);
  });
});

describe("config: pools and Service defaults", () => {
  it("keeps the documented example valid and defaults every new field", () => {
    const c = parseConfig(aConfig())._unsafeUnwrap();
    expect(c.pools[0]).toMatchObject({ name: "default", autoAssign: true });
    expect(c.maxBackendsPerService).toBe(0);
    expect(c.podIpsRoutable).toBe(false);
    expect(c.serviceDefaults).toEqual({});
  });

  it("parses serviceDefaults with the annotation parsers and names bad fields", () => {
    const c = parseConfig({
      ...aConfig(),
      serviceDefaults: { balance: "leastconn", "timeout-connect": "3s", weighting: "pods-per-node" },
    })._unsafeUnwrap();
    expect(c.serviceDefaults).toEqual({ balance: "leastconn", timeoutConnect: 3000, weighting: "pods-per-node" });
    const bad = parseConfig({
      ...aConfig(),
      serviceDefaults: { balance: "fastest", "allow-shared-ip": "x" },
      pools: [
        {
          name: "p",
          addresses: ["198.18.100.0/30"],
          autoAssign: "yes",
          serviceSelector: { matchLabels: { "a b": "c" } },
        },
      ],
    });
    expect(bad._unsafeUnwrapErr().map((i) => i.path)).toEqual([
      "serviceDefaults.allow-shared-ip",
      "serviceDefaults.balance",
      "pools[0].autoAssign",
      "pools[0].serviceSelector",
    ]);
  });
});

describe("IPAM: several pools, requests, autoAssign, namespaces, selectors", () => {
  it("skips autoAssign: false pools and pools whose namespaces or selector exclude the Service", () => {
    const p = planOf(
      [
        ...threeNodes(),
        aService({ namespace: "team-a", name: "a" }),
        aService({ namespace: "team-b", name: "b", labels: { tier: "edge" } }),
      ],
      TWO_POOLS,
    );
    expect(svc(p, "team-a/a").vips).toEqual(["198.18.100.10"]);
    expect(svc(p, "team-b/b").vips).toEqual(["198.18.100.11"]);
  });

  it("honours portico.dev/pool, including autoAssign: false and namespace-restricted pools, and refuses one that excludes the Service", () => {
    const p = planOf(
      [
        ...threeNodes(),
        aService({ name: "reserved", annotations: { "portico.dev/pool": "reserved" } }),
        aService({ namespace: "team-a", name: "mine", annotations: { "portico.dev/pool": "team-a" } }),
        aService({ name: "not-mine", annotations: { "portico.dev/pool": "team-a" } }),
        aService({ name: "edge", labels: { tier: "edge" }, annotations: { "portico.dev/pool": "edge" } }),
        aService({ name: "nowhere", annotations: { "portico.dev/pool": "nowhere" } }),
      ],
      TWO_POOLS,
    );
    expect(svc(p, "default/reserved").vips).toEqual(["198.18.101.0"]);
    expect(svc(p, "team-a/mine").vips).toEqual(["198.18.102.0"]);
    expect(svc(p, "default/edge").vips).toEqual(["198.18.103.0"]);
    expect(svc(p, "default/not-mine")).toMatchObject({ state: "failed", vips: [] });
    expect(svc(p, "default/not-mine").status.conditions[0]).toMatchObject({
      status: "False",
      reason: "PoolNotAllowed",
    });
    expect(svc(p, "default/nowhere").status.conditions[0]).toMatchObject({ status: "False", reason: "PoolNotFound" });
  });

  it("gives a requested address (annotation over spec.loadBalancerIP) and never a different one", () => {
    const p = planOf(
      [
        ...threeNodes(),
        aService({
          name: "annotated",
          annotations: { "portico.dev/load-balancer-ips": "198.18.101.2" },
          loadBalancerIP: "198.18.100.12",
        }),
        aService({ name: "spec", loadBalancerIP: "198.18.100.12" }),
        aService({ name: "outside", loadBalancerIP: "203.0.113.9" }),
        aService({ name: "garbled", annotations: { "portico.dev/load-balancer-ips": "198.18.100.300" } }),
        aService({ name: "wrong-family", annotations: { "portico.dev/load-balancer-ips": "2001:db8:100::2" } }),
      ],
      TWO_POOLS,
    );
    expect(svc(p, "default/annotated").vips).toEqual(["198.18.101.2"]);
    expect(reasons(p, "default/annotated")).toContain("LoadBalancerIPIgnored");
    expect(svc(p, "default/spec").vips).toEqual(["198.18.100.12"]);
    for (const [name, reason] of [
      ["outside", "AddressNotInPool"],
      ["garbled", "InvalidAddressRequest"],
      ["wrong-family", "RequestedFamilyNotServed"],
    ] as const) {
      expect(svc(p, `default/${name}`)).toMatchObject({ state: "failed", vips: [] });
      expect(svc(p, `default/${name}`).status.conditions[0]).toMatchObject({ status: "False", reason });
    }
  });

  it("gives a contested request to the older Service and an error to the younger, others unaffected", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ name: "young", created: "2026-02-01T00:00:00Z", loadBalancerIP: "198.18.100.20" }),
      aService({ name: "old", created: "2026-01-01T00:00:00Z", loadBalancerIP: "198.18.100.20" }),
      aService({ name: "other", created: "2026-01-15T00:00:00Z" }),
    ]);
    expect(svc(p, "default/old").vips).toEqual(["198.18.100.20"]);
    expect(svc(p, "default/young").status.conditions[0]).toMatchObject({ status: "False", reason: "AddressInUse" });
    expect(svc(p, "default/other")).toMatchObject({ state: "ready", vips: ["198.18.100.10"] });
  });
});

describe("sharing with portico.dev/allow-shared-ip", () => {
  const share = (
    name: string,
    created: string,
    ports: { port: number; nodePort: number; protocol?: string }[],
    key = "k",
    more: Record<string, unknown> = {},
  ) => aService({ name, created, ports, annotations: { "portico.dev/allow-shared-ip": key }, ...more });

  it("puts Services with one key and disjoint ports on one VIP, Local and Cluster alike, each port with its own backend", () => {
    const p = planOf([
      ...threeNodes(),
      share("dns-tcp", "2026-01-01T00:00:00Z", [{ port: 53, nodePort: 30053 }], "k", {
        policy: "Local",
        healthCheckNodePort: 32053,
      }),
      share("dns-udp", "2026-01-02T00:00:00Z", [
        { port: 53, nodePort: 30054, protocol: "UDP" },
        { port: 853, nodePort: 30853 },
      ]),
      share("web", "2026-01-03T00:00:00Z", [{ port: 80, nodePort: 30080 }]),
    ]);
    expect(p.services.map((s) => s.vips)).toEqual([["198.18.100.10"], ["198.18.100.10"], ["198.18.100.10"]]);
    expect(p.frontends.map((f) => `${f.vip}:${f.port}`).sort()).toEqual([
      "198.18.100.10:53",
      "198.18.100.10:80",
      "198.18.100.10:853",
    ]);
    expect(new Set(p.backends.map((b) => b.id)).size).toBe(3);
    expect(p.vrrpInstances.flatMap((i) => i.vips)).toEqual(["198.18.100.10"]);
  });

  it("refuses a port clash with a reason, and never shares across keys or without one", () => {
    const p = planOf([
      ...threeNodes(),
      share("a", "2026-01-01T00:00:00Z", [{ port: 80, nodePort: 30080 }], "k", { loadBalancerIP: "198.18.100.30" }),
      share("clash", "2026-01-02T00:00:00Z", [{ port: 80, nodePort: 30081 }], "k", { loadBalancerIP: "198.18.100.30" }),
      share("other-key", "2026-01-03T00:00:00Z", [{ port: 81, nodePort: 30082 }], "j", {
        loadBalancerIP: "198.18.100.30",
      }),
      aService({
        name: "no-key",
        created: "2026-01-04T00:00:00Z",
        loadBalancerIP: "198.18.100.30",
        ports: [{ port: 82, nodePort: 30083 }],
      }),
      share("auto-clash", "2026-01-05T00:00:00Z", [{ port: 80, nodePort: 30084 }]),
    ]);
    expect(svc(p, "default/clash").status.conditions[0]).toMatchObject({ status: "False", reason: "PortsOverlap" });
    expect(svc(p, "default/clash").status.conditions[0]?.message).toContain("80/TCP");
    expect(svc(p, "default/other-key").status.conditions[0]).toMatchObject({ reason: "AddressInUse" });
    expect(svc(p, "default/no-key").status.conditions[0]).toMatchObject({ reason: "AddressInUse" });
    // Without a request, a clashing Service with the key simply gets an address of its own.
    expect(svc(p, "default/auto-clash").vips).toEqual(["198.18.100.10"]);
  });
});

describe("dual-stack", () => {
  const dual = [aNode("d1", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }), aNode("v4", "198.18.2.2")];
  it("RequireDualStack without an IPv6 pool is not served and says why", () => {
    const p = planOf(
      [...dual, aService({ ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" })],
      aParsedConfig({ pools: [{ name: "v4", addresses: ["198.18.100.0/28"] }] }),
    );
    expect(p.services[0]).toMatchObject({ state: "failed" });
    expect(p.services[0]?.status.loadBalancer.ingress).toEqual([]);
    expect(reasons(p, "default/web")).toEqual(expect.arrayContaining(["NoPoolForFamily", "DualStackNotServed"]));
    expect(p.frontends).toEqual([]);
  });

  it("PreferDualStack serves the families it can and notes the other", () => {
    const p = planOf(
      [...dual, aService({ ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "PreferDualStack" })],
      aParsedConfig({ pools: [{ name: "v4", addresses: ["198.18.100.0/28"] }] }),
    );
    expect(p.services[0]).toMatchObject({ state: "ready", vips: ["198.18.100.0"] });
    expect(reasons(p, "default/web")).toEqual(["FamilyNotAvailable"]);
  });

  it("SingleStack serves the first family only", () => {
    const p = planOf([...dual, aService({ ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "SingleStack" })]);
    expect(p.services[0]?.vips).toEqual(["2001:db8:100::1"]);
  });
});

describe("loadBalancerSourceRanges", () => {
  it("canonicalises both families (host bits masked, trimmed, deduplicated, sorted) onto every frontend", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ loadBalancerSourceRanges: [" 2001:DB8::1/32", "198.18.5.7/16", "198.18.0.0/16", "10.0.0.1/32"] }),
    ]);
    expect(p.frontends[0]?.sourceRanges).toEqual(["10.0.0.1/32", "198.18.0.0/16", "2001:db8::/32"]);
  });

  it("falls back to the legacy annotation, and fails closed on a bad range", () => {
    const legacy = planOf([
      ...threeNodes(),
      aService({
        annotations: { "service.beta.kubernetes.io/load-balancer-source-ranges": "198.18.9.0/24, 198.18.8.0/24" },
      }),
    ]);
    expect(legacy.frontends[0]?.sourceRanges).toEqual(["198.18.8.0/24", "198.18.9.0/24"]);
    const bad = planOf([
      ...threeNodes(),
      aService({ name: "bad", loadBalancerSourceRanges: ["198.18.0.0/33"] }),
      aService({ name: "ok", created: "2026-02-01T00:00:00Z" }),
    ]);
    expect(svc(bad, "default/bad")).toMatchObject({ state: "failed", vips: [] });
    expect(svc(bad, "default/bad").status.conditions[0]?.reason).toBe("InvalidSourceRanges");
    expect(svc(bad, "default/ok").state).toBe("ready");
  });
});

describe("backends", () => {
  it("Local targets only nodes with ready or serving-terminating endpoints, weighting pods-per-node (0 drains)", () => {
    const p = planOf([
      ...threeNodes(),
      aNode("worker-4", "198.18.2.4"),
      aService({ policy: "Local", annotations: { "portico.dev/weighting": "pods-per-node" } }),
      anEndpointSlice("default", "web", [
        { ip: "10.0.0.1", node: "worker-1" },
        { ip: "10.0.0.2", node: "worker-1" },
        { ip: "10.0.0.3", node: "worker-2" },
        { ip: "10.0.0.4", node: "worker-3", ready: false, serving: true, terminating: true },
        { ip: "10.0.0.5", node: "worker-4", ready: false, serving: false },
      ]),
    ]);
    expect(p.backends[0]?.servers.map((s) => `${s.node}:${s.weight}`)).toEqual([
      "worker-1:2",
      "worker-2:1",
      "worker-3:0",
    ]);
  });

  it("pods-per-node counts serving-terminating endpoints when no node has a ready one, instead of draining every node", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ policy: "Local", annotations: { "portico.dev/weighting": "pods-per-node" } }),
      anEndpointSlice("default", "web", [
        { ip: "10.0.0.1", node: "worker-1", ready: false, serving: true, terminating: true },
        { ip: "10.0.0.2", node: "worker-1", ready: false, serving: true, terminating: true },
        { ip: "10.0.0.3", node: "worker-2", ready: false, serving: true, terminating: true },
      ]),
    ]);
    expect(p.backends[0]?.servers.map((s) => `${s.node}:${s.weight}`)).toEqual(["worker-1:2", "worker-2:1"]);
  });

  it("config serviceDefaults makes pods-per-node the default for Local, never for Cluster", () => {
    const config = aParsedConfig({ serviceDefaults: { weighting: "pods-per-node" } });
    const slice = anEndpointSlice("default", "web", [
      { ip: "10.0.0.1", node: "worker-1" },
      { ip: "10.0.0.2", node: "worker-1" },
    ]);
    expect(
      planOf([...threeNodes(), aService({ policy: "Local" }), slice], config).backends[0]?.servers.map((s) => s.weight),
    ).toEqual([2]);
    expect(planOf([...threeNodes(), aService(), slice], config).backends[0]?.servers.map((s) => s.weight)).toEqual([
      1, 1, 1,
    ]);
  });

  it("portico.dev/node-selector limits backend nodes", () => {
    const p = planOf([
      aNode("a", "198.18.2.1", { labels: { role: "ingress" } }),
      aNode("b", "198.18.2.2"),
      aService({ annotations: { "portico.dev/node-selector": "role=ingress" } }),
    ]);
    expect(p.backends[0]?.servers.map((s) => s.node)).toEqual(["a"]);
  });

  it("Cluster backends track one shared kube-proxy check per node, so Services add no checks", () => {
    const one = planOf([...threeNodes(), aService({ name: "a" })]);
    const many = planOf([
      ...threeNodes(),
      ...["a", "b", "c", "d"].map((n) =>
        aService({
          name: n,
          ports: [
            { port: 80, nodePort: 30080 },
            { port: 443, nodePort: 30443 },
          ],
        }),
      ),
    ]);
    expect(healthChecksPerLbNode(one)).toBe(3);
    expect(healthChecksPerLbNode(many)).toBe(3);
    expect(
      many.backends.every((b) => b.healthCheck.kind === "track" && b.servers.every((s) => s.track !== undefined)),
    ).toBe(true);
  });

  it("subsets Cluster backends to maxBackendsPerService nodes", () => {
    const nodes = Array.from({ length: 10 }, (_, i) => aNode(`w${i}`, `198.18.2.${i + 1}`));
    const p = planOf([...nodes, aService()], aParsedConfig({ maxBackendsPerService: 4 }));
    expect(p.backends[0]?.servers).toHaveLength(4);
    expect(p.checks?.[0]?.servers).toHaveLength(4);
  });

  it("allocateLoadBalancerNodePorts: false targets pod IPs when they are routable, else says why", () => {
    const objects = [
      ...threeNodes(),
      aService({ allocateLoadBalancerNodePorts: false, ports: [{ name: "http", port: 80 }] }),
      anEndpointSlice(
        "default",
        "web",
        [
          { ip: "10.0.0.1", node: "worker-1" },
          { ip: "10.0.0.2", node: "worker-2", ready: false },
        ],
        "x",
        { ports: [{ name: "http", port: 8080 }] },
      ),
    ];
    const routable = planOf(objects, aParsedConfig({ podIpsRoutable: true }));
    expect(routable.backends[0]).toMatchObject({ target: "pod", healthCheck: { kind: "tcp" } });
    expect(routable.backends[0]?.servers.map((s) => `${s.address}:${s.port}`)).toEqual(["10.0.0.1:8080"]);
    const not = planOf(objects);
    expect(not.services[0]).toMatchObject({ state: "failed" });
    expect(not.services[0]?.diagnostics.map((d) => d.reason)).toEqual(["NoServablePorts", "NoNodePort"]);
  });

  it("sessionAffinity ClientIP carries its timeout; per-Service options reach the backend and frontend", () => {
    const p = planOf([
      ...threeNodes(),
      aService({
        sessionAffinity: "ClientIP",
        sessionAffinityTimeoutSeconds: 300,
        annotations: {
          "portico.dev/balance": "leastconn",
          "portico.dev/timeout-server": "90s",
          "portico.dev/timeout-client": "1m",
        },
      }),
    ]);
    expect(p.backends[0]).toMatchObject({
      affinity: { kind: "clientIp", timeoutSeconds: 300 },
      balance: "leastconn",
      timeouts: { serverMs: 90_000 },
    });
    expect(p.frontends[0]?.clientTimeoutMs).toBe(60_000);
  });

  it("health-check annotations set Local checks and are flagged on Cluster Services", () => {
    const hc = {
      "portico.dev/health-check-interval": "5s",
      "portico.dev/health-check-rise": "4",
      "portico.dev/health-check-fall": "6",
    };
    const p = planOf([
      ...threeNodes(),
      aService({ name: "local", policy: "Local", annotations: hc }),
      aService({ name: "cluster", annotations: hc }),
    ]);
    expect(p.backends.find((b) => b.service === "default/local")?.healthCheck).toMatchObject({
      kind: "http",
      intervalMs: 5000,
      rise: 4,
      fall: 6,
    });
    expect(svc(p, "default/cluster").status.conditions.find((c) => c.type === DEGRADED_CONDITION)).toMatchObject({
      status: "True",
      reason: "HealthCheckShared",
    });
  });
});

describe("status", () => {
  it("publishes one ingress per VIP with ipMode and per-port errors, and conditions with observedGeneration", () => {
    const p = planOf([
      aNode("d", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }),
      aService({
        generation: 7,
        ipFamilies: ["IPv4", "IPv6"],
        ipFamilyPolicy: "RequireDualStack",
        ports: [
          { port: 80, nodePort: 30080 },
          { port: 80, nodePort: 30081, protocol: "UDP" },
        ],
      }),
    ]);
    const s = p.services[0]!;
    expect(s.status.loadBalancer.ingress).toEqual([
      {
        ip: "198.18.100.10",
        ipMode: "VIP",
        ports: [
          { port: 80, protocol: "TCP" },
          { port: 80, protocol: "UDP", error: "portico.dev/ProtocolNotServed" },
        ],
      },
      {
        ip: "2001:db8:100::1",
        ipMode: "VIP",
        ports: [
          { port: 80, protocol: "TCP" },
          { port: 80, protocol: "UDP", error: "portico.dev/ProtocolNotServed" },
        ],
      },
    ]);
    expect(s.status.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).toEqual([
      [READY_CONDITION, "True", "PartiallyServed", 7],
      [DEGRADED_CONDITION, "True", "ProtocolNotServed", 7],
    ]);
    expect(p.unservedListeners?.map((l) => `${l.protocol} ${l.vip} ${l.port} ${l.servers.length}`)).toEqual([
      "UDP 198.18.100.10 80 1",
      "UDP 2001:db8:100::1 80 1",
    ]);
  });

  it("asks to clear the status of Services that left (type changed, deleted), never of a foreign class", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ name: "now-clusterip", type: "ClusterIP", statusIps: ["198.18.100.40"] }),
      aService({ name: "deleted", deleting: true, statusIps: ["198.18.100.41"] }),
      aService({ name: "foreign", loadBalancerClass: "example.com/other", statusIps: ["198.18.100.42"] }),
      aService({ name: "kept", statusIps: ["198.18.100.43"] }),
    ]);
    expect(p.statusToClear).toEqual(["default/deleted", "default/now-clusterip"]);
    expect(p.services.map((s) => s.key)).toEqual(["default/kept"]);
  });

  it("with handleUnclassed off, still clears a Service whose type left LoadBalancer (the API server dropped its class), never another controller's unclassed one", () => {
    const p = planOf(
      [
        ...threeNodes(),
        aService({ name: "now-clusterip", type: "ClusterIP", statusIps: ["198.18.100.40"] }),
        aService({ name: "unclassed-deleted", deleting: true, statusIps: ["198.18.100.41"] }),
        aService({ name: "elsewhere", type: "ClusterIP", statusIps: ["198.18.200.9"] }),
      ],
      aParsedConfig({ handleUnclassed: false }),
    );
    expect(p.statusToClear).toEqual(["default/now-clusterip"]);
  });
});
