import { describe, expect, it } from "vitest";
import { aService, planOf, threeNodes } from "../src/testing/index.js";
import { svc } from "./_fixtures.js";

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
