import { describe, expect, it } from "vitest";
import { plan } from "../src/plan/plan.js";
import { planIncremental } from "../src/plan/incremental.js";
import { parseConfig } from "../src/config.js";
import { aConfig, aService, aSnapshot, planOf, threeNodes } from "../src/testing/index.js";
import type { Config } from "../src/settings.js";

const mixed = (over: Record<string, unknown> = {}): Config =>
  parseConfig({
    ...aConfig({
      lbNodes: [
        { name: "lb1", address: "198.18.1.1", interface: "eth0" },
        { name: "lb2", address: "198.18.1.2", interface: "eth0" },
        { name: "lb3", address: "198.18.1.3", interface: "eth0" },
      ],
    }),
    pools: [
      { name: "edge", addresses: ["198.18.100.10-198.18.100.19", "2001:db8:100::/120"], announce: "bgp" },
      { name: "l2", addresses: ["198.18.101.10-198.18.101.19"] },
    ],
    bgp: { asn: 64512, peers: [{ address: "198.18.1.254", asn: 64500 }] },
    ...over,
  })._unsafeUnwrap();

const objects = [
  ...threeNodes(),
  aService({ name: "bgp-a", ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" }),
  aService({ name: "bgp-b" }),
  aService({ name: "vrrp-c", annotations: { "portico.dev/pool": "l2" } }),
];

describe("plan: announce by pool", () => {
  it("a BGP pool's VIPs get no VRRP instance; every LB node announces each of them", () => {
    const p = planOf(objects, mixed());
    const vrrpVips = p.vrrpInstances.flatMap((i) => i.vips);
    expect(vrrpVips).toEqual(["198.18.101.10"]);
    expect(p.announcements).toEqual([
      { vip: "198.18.100.10", family: 4, pool: "edge", lbNodes: ["lb1", "lb2", "lb3"], gracefulShutdown: [] },
      { vip: "198.18.100.11", family: 4, pool: "edge", lbNodes: ["lb1", "lb2", "lb3"], gracefulShutdown: [] },
      { vip: "2001:db8:100::1", family: 6, pool: "edge", lbNodes: ["lb1", "lb2", "lb3"], gracefulShutdown: [] },
    ]);
    expect(p.settings.bgp?.asn).toBe(64512);
    expect(p.services.map((s) => s.state)).toEqual(["ready", "ready", "ready"]);
  });

  it("a drained LB node is left out with drain: withdraw and announces with graceful shutdown with prepend", () => {
    const drained = (drain: string) => {
      const c = mixed({ bgp: { asn: 64512, drain, peers: [{ address: "198.18.1.254", asn: 64500 }] } });
      return { ...c, lbNodes: c.lbNodes.map((n) => (n.name === "lb2" ? { ...n, drain: true } : n)) };
    };
    const w = planOf(objects, drained("withdraw")).announcements![0]!;
    expect([w.lbNodes, w.gracefulShutdown]).toEqual([["lb1", "lb3"], []]);
    const pp = planOf(objects, drained("prepend")).announcements![0]!;
    expect([pp.lbNodes, pp.gracefulShutdown]).toEqual([["lb1", "lb2", "lb3"], ["lb2"]]);
  });

  it("a VRRP-only config plans no announcements and no bgp settings (its plan is unchanged)", () => {
    const p = planOf(objects.slice(0, -1));
    expect("announcements" in p).toBe(false);
    expect("bgp" in p.settings).toBe(false);
  });

  it("the incremental planner announces the same as the full one", () => {
    const config = mixed();
    const snapshot = aSnapshot(...objects);
    const first = planIncremental(snapshot, config);
    const again = planIncremental(snapshot, config, undefined, first.cache);
    expect(first.plan.announcements).toEqual(plan(snapshot, config).announcements);
    expect(again.plan.announcements).toBe(first.plan.announcements);
  });
});
