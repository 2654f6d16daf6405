import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { LbNode } from "../src/settings.js";
import { bigIntToIp, type Ip } from "../src/ip.js";
import type { LbNodeName, Millis, Vrid } from "../src/model.js";
import type { VrrpInstance } from "../src/plan/types.js";
import { masterCapacity, planVrrp, rendezvousOrder, vrrpStateOf, type VrrpState } from "../src/vrrp.js";

// VRRP planning on its own: VIPs in, instances out. The invariants below are what the
// keepalived adapter and the lab tests rely on.

const v4 = (i: number): Ip => bigIntToIp(0xc6126400n + BigInt(i), 4); // 198.18.100.0 + i
const v6 = (i: number): Ip => bigIntToIp(0x20010db8010000000000000000000000n + BigInt(i), 6);
const lb = (i: number, extra: Partial<LbNode> = {}): LbNode => ({
  name: `lb${i}` as LbNodeName,
  address: bigIntToIp(0xc6120100n + BigInt(i), 4),
  interface: "eth0",
  ...extra,
});
const nodes = (n: number): LbNode[] => Array.from({ length: n }, (_, i) => lb(i + 1));
const vrrp = (first = 1, last = 255) => ({
  vridFirst: first as Vrid,
  vridLast: last as Vrid,
  advertIntMs: 100 as Millis,
});

/** Distinct VIPs in age order (oldest first), mixing families. */
const vipsArb = (max: number) =>
  fc.uniqueArray(
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 4000 }).map(v4) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 4000 }).map(v6) },
    ),
    { minLength: 1, maxLength: max },
  );

const masterOf = (inst: VrrpInstance): LbNodeName => inst.priorities[0]!.lbNode;
const masters = (instances: readonly VrrpInstance[]): Map<Ip, LbNodeName> =>
  new Map(instances.flatMap((i) => i.vips.map((v) => [v, masterOf(i)] as const)));
const vrids = (instances: readonly VrrpInstance[]): Map<Ip, number> =>
  new Map(instances.flatMap((i) => i.vips.map((v) => [v, i.vrid] as const)));
const countBy = (m: Map<Ip, LbNodeName>): Map<LbNodeName, number> => {
  const out = new Map<LbNodeName, number>();
  for (const n of m.values()) out.set(n, (out.get(n) ?? 0) + 1);
  return out;
};
const changed = (a: Map<Ip, LbNodeName>, b: Map<Ip, LbNodeName>): Ip[] =>
  [...a.keys()].filter((v) => b.has(v) && a.get(v) !== b.get(v));
const stateAfter = (instances: readonly VrrpInstance[], lbNodes: readonly LbNode[]): VrrpState =>
  vrrpStateOf({ vrrpInstances: instances, lbNodes });

describe("planVrrp", () => {
  it("spreads masters evenly: planned afresh with one instance per VIP, every node masters at most ⌈V·w/W⌉ and at least V minus the others' caps", () => {
    fc.assert(
      fc.property(
        vipsArb(120),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 }),
        (vips, weights) => {
          const lbNodes = weights.map((w, i) => lb(i + 1, { weight: w }));
          const { instances, unplaced } = planVrrp(vips, lbNodes, vrrp());
          expect(unplaced).toEqual([]);
          const counts = countBy(masters(instances));
          const cap = masterCapacity(vips.length, lbNodes);
          const totalCap = [...cap.values()].reduce((a, b) => a + b, 0);
          for (const n of lbNodes) {
            const c = counts.get(n.name) ?? 0;
            expect(c).toBeLessThanOrEqual(cap.get(n.name)!);
            expect(c).toBeGreaterThanOrEqual(vips.length - (totalCap - cap.get(n.name)!));
          }
        },
      ),
    );
  });

  it("with state, after any VIPs come and go, every node masters at most one more than ⌈V·w/W⌉", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 60 }), { minLength: 2, maxLength: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (generations, n) => {
          let state: VrrpState = { lbNodes: [], instances: [] };
          let alive: number[] = [];
          for (const gen of generations) {
            alive = [...alive.filter((x) => gen.includes(x)), ...gen.filter((x) => !alive.includes(x))];
            const { instances } = planVrrp(alive.map(v4), nodes(n), vrrp(), state);
            const cap = masterCapacity(alive.length, nodes(n));
            for (const [node, count] of countBy(masters(instances)))
              expect(count).toBeLessThanOrEqual(cap.get(node)! + 1);
            state = stateAfter(instances, nodes(n));
          }
        },
      ),
    );
  });

  it("adding the youngest VIP moves no other VIP's master and changes no VRID, with or without state", () => {
    fc.assert(
      fc.property(
        vipsArb(120),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 }),
        (vips, weights) => {
          const lbNodes = weights.map((w, i) => lb(i + 1, { weight: w }));
          const before = planVrrp(vips.slice(0, -1), lbNodes, vrrp());
          for (const state of [undefined, stateAfter(before.instances, lbNodes)]) {
            const after = planVrrp(vips, lbNodes, vrrp(), state);
            expect(changed(masters(before.instances), masters(after.instances))).toEqual([]);
            const was = vrids(before.instances);
            for (const [v, id] of vrids(after.instances)) if (was.has(v)) expect(id).toBe(was.get(v));
          }
        },
      ),
    );
  });

  it("one VIP going away moves no other VIP", () => {
    fc.assert(
      fc.property(vipsArb(60), fc.integer({ min: 1, max: 5 }), fc.nat(), (vips, n, pick) => {
        const first = planVrrp(vips, nodes(n), vrrp());
        const gone = vips[pick % vips.length]!;
        const second = planVrrp(
          vips.filter((v) => v !== gone),
          nodes(n),
          vrrp(),
          stateAfter(first.instances, nodes(n)),
        );
        expect(changed(masters(first.instances), masters(second.instances))).toEqual([]);
      }),
    );
  });

  it("gives 12 VIPs over 3 equal nodes exactly 4 masters each", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 4000 }).map(v4), { minLength: 12, maxLength: 12 }),
        (vips) => {
          const counts = countBy(masters(planVrrp(vips, nodes(3), vrrp()).instances));
          expect([...counts.values()]).toEqual([4, 4, 4]);
        },
      ),
    );
  });

  it("a bigger weight masters proportionally more", () => {
    const vips = Array.from({ length: 40 }, (_, i) => v4(i));
    const lbNodes = [lb(1, { weight: 3 }), lb(2), lb(3)];
    const counts = countBy(masters(planVrrp(vips, lbNodes, vrrp()).instances));
    expect(counts.get("lb1" as LbNodeName)).toBe(24);
    expect((counts.get("lb2" as LbNodeName) ?? 0) + (counts.get("lb3" as LbNodeName) ?? 0)).toBe(16);
  });

  it("an LB node leaving moves only the VIPs it mastered", () => {
    fc.assert(
      fc.property(vipsArb(80), fc.integer({ min: 2, max: 6 }), fc.nat(), (vips, n, pick) => {
        const before = nodes(n);
        const first = planVrrp(vips, before, vrrp());
        const gone = before[pick % n]!.name;
        const after = before.filter((x) => x.name !== gone);
        const second = planVrrp(vips, after, vrrp(), stateAfter(first.instances, before));
        const m1 = masters(first.instances);
        const moved = changed(m1, masters(second.instances));
        expect(moved.every((v) => m1.get(v) === gone)).toBe(true);
        expect(moved.length).toBe([...m1.values()].filter((x) => x === gone).length);
      }),
    );
  });

  it("draining an LB node moves only its VIPs, leaves it no masters and keeps it a backup", () => {
    fc.assert(
      fc.property(vipsArb(80), fc.integer({ min: 2, max: 5 }), fc.nat(), (vips, n, pick) => {
        const before = nodes(n);
        const first = planVrrp(vips, before, vrrp());
        const drained = before[pick % n]!.name;
        const after = before.map((x) => (x.name === drained ? { ...x, drain: true } : x));
        const second = planVrrp(vips, after, vrrp(), stateAfter(first.instances, before));
        const m1 = masters(first.instances);
        const m2 = masters(second.instances);
        expect([...m2.values()]).not.toContain(drained);
        expect(changed(m1, m2).every((v) => m1.get(v) === drained)).toBe(true);
        for (const inst of second.instances) expect(inst.priorities.map((p) => p.lbNode)).toContain(drained);
      }),
    );
  });

  it("an LB node joining takes at most its share, and at most one VIP per old node moves anywhere else", () => {
    fc.assert(
      fc.property(vipsArb(80), fc.integer({ min: 1, max: 5 }), (vips, n) => {
        const before = nodes(n);
        const first = planVrrp(vips, before, vrrp());
        const after = nodes(n + 1);
        const second = planVrrp(vips, after, vrrp(), stateAfter(first.instances, before));
        const m2 = masters(second.instances);
        const moved = changed(masters(first.instances), m2);
        const share = masterCapacity(vips.length, after).get(`lb${n + 1}` as LbNodeName)!;
        const toNewcomer = moved.filter((v) => m2.get(v) === `lb${n + 1}`);
        expect(toNewcomer.length).toBeLessThanOrEqual(share);
        // Other moves only make room under the lower per-node share: at most one per old node.
        expect(moved.length - toNewcomer.length).toBeLessThanOrEqual(n);
      }),
    );
  });

  it("a VIP's VRID never changes while it exists, whatever other VIPs come and go", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { maxLength: 40 }), { minLength: 2, maxLength: 5 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 60 }),
        (generations, first, width) => {
          const config = vrrp(first, Math.min(255, first + width));
          let state: VrrpState = { lbNodes: [], instances: [] };
          let previous = new Map<Ip, number>();
          // Each generation keeps the survivors in age order and adds newcomers after them.
          let alive: number[] = [];
          for (const gen of generations) {
            alive = [...alive.filter((x) => gen.includes(x)), ...gen.filter((x) => !alive.includes(x))];
            const vips = alive.map((x) => (x % 5 === 0 ? v6(x) : v4(x)));
            const { instances } = planVrrp(vips, nodes(3), config, state);
            const now = vrids(instances);
            for (const [vip, vrid] of now) if (previous.has(vip)) expect(vrid).toBe(previous.get(vip));
            state = stateAfter(instances, nodes(3));
            previous = now;
          }
        },
      ),
    );
  });

  it("keeps VRIDs unique and in the configured range, one family per instance, and places a VIP only once", () => {
    fc.assert(
      fc.property(
        vipsArb(60),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 20 }),
        (vips, first, width) => {
          const last = Math.min(255, first + width);
          const { instances, unplaced } = planVrrp(vips, nodes(3), vrrp(first, last));
          const ids = instances.map((i) => i.vrid);
          expect(new Set(ids).size).toBe(ids.length);
          for (const v of ids) expect(v >= first && v <= last).toBe(true);
          const all = [...instances.flatMap((i) => i.vips), ...unplaced].sort();
          expect(all).toEqual([...vips].sort());
          for (const i of instances) expect(i.vips.every((v) => v.includes(":") === (i.family === 6))).toBe(true);
        },
      ),
    );
  });

  it("gives each VIP its own instance while the range has room, and groups VIPs of one order beyond it", () => {
    fc.assert(
      fc.property(vipsArb(60), fc.integer({ min: 1, max: 30 }), (vips, width) => {
        const { instances } = planVrrp(vips, nodes(3), vrrp(1, width));
        if (vips.length <= width) expect(instances.every((i) => i.vips.length === 1)).toBe(true);
        else {
          for (const i of instances) {
            const orders = new Set(i.vips.map((v) => rendezvousOrder(v, nodes(3)).join(",")));
            expect(orders.size).toBe(1);
          }
        }
      }),
    );
  });

  it("older VIPs win a contested VRID", () => {
    const [a, b] = [v4(1), v4(2)];
    const state: VrrpState = {
      lbNodes: [],
      instances: [
        { vrid: 9 as Vrid, vips: [b] },
        { vrid: 9 as Vrid, vips: [a] },
      ],
    };
    const got = vrids(planVrrp([a, b], nodes(2), vrrp(), state).instances);
    expect(got.get(a)).toBe(9);
    expect(got.get(b)).not.toBe(9);
  });

  it("keeps masters where they are when nothing changed (a plan fed its own state is a fixed point)", () => {
    fc.assert(
      fc.property(vipsArb(60), fc.integer({ min: 1, max: 5 }), (vips, n) => {
        const first = planVrrp(vips, nodes(n), vrrp());
        const second = planVrrp(vips, nodes(n), vrrp(), stateAfter(first.instances, nodes(n)));
        expect(second).toEqual(first);
      }),
    );
  });

  it("orders priorities master first, distinct and descending within 1-254, drained nodes last", () => {
    fc.assert(
      fc.property(vipsArb(30), fc.integer({ min: 2, max: 6 }), fc.nat(), (vips, n, pick) => {
        const lbNodes = nodes(n).map((x, i) => (i === pick % n ? { ...x, drain: true } : x));
        for (const inst of planVrrp(vips, lbNodes, vrrp()).instances) {
          const p = inst.priorities.map((x) => x.priority);
          expect(p.every((x, i) => x >= 1 && x <= 254 && (i === 0 || x < p[i - 1]!))).toBe(true);
          expect(inst.priorities.at(-1)!.lbNode).toBe(lbNodes[pick % n]!.name);
          expect(inst.priorities).toHaveLength(n);
        }
      }),
    );
  });
});
