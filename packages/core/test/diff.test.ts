import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { diffPlans } from "../src/diff/diff.js";
import { KUBE_PROXY_CHECK_ID } from "../src/plan/checks.js";
import { aNode, aParsedConfig, aService, planOf, threeNodes } from "../src/testing/index.js";

// Local policy without EndpointSlices: every eligible node is a checked server (in a slot).
const base = () => [
  ...threeNodes(),
  aService({ name: "web", policy: "Local" }),
  aService({ name: "api", policy: "Local", created: "2026-02-01T00:00:00Z" }),
];

describe("diffPlans", () => {
  it("finds nothing between a plan and itself", () => {
    const p = planOf(base());
    expect(diffPlans(p, p)).toMatchObject({
      services: [],
      vrrp: [],
      reload: false,
      runtimeOps: 0,
      summary: { added: 0, removed: 0, changed: 0, unchanged: 2 },
    });
  });

  it("sends a node joining through the runtime API, without a reload", () => {
    const d = diffPlans(planOf(base()), planOf([...base(), aNode("worker-4", "198.18.2.4")]));
    expect(d.reload).toBe(false);
    // Each Local Service's backend and its own healthCheckNodePort check gain the node.
    expect(d.runtimeOps).toBe(4);
    expect(d.services.map((s) => [s.key, s.paths])).toEqual([
      ["default/api", ["runtime"]],
      ["default/web", ["runtime"]],
    ]);
    expect(d.services[0]?.servers).toEqual([
      { backend: expect.any(String), node: "worker-4", change: "added", fields: [] },
    ]);
  });

  it("sends a node joining, leaving or changing address under Cluster policy through the runtime API: the check backend and every Cluster backend share slot numbers", () => {
    const cluster = (...extra: unknown[]) => [
      ...threeNodes(),
      aService({ name: "web" }),
      aService({ name: "api", created: "2026-02-01T00:00:00Z" }),
      ...extra,
    ];
    const before = planOf(cluster());
    const joined = diffPlans(before, planOf(cluster(aNode("worker-4", "198.18.2.4"))));
    expect(joined.reload).toBe(false);
    expect(joined.services.map((s) => [s.key, s.paths])).toEqual([
      ["default/api", ["runtime"]],
      ["default/web", ["runtime"]],
    ]);
    expect(joined.checks).toEqual([{ backend: KUBE_PROXY_CHECK_ID, node: "worker-4", change: "added", fields: [] }]);
    // One server in each Service's backend, one in the check backend.
    expect(joined.runtimeOps).toBe(3);

    const left = diffPlans(
      before,
      planOf([
        aNode("worker-1", "198.18.2.1"),
        aNode("worker-2", "198.18.2.2"),
        aService({ name: "web" }),
        aService({ name: "api", created: "2026-02-01T00:00:00Z" }),
      ]),
    );
    expect(left).toMatchObject({ reload: false, runtimeOps: 3, checks: [{ node: "worker-3", change: "removed" }] });
    const moved = diffPlans(
      before,
      planOf([
        aNode("worker-1", "198.18.2.1"),
        aNode("worker-2", "198.18.2.2"),
        aNode("worker-3", "198.18.2.33"),
        aService({ name: "web" }),
        aService({ name: "api", created: "2026-02-01T00:00:00Z" }),
      ]),
    );
    expect(moved).toMatchObject({
      reload: false,
      runtimeOps: 3,
      checks: [{ node: "worker-3", change: "changed", fields: ["address"] }],
    });
  });

  it("reloads when the nodes outgrow the check backend's slots, which every Cluster backend shares", () => {
    const nodes = (n: number) =>
      Array.from({ length: n }, (_, i) => aNode(`w${String(i).padStart(2, "0")}`, `198.18.2.${i + 1}`));
    // Seven nodes render into eight slots (one spare); an eighth still fits, a ninth does not.
    const seven = planOf([...nodes(7), aService({ name: "web" })]);
    expect(diffPlans(seven, planOf([...nodes(8), aService({ name: "web" })]))).toMatchObject({
      reload: false,
      runtimeOps: 2,
    });
    const nine = diffPlans(seven, planOf([...nodes(9), aService({ name: "web" })]));
    expect(nine.reload).toBe(true);
    expect(nine.services[0]?.paths).toEqual(["reload"]);
    // Local policy: the backend's own slots.
    const local = (n: number) => planOf([...nodes(n), aService({ name: "web", policy: "Local" })]);
    expect(diffPlans(local(7), local(8)).reload).toBe(false);
    expect(diffPlans(local(7), local(9)).reload).toBe(true);
  });

  it("with maxBackendsPerService, a node joining changes a Service's subset through the runtime API too", () => {
    const config = aParsedConfig({ maxBackendsPerService: 2 });
    const services = ["a", "b", "c", "d", "e"].map((name, i) =>
      aService({ name, created: `2026-01-0${i + 1}T00:00:00Z` }),
    );
    const before = planOf([...threeNodes(), ...services], config);
    const after = planOf([...threeNodes(), aNode("worker-4", "198.18.2.4"), ...services], config);
    expect(before.backends.every((b) => b.servers.length === 2)).toBe(true);
    const d = diffPlans(before, after);
    expect(d.reload).toBe(false);
    // worker-4 enters some subsets (taking another node's place there) and is checked once.
    expect(d.checks).toMatchObject([{ node: "worker-4", change: "added" }]);
    expect(d.services.length).toBeGreaterThan(0);
    for (const s of d.services) expect(s.paths).toEqual(["runtime"]);
  });

  it("needs a reload for a new Service, and reports its VIP and VRRP instance", () => {
    const d = diffPlans(
      planOf(base()),
      planOf([...base(), aService({ name: "new", policy: "Local", created: "2026-03-01T00:00:00Z" })]),
    );
    expect(d.reload).toBe(true);
    const s = d.services.find((x) => x.key === "default/new")!;
    expect(s).toMatchObject({
      change: "added",
      vips: { added: ["198.18.100.12"], kept: [], released: [] },
      paths: ["reload", "keepalived"],
    });
    expect(d.vrrp).toEqual([{ vrid: expect.any(Number), change: "added", masterAfter: expect.any(String) }]);
  });

  it("releases the VIP of a removed Service", () => {
    const d = diffPlans(planOf(base()), planOf([...threeNodes(), aService({ name: "web", policy: "Local" })]));
    expect(d.services).toHaveLength(1);
    expect(d.services[0]).toMatchObject({
      key: "default/api",
      change: "removed",
      vips: { released: ["198.18.100.11"] },
    });
    expect(d.summary).toEqual({ added: 0, removed: 1, changed: 0, unchanged: 1 });
  });

  it("needs a reload when a backend setting changes (PROXY protocol)", () => {
    const d = diffPlans(
      planOf(base()),
      planOf([
        ...threeNodes(),
        aService({ name: "web", policy: "Local", annotations: { "portico.dev/proxy-protocol": "v2" } }),
        aService({ name: "api", policy: "Local", created: "2026-02-01T00:00:00Z" }),
      ]),
    );
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
        const build = (s: string[], n: number[]) =>
          planOf([...n.map((i) => aNode(`w${i}`, `198.18.2.${i}`)), ...s.map((name) => aService({ name }))]);
        const a = build(s1, n1);
        const b = build(s2, n2);
        const d = diffPlans(a, b);
        const empty = d.services.length === 0 && d.vrrp.length === 0 && d.checks.length === 0 && !d.reload;
        expect(empty).toBe(JSON.stringify(a) === JSON.stringify(b));
      }),
    );
  });
});
