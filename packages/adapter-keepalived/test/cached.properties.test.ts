import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Ident, Ip, IpFamily, LbNode, LbNodeName, Millis, Plan, Vrid, VrrpInstance } from "@portico/core";
import { renderKeepalived, renderKeepalivedCached, type KeepalivedRenderCache } from "../src/index.js";
import { settings } from "./fixtures.js";

// Instances drawn from one pool, so the plans of a sequence share instance objects as an
// incremental planner's do; mostly valid, now and then an odd one (a bad id, VRID or VIP, two
// instances with one id, VRID or VIP), so the cached checks must fail as the full ones do.
const instanceArb = fc
  .record({
    id: fc.constantFrom("vrrp_a", "vrrp_b", "vrrp_c", "vrrp_d", "vrrp_e", "vrrp_a", "bad id"),
    vrid: fc.constantFrom(1, 2, 3, 4, 5, 6, 0),
    vips: fc.uniqueArray(
      fc.constantFrom(
        "198.18.100.10",
        "198.18.100.11",
        "198.18.100.12",
        "198.18.100.13",
        "2001:db8:100::a",
        "198.018.1.1",
      ),
      { maxLength: 2 },
    ),
    priorities: fc.uniqueArray(
      fc.record({ lbNode: fc.constantFrom("lb1", "lb2", "lb3"), priority: fc.constantFrom(50, 100, 150, 0) }),
      { maxLength: 3, selector: (p) => p.lbNode },
    ),
  })
  .map((i): VrrpInstance => ({
    id: i.id as Ident,
    vrid: i.vrid as Vrid,
    family: (i.vips[0]?.includes(":") ? 6 : 4) as IpFamily,
    vips: i.vips as Ip[],
    priorities: i.priorities.map((p) => ({ lbNode: p.lbNode as LbNodeName, priority: p.priority })),
  }));

const node = (name: string, address: string, iface = "eth0"): LbNode => ({
  name: name as LbNodeName,
  address: address as Ip,
  interface: iface,
});
const LB_NODES: readonly (readonly LbNode[])[] = [
  [node("lb1", "198.18.1.1"), node("lb2", "198.18.1.2"), node("lb3", "198.18.1.3")],
  [node("lb1", "198.18.1.1", "bond0"), node("lb2", "198.18.1.2", "bond0")],
  [node("lb1", "2001:db8:1::1"), node("lb2", "2001:db8:1::2")],
  [node("lb1", "198.18.1.1")],
  [node("lb1", "198.18.1.1"), node("lb2", "2001:db8:1::2")],
];
const SETTINGS = [
  settings,
  { ...settings, vrrp: { ...settings.vrrp, preempt: false, advertIntMs: 1000 as Millis } },
  { ...settings, vrrp: { ...settings.vrrp, haproxyCheck: { kind: "process" as const } } },
];

const stepArb = fc.record({
  picks: fc.array(fc.nat({ max: 7 }), { maxLength: 5 }),
  lbNodes: fc.constantFrom(...LB_NODES.keys()),
  settings: fc.constantFrom(...SETTINGS.keys()),
  self: fc.constantFrom("lb1", "lb1", "lb2", "lb9"),
  // An equal copy in place of a pooled instance: a miss by identity, the same text.
  copy: fc.option(fc.nat({ max: 4 }), { nil: undefined }),
});

describe("renderKeepalivedCached", () => {
  it("the cached render equals renderKeepalived byte for byte (and fails with the same error) over any sequence of plans", () => {
    fc.assert(
      fc.property(
        fc.array(instanceArb, { minLength: 8, maxLength: 8 }),
        fc.array(stepArb, { minLength: 1, maxLength: 10 }),
        (pool, steps) => {
          let cache: KeepalivedRenderCache | undefined;
          for (const step of steps) {
            const vrrpInstances = step.picks.map((k, i) => (i === step.copy ? structuredClone(pool[k]!) : pool[k]!));
            const plan: Plan = {
              services: [],
              frontends: [],
              backends: [],
              vrrpInstances,
              lbNodes: LB_NODES[step.lbNodes]!,
              diagnostics: [],
              settings: SETTINGS[step.settings]!,
            };
            const options = { node: step.self as LbNodeName };
            const cached = renderKeepalivedCached(plan, options, cache);
            expect(cached.map((r) => r.text)).toEqual(renderKeepalived(plan, options));
            // A failed render leaves the last cache in place, as a controller keeps its last good render.
            if (cached.isOk()) cache = cached.value.cache;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reuses the blocks of instances it rendered, and renders again those whose objects changed", () => {
    const inst = (id: string, vrid: number, vip: string): VrrpInstance => ({
      id: id as Ident,
      vrid: vrid as Vrid,
      family: 4,
      vips: [vip as Ip],
      priorities: [{ lbNode: "lb1" as LbNodeName, priority: 150 }],
    });
    const a = inst("vrrp_a", 1, "198.18.100.10");
    const b = inst("vrrp_b", 2, "198.18.100.11");
    const plan = (vrrpInstances: readonly VrrpInstance[]): Plan => ({
      services: [],
      frontends: [],
      backends: [],
      vrrpInstances,
      lbNodes: LB_NODES[0]!,
      diagnostics: [],
      settings,
    });
    const options = { node: "lb1" as LbNodeName };
    const first = renderKeepalivedCached(plan([a, b]), options)._unsafeUnwrap();
    const moved = { ...b, vips: ["198.18.100.12" as Ip] };
    const second = renderKeepalivedCached(plan([a, moved]), options, first.cache)._unsafeUnwrap();
    expect(second.text).toBe(renderKeepalived(plan([a, moved]), options)._unsafeUnwrap());
    expect(second.text).toContain("198.18.100.12/32 dev eth0");
    expect(second.text).not.toContain("198.18.100.11/32");
    expect(second.cache.instances.get(a)).toBe(first.cache.instances.get(a));
    expect(second.cache.instances.get(moved)).not.toBe(first.cache.instances.get(b));
    // Another LB node's view: nothing is reused, its own priorities are rendered.
    const lb2 = renderKeepalivedCached(plan([a, moved]), { node: "lb2" as LbNodeName }, second.cache)._unsafeUnwrap();
    expect(lb2.text).toBe(renderKeepalived(plan([a, moved]), { node: "lb2" as LbNodeName })._unsafeUnwrap());
    expect(lb2.cache.instances.get(a)).not.toBe(second.cache.instances.get(a));
  });

  it("checks a reused instance against the others again: an id, a VRID or a VIP taken by an instance ahead of it fails as before", () => {
    const inst = (id: string, vrid: number, vip: string): VrrpInstance => ({
      id: id as Ident,
      vrid: vrid as Vrid,
      family: 4,
      vips: [vip as Ip],
      priorities: [],
    });
    const plan = (vrrpInstances: readonly VrrpInstance[]): Plan => ({
      services: [],
      frontends: [],
      backends: [],
      vrrpInstances,
      lbNodes: LB_NODES[0]!,
      diagnostics: [],
      settings,
    });
    const options = { node: "lb1" as LbNodeName };
    const a = inst("vrrp_a", 1, "198.18.100.10");
    const { cache } = renderKeepalivedCached(plan([a]), options)._unsafeUnwrap();
    for (const [other, message] of [
      [inst("vrrp_a", 2, "198.18.100.11"), "VRRP instance vrrp_a appears more than once in the plan"],
      [inst("vrrp_b", 1, "198.18.100.11"), "VRRP instances vrrp_b and vrrp_a share VRID 1"],
      [inst("vrrp_b", 2, "198.18.100.10"), "VIP 198.18.100.10 is in VRRP instances vrrp_b and vrrp_a"],
    ] as const) {
      const got = renderKeepalivedCached(plan([other, a]), options, cache);
      expect(got.isErr() && got.error.message).toBe(message);
      expect(got.map((r) => r.text)).toEqual(renderKeepalived(plan([other, a]), options));
    }
  });
});
