import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { diffPlans } from "../src/diff.js";
import { aNode, aService, planOf, threeNodes } from "../src/testing/index.js";

// Local policy without EndpointSlices: every eligible node is a checked server (in a slot).
const base = () => [...threeNodes(), aService({ name: "web", policy: "Local" }), aService({ name: "api", policy: "Local", created: "2026-02-01T00:00:00Z" })];

describe("diffPlans", () => {
  it("finds nothing between a plan and itself", () => {
    const p = planOf(base());
    expect(diffPlans(p, p)).toMatchObject({ services: [], vrrp: [], reload: false, runtimeOps: 0, summary: { added: 0, removed: 0, changed: 0, unchanged: 2 } });
  });

  it("sends a node joining through the runtime API, without a reload", () => {
    const d = diffPlans(planOf(base()), planOf([...base(), aNode("worker-4", "198.18.2.4")]));
    expect(d.reload).toBe(false);
    expect(d.runtimeOps).toBe(2);
    expect(d.services.map((s) => [s.key, s.paths])).toEqual([
      ["default/api", ["runtime"]],
      ["default/web", ["runtime"]],
    ]);
    expect(d.services[0]?.servers).toEqual([{ backend: expect.any(String), node: "worker-4", change: "added", fields: [] }]);
  });

  it("needs a reload when Cluster-policy servers change, since they track shared checks by name", () => {
    const cluster = () => [...threeNodes(), aService({ name: "web" })];
    const d = diffPlans(planOf(cluster()), planOf([...cluster(), aNode("worker-4", "198.18.2.4")]));
    expect(d.reload).toBe(true);
    expect(d.services[0]?.paths).toEqual(["reload"]);
  });

  it("needs a reload for a new Service, and reports its VIP and VRRP instance", () => {
    const d = diffPlans(planOf(base()), planOf([...base(), aService({ name: "new", policy: "Local", created: "2026-03-01T00:00:00Z" })]));
    expect(d.reload).toBe(true);
    const s = d.services.find((x) => x.key === "default/new")!;
    expect(s).toMatchObject({ change: "added", vips: { added: ["198.18.100.12"], kept: [], released: [] }, paths: ["reload", "keepalived"] });
    expect(d.vrrp).toEqual([{ vrid: expect.any(Number), change: "added", masterAfter: expect.any(String) }]);
  });

  it("releases the VIP of a removed Service", () => {
    const d = diffPlans(planOf(base()), planOf([...threeNodes(), aService({ name: "web", policy: "Local" })]));
    expect(d.services).toHaveLength(1);
    expect(d.services[0]).toMatchObject({ key: "default/api", change: "removed", vips: { released: ["198.18.100.11"] } });
    expect(d.summary).toEqual({ added: 0, removed: 1, changed: 0, unchanged: 1 });
  });

  it("needs a reload when a backend setting changes (PROXY protocol)", () => {
    const d = diffPlans(planOf(base()), planOf([...threeNodes(), aService({ name: "web", policy: "Local", annotations: { "portico.dev/proxy-protocol": "v2" } }), aService({ name: "api", policy: "Local", created: "2026-02-01T00:00:00Z" })]));
    expect(d.reload).toBe(true);
    expect(d.services.map((s) => s.key)).toEqual(["default/web"]);
    expect(d.services[0]?.backends.changed).toHaveLength(1);
    expect(d.services[0]?.status).toBe(true);
  });

  it("is empty exactly when the plans are equal", () => {
    const names = fc.uniqueArray(fc.constantFrom("a", "b", "c", "d"), { maxLength: 4 });
    const nodes = fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 5 });
    fc.assert(
      fc.property(names, nodes, names, nodes, (s1, n1, s2, n2) => {
        const build = (s: string[], n: number[]) => planOf([...n.map((i) => aNode(`w${i}`, `198.18.2.${i}`)), ...s.map((name) => aService({ name }))]);
        const a = build(s1, n1);
        const b = build(s2, n2);
        const d = diffPlans(a, b);
        const empty = d.services.length === 0 && d.vrrp.length === 0 && !d.reload;
        expect(empty).toBe(JSON.stringify(a) === JSON.stringify(b));
      }),
    );
  });
});
