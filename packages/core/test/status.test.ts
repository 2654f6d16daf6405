import { describe, expect, it } from "vitest";
import { DEGRADED_CONDITION, READY_CONDITION } from "../src/plan/status.js";
import { aNode, aParsedConfig, aService, planOf, threeNodes } from "../src/testing/index.js";

describe("status", () => {
  it("publishes one ingress per VIP with ipMode and per-port errors, and conditions with observedGeneration", () => {
    const p = planOf([
      aNode("d", "198.18.2.1", { moreIps: ["2001:db8:2::1"] }),
      aService({
        generation: 7,
        // HAProxy serves TCP only, so a UDP port proxied is reported per port.
        annotations: { "portico.dev/data-plane": "proxy" },
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
      // The upstream condition for ports no data plane serves (KEP-1435).
      ["LoadBalancerPortsError", "True", "LoadBalancerMixedProtocolNotSupported", 7],
    ]);
    expect(s.status.conditions[2]!.message).toBe("ports not served: 80/UDP (portico.dev/ProtocolNotServed)");
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
