import { describe, expect, it } from "vitest";
import { EXCLUDE_LABEL } from "../src/nodes.js";
import { NO_ELIGIBLE_NODE } from "../src/plan/backends.js";
import { DEGRADED_CONDITION } from "../src/plan/status.js";
import { healthChecksPerLbNode } from "../src/plan/checks.js";
import { aNode, anEndpointSlice, aParsedConfig, aService, planOf, threeNodes } from "../src/testing/index.js";
import { svc } from "./_fixtures.js";

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

  it("fails open as cloud load balancers do: with no endpoint ready anywhere, serving-terminating nodes serve, checked on their nodePort", () => {
    // kube-proxy's healthCheckNodePort counts ready endpoints only: tracking it, every server would be down.
    const terminating = { ready: false, serving: true, terminating: true };
    const p = planOf([
      ...threeNodes(),
      aService({ policy: "Local" }),
      anEndpointSlice("default", "web", [
        { ip: "10.0.0.1", node: "worker-1", ...terminating },
        { ip: "10.0.0.2", node: "worker-2", ready: false, serving: false, terminating: true },
      ]),
    ]);
    // One ready endpoint anywhere: back to tracking the health port (whose check fails on the terminating node).
    const ready = planOf([
      ...threeNodes(),
      aService({ policy: "Local" }),
      anEndpointSlice("default", "web", [
        { ip: "10.0.0.1", node: "worker-1", ...terminating },
        { ip: "10.0.0.3", node: "worker-3" },
      ]),
    ]);
    const b = p.backends[0]!;
    expect(b.healthCheck).toEqual({ kind: "tcp", source: "nodePort", intervalMs: 2000, rise: 2, fall: 3 });
    expect(b.servers.map((s) => [s.node, s.port, s.track])).toEqual([["worker-1", 30080, undefined]]);
    // No check of the health port is left: the only check backends are the shared kube-proxy ones.
    expect((p.checks ?? []).map((c) => c.healthCheck.port)).not.toContain(32000);
    expect((ready.checks ?? []).map((c) => c.healthCheck.port)).toContain(32000);
    expect(p.services[0]?.diagnostics.map((d) => d.reason)).toContain("NoReadyEndpoint");
    expect(p.services[0]?.state).toBe("ready");

    expect(ready.backends[0]?.healthCheck.kind).toBe("track");
    expect(ready.backends[0]?.servers.every((s) => s.track === s.id)).toBe(true);
    expect(ready.services[0]?.diagnostics.map((d) => d.reason)).not.toContain("NoReadyEndpoint");
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

  it("with no eligible node (all excluded, or none matching the node selector) the load balancer stays and Degraded names why", () => {
    const excluded = { labels: { [EXCLUDE_LABEL]: "true" } };
    const noneLeft = planOf([
      aNode("a", "198.18.2.1", excluded),
      aNode("b", "198.18.2.2", { deleting: true }),
      aService(),
    ]);
    const web = noneLeft.services[0]!;
    expect(web.diagnostics.filter((d) => d.reason === NO_ELIGIBLE_NODE).map((d) => [d.severity, d.message])).toEqual([
      [
        "warning",
        "Service default/web: no node may be a backend (every node is excluded from external load balancers, tainted for deletion or being deleted)",
      ],
    ]);
    // The VIP and the frontend stay, as upstream keeps the load balancer; nothing answers behind it.
    expect(web.vips).toEqual(["198.18.100.10"]);
    expect(noneLeft.backends[0]?.servers).toEqual([]);
    expect(web.status.conditions.find((c) => c.type === DEGRADED_CONDITION)).toMatchObject({
      status: "True",
      reason: NO_ELIGIBLE_NODE,
    });

    const unmatched = planOf([
      aNode("a", "198.18.2.1"),
      aService({ annotations: { "portico.dev/node-selector": "role=ingress", "portico.dev/weighting": "nope" } }),
    ]);
    const d = unmatched.services[0]!;
    expect(d.diagnostics.find((x) => x.reason === NO_ELIGIBLE_NODE)?.message).toBe(
      "Service default/web: no eligible node matches portico.dev/node-selector",
    );
    // It names the condition before any other warning, and is not also reported per family.
    expect(d.status.conditions.find((c) => c.type === DEGRADED_CONDITION)?.reason).toBe(NO_ELIGIBLE_NODE);
    expect(d.diagnostics.map((x) => x.reason)).not.toContain("NoNodeOfFamily");

    const fine = planOf([aNode("a", "198.18.2.1", { labels: { role: "ingress" } }), aService()]);
    expect(fine.services[0]?.diagnostics.map((x) => x.reason)).not.toContain(NO_ELIGIBLE_NODE);
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

  it("one Local Service with 200 ports over N nodes adds N checks per family, not 200 x N", () => {
    const nodes = [1, 2, 3, 4, 5].map((i) => aNode(`worker-${i}`, `198.18.2.${i}`, { moreIps: [`2001:db8:2::${i}`] }));
    const ports = Array.from({ length: 200 }, (_, i) => ({ port: 1000 + i, nodePort: 30000 + i }));
    const local = (families: string[]) =>
      planOf([
        ...nodes,
        aService({
          name: "wide",
          policy: "Local",
          healthCheckNodePort: 32000,
          ports,
          ipFamilies: families,
          ...(families.length > 1 ? { ipFamilyPolicy: "RequireDualStack" as const } : {}),
        }),
      ]);
    const v4 = local(["IPv4"]);
    expect(v4.backends).toHaveLength(200);
    expect(healthChecksPerLbNode(v4)).toBe(5);
    const dual = local(["IPv4", "IPv6"]);
    expect(dual.backends).toHaveLength(400);
    expect(healthChecksPerLbNode(dual)).toBe(10);
    // Each family's backends track the check of their own family, at the nodes' addresses of it.
    for (const b of dual.backends) {
      const hc = b.healthCheck;
      expect(hc.kind).toBe("track");
      const chk = dual.checks?.find((c) => hc.kind === "track" && c.id === hc.backend);
      expect(chk?.servers.every((s) => s.address.includes(":") === (b.family === 6) && s.port === 32000)).toBe(true);
      expect(b.servers.every((s) => chk?.servers.some((c) => c.id === s.track))).toBe(true);
    }
  });

  it("an IPv6 Cluster backend tracks an IPv6 kube-proxy check", () => {
    const nodes = [1, 2].map((i) => aNode(`worker-${i}`, `198.18.2.${i}`, { moreIps: [`2001:db8:2::${i}`] }));
    const p = planOf([...nodes, aService({ name: "v6", ipFamilies: ["IPv6"] })]);
    const b = p.backends[0]!;
    const hc = b.healthCheck;
    const chk = p.checks?.find((c) => hc.kind === "track" && c.id === hc.backend);
    expect(chk?.servers.map((s) => s.address)).toEqual(["2001:db8:2::1", "2001:db8:2::2"]);
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
    // timeout-client and timeout-server do nothing on a TCP tunnel: the longer is the tunnel timeout.
    expect(p.backends[0]).toMatchObject({
      affinity: { kind: "clientIp", timeoutSeconds: 300 },
      balance: "leastconn",
      timeouts: { tunnelMs: 90_000 },
    });
    expect(p.backends[0]?.timeouts?.serverMs).toBeUndefined();
    expect(p.frontends[0]?.clientTimeoutMs).toBeUndefined();
    const warned = p.services[0]?.diagnostics.filter((d) => d.reason === "DeprecatedAnnotation") ?? [];
    expect(warned.map((d) => d.field)).toEqual([
      "metadata.annotations[portico.dev/timeout-client]",
      "metadata.annotations[portico.dev/timeout-server]",
    ]);
    expect(warned[1]?.message).toContain("taken as portico.dev/timeout-tunnel: 90s");
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
    expect(p.checks?.find((c) => c.id.startsWith("chk_default_local"))?.healthCheck).toMatchObject({
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
