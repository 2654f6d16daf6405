import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  ingest,
  NO_VRRP_STATE,
  plan,
  planIncremental,
  vrrpStateOf,
  type Ident,
  type Ip,
  type NodeName,
  type Plan,
  type PlanCache,
  type Port,
} from "@portico/core";
import { aNode, aParsedConfig, aService, planOf } from "@portico/core/testing";
import {
  apply,
  clustersArb,
  configArb,
  CONFIGS,
  NODES,
  nodeStepsArb,
  objects,
  type Cluster,
  type NodeCase,
} from "@portico/core/testing/arbitraries";
import { renderHaproxy, renderHaproxyCached, type HaproxyRenderCache } from "@portico/adapter-haproxy";

const configs = CONFIGS;

describe("incremental planning and rendering", () => {
  it("incremental and full planning and rendering give identical files over any sequence of snapshots", () => {
    fc.assert(
      // `installs`: whether each render is installed. One that is not (its apply failed) leaves an
      // older file installed, whose slots the next render starts from while the cache moved on.
      fc.property(configArb, clustersArb, fc.array(fc.boolean(), { maxLength: 30 }), (config, clusters, installs) => {
        let full: Plan | undefined;
        let fullText: string | undefined;
        let renders = 0;
        let planCache: PlanCache | undefined;
        let renderCache: HaproxyRenderCache | undefined;
        for (const cluster of clusters) {
          const snapshot = ingest(objects(cluster));
          const vrrp = full === undefined ? NO_VRRP_STATE : vrrpStateOf(full);
          const expected = plan(snapshot, config, vrrp);
          // core's describeIncremental holds the two plans equal; here the files are.
          const inc = planIncremental(snapshot, config, vrrp, planCache);
          const text = renderHaproxy(expected, fullText === undefined ? {} : { previous: fullText });
          const cached = renderHaproxyCached(
            inc.plan,
            fullText === undefined ? {} : { previous: fullText },
            renderCache,
          );
          expect(cached.isOk()).toBe(text.isOk());
          if (text.isOk() && cached.isOk()) {
            expect(cached.value.text).toBe(text.value);
            if (installs[renders++] !== false) fullText = text.value;
            renderCache = cached.value.cache;
          }
          full = expected;
          planCache = inc.cache;
        }
      }),
      { numRuns: 150 },
    );
  });

  it("a node joining, leaving or changing gives the file a full plan and render give, whatever the Services", () => {
    fc.assert(
      fc.property(configArb, nodeStepsArb, (config, [first, ...steps]) => {
        let running = planIncremental(ingest(objects(first!)), config);
        // A plan that does not render (two ports with one number, as the API server would refuse)
        // leaves nothing installed.
        let text = renderHaproxy(running.plan, {}).unwrapOr(undefined);
        let cache = renderHaproxyCached(running.plan, {})
          .map((r) => r.cache)
          .unwrapOr(undefined);
        for (const cluster of steps) {
          const snapshot = ingest(objects(cluster));
          const vrrp = vrrpStateOf(running.plan);
          const expected = plan(snapshot, config, vrrp);
          running = planIncremental(snapshot, config, vrrp, running.cache);
          const options = text === undefined ? {} : { previous: text };
          const want = renderHaproxy(expected, options);
          const got = renderHaproxyCached(running.plan, options, cache);
          expect(got.isOk()).toBe(want.isOk());
          if (want.isOk() && got.isOk()) {
            expect(got.value.text).toBe(want.value);
            text = want.value;
            cache = got.value.cache;
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it("weighs a joining node by its ready endpoints, as a full plan does, when some of them are terminating", () => {
    const config = configs[0]!;
    const node = (i: number): NodeCase => ({
      ip: `198.18.2.${i}`,
      v6: false,
      zone: "x",
      excluded: false,
      tainted: false,
      deleting: false,
    });
    const base: Cluster = {
      nodes: new Map([["w1", node(1)]]),
      services: new Map([
        [
          "a",
          {
            created: "2026-01-01T00:00:00Z",
            policy: "Local" as const,
            ports: [{ port: 100, nodePort: 30001, protocol: "TCP" }],
            family: ["IPv4"],
            annotations: { "portico.dev/weighting": "pods-per-node" },
            statusIps: [],
          },
        ],
      ]),
      slices: new Map([
        [
          "a",
          [
            { node: "w1", ip: "198.19.0.1", ready: true, terminating: false },
            { node: "w2", ip: "198.19.0.2", ready: true, terminating: false },
            { node: "w2", ip: "198.19.0.3", ready: true, terminating: false },
            { node: "w2", ip: "198.19.0.4", ready: true, terminating: true },
          ],
        ],
      ]),
    };
    const first = planIncremental(ingest(objects(base)), config);
    const joined = ingest(objects(apply(base, { kind: "node", name: "w2", node: node(2) })));
    const next = planIncremental(joined, config, vrrpStateOf(first.plan), first.cache).plan;
    expect(next).toEqual(plan(joined, config, vrrpStateOf(first.plan)));
    expect(next.backends[0]?.servers.map((s) => [s.node, s.weight])).toEqual([
      ["w1", 1],
      ["w2", 2],
    ]);
  });

  it("keeps the objects of Services whose inputs did not change, so a renderer can reuse their sections", () => {
    const config = configs[0]!;
    const base: Cluster = {
      nodes: new Map(
        NODES.map((n, i) => [
          n,
          { ip: `198.18.2.${i + 1}`, v6: false, zone: "x", excluded: false, tainted: false, deleting: false },
        ]),
      ),
      services: new Map([
        [
          "a",
          {
            created: "2026-01-01T00:00:00Z",
            policy: "Cluster" as const,
            ports: [{ port: 100, nodePort: 30001, protocol: "TCP" }],
            family: ["IPv4"],
            annotations: {},
            statusIps: [],
          },
        ],
        [
          "b",
          {
            created: "2026-01-02T00:00:00Z",
            policy: "Local" as const,
            ports: [{ port: 100, nodePort: 30002, protocol: "TCP" }],
            family: ["IPv4"],
            annotations: {},
            statusIps: [],
          },
        ],
      ]),
      slices: new Map([["b", [{ node: "w1", ip: "198.19.0.1", ready: true, terminating: false }]]]),
    };
    const first = planIncremental(ingest(objects(base)), config);
    const changed = apply(base, {
      kind: "slice",
      name: "b",
      endpoints: [{ node: "w2", ip: "198.19.0.2", ready: true, terminating: false }],
    });
    const second = planIncremental(ingest(objects(changed)), config, vrrpStateOf(first.plan), first.cache);
    const backendOf = (p: Plan, service: string) => p.backends.find((b) => b.service === service);
    expect(backendOf(second.plan, "default/a")).toBe(backendOf(first.plan, "default/a"));
    expect(backendOf(second.plan, "default/b")).not.toBe(backendOf(first.plan, "default/b"));
    expect(backendOf(second.plan, "default/b")?.servers.map((s) => s.node)).toEqual(["w2"]);
    // A node leaving rebuilds the Cluster backend but keeps the servers of the nodes that stay.
    const third = planIncremental(
      ingest(objects(apply(changed, { kind: "node", name: "w5", node: undefined }))),
      config,
      vrrpStateOf(second.plan),
      second.cache,
    );
    const before = backendOf(second.plan, "default/a")!.servers;
    const after = backendOf(third.plan, "default/a")!.servers;
    expect(after.map((s) => s.node)).toEqual(["w1", "w2", "w3", "w4"]);
    for (const s of after) expect(before).toContain(s);
  });

  it("reuses a Cluster-policy backend's section only while the check backend's installed slot assignment is the same", () => {
    const [w1, w2, w3, w4] = [1, 2, 3, 4].map((i) => aNode(`w${i}`, `198.18.2.${i}`));
    const svc = aService({ name: "web", created: "2026-01-01T00:00:00Z" });
    const config = aParsedConfig();
    const all = planOf([w1, w2, w3, svc], config);
    const rendered = (p: Plan, previous?: string): string =>
      renderHaproxy(p, previous === undefined ? {} : { previous })._unsafeUnwrap();
    // w1 leaves, w4 joins into its slot1, then w4 leaves and w1 returns to a slot that was empty.
    const w4InSlot1 = rendered(
      planOf([w2, w3, w4, svc], config),
      rendered(planOf([w2, w3, svc], config), rendered(all)),
    );
    const moved = rendered(all, w4InSlot1);
    const first = renderHaproxyCached(all, {})._unsafeUnwrap();
    const clusterId = all.backends.find((b) => b.healthCheck.kind === "track")!.id;
    expect(first.text).toMatch(/server slot1 198\.18\.2\.1:\d+ weight 1 track \S+\/slot1 # /);
    // The same plan objects over its own file, installed (the first render had nothing installed
    // to start from, so this one lays out again; the next keeps the section).
    const installed = renderHaproxyCached(all, { previous: first.text }, first.cache)._unsafeUnwrap();
    const same = renderHaproxyCached(all, { previous: installed.text }, installed.cache)._unsafeUnwrap();
    expect(same.text).toBe(first.text);
    expect(same.cache.backends.get(clusterId)).toBe(installed.cache.backends.get(clusterId));
    // The same plan objects over a file whose check slots hold the nodes elsewhere: re-rendered.
    const over = renderHaproxyCached(all, { previous: moved }, same.cache)._unsafeUnwrap();
    expect(over.text).toBe(rendered(all, moved));
    expect(over.text).toBe(moved);
    expect(over.text).not.toMatch(/server slot1 198\.18\.2\.1:/);
    expect(over.cache.backends.get(clusterId)).not.toBe(same.cache.backends.get(clusterId));
  });

  it("patches a Cluster-policy backend's slot lines only where a full render agrees, and refuses what a full render refuses", () => {
    const nodes = [1, 2, 3, 4].map((i) => aNode(`w${i}`, `198.18.2.${i}`));
    const svc = aService({ name: "web", created: "2026-01-01T00:00:00Z" });
    const config = aParsedConfig();
    const all = planOf([...nodes, svc], config);
    const first = renderHaproxyCached(all, {})._unsafeUnwrap();
    const installed = renderHaproxyCached(all, { previous: first.text }, first.cache)._unsafeUnwrap();
    const next = (p: Plan) => {
      const full = renderHaproxy(p, { previous: installed.text });
      const cached = renderHaproxyCached(p, { previous: installed.text }, installed.cache);
      expect(cached.isOk()).toBe(full.isOk());
      if (full.isOk()) expect(cached._unsafeUnwrap().text).toBe(full.value);
      else expect(cached._unsafeUnwrapErr()).toEqual(full.error);
      return cached;
    };
    // A node leaves: its slot empties in the check backend and in the Cluster backend.
    const left = next(planOf([...nodes.slice(0, 3), svc], config))._unsafeUnwrap().text;
    expect(left).toMatch(/server slot4 0\.0\.0\.0:1 weight 0 disabled track \S+\/slot4\n/);
    const be = all.backends[0]!;
    const chk = all.checks![0]!;
    const withBackend = (servers: Plan["backends"][number]["servers"], checks = all.checks ?? []): Plan => ({
      ...all,
      checks,
      backends: [{ ...be, servers }],
    });
    // Hand-built plans the planner never makes: a server kept while its node left the check
    // backend, and two servers for one node. A full render refuses both; so does the patch.
    next(withBackend(be.servers, [{ ...chk, servers: chk.servers.slice(0, 3) }]))._unsafeUnwrapErr();
    next(withBackend([...be.servers.slice(0, 3), { ...be.servers[0]! }]))._unsafeUnwrapErr();
    next(withBackend([...be.servers, { ...be.servers[1]!, port: 31000 as Port }]))._unsafeUnwrapErr();
  });

  it("renders in full, as renderHaproxy does, a Cluster-policy backend whose settings changed beside its servers", () => {
    const p = planOf(
      [
        aNode("w1", "198.18.2.1"),
        aNode("w2", "198.18.2.2"),
        aService({ name: "web", created: "2026-01-01T00:00:00Z" }),
      ],
      aParsedConfig(),
    );
    const { timeouts: _t, ...be } = p.backends[0]!;
    const cached = renderHaproxyCached(
      { ...p, backends: [{ ...be, timeouts: undefined } as unknown as Plan["backends"][number]] },
      {},
    )._unsafeUnwrap().cache;
    // A key that only the new backend has is a change too.
    const withAffinity: Plan = { ...p, backends: [{ ...be, affinity: { kind: "clientIp", timeoutSeconds: 300 } }] };
    const text = renderHaproxyCached(withAffinity, {}, cached)._unsafeUnwrap().text;
    expect(text).toBe(renderHaproxy(withAffinity, {})._unsafeUnwrap());
    expect(text).toContain("stick on src");
    // A value a full render refuses (not a whole number) is refused, never thrown.
    const odd = { ...p, backends: [{ ...be, timeouts: { connectMs: 5000n } }] } as unknown as Plan;
    expect(renderHaproxyCached(odd, {}, cached)._unsafeUnwrapErr()).toEqual(renderHaproxy(odd, {})._unsafeUnwrapErr());
  });

  it("patches a joining node into a Service of any traffic policy but Cluster as the full plan does: by its endpoints", () => {
    const config = configs[0]!;
    const node = (i: number): NodeCase => ({
      ip: `198.18.2.${i}`,
      v6: false,
      zone: "x",
      excluded: false,
      tainted: false,
      deleting: false,
    });
    const base: Cluster = {
      nodes: new Map([["w1", node(1)]]),
      services: new Map([
        [
          "a",
          {
            created: "2026-01-01T00:00:00Z",
            policy: "Local" as const,
            ports: [{ port: 100, nodePort: 30001, protocol: "TCP" }],
            family: ["IPv4"],
            annotations: {},
            statusIps: [],
          },
        ],
      ]),
      slices: new Map([["a", [{ node: "w1", ip: "198.19.0.1", ready: true, terminating: false }]]]),
    };
    // A hand-built snapshot (ingest reads only Cluster and Local) with a policy of another spelling.
    const odd = (c: Cluster) => {
      const s = ingest(objects(c));
      return { ...s, services: s.services.map((x) => ({ ...x, externalTrafficPolicy: "local" as "Local" })) };
    };
    const first = planIncremental(odd(base), config);
    const joined = odd(apply(base, { kind: "node", name: "w2", node: node(2) }));
    const next = planIncremental(joined, config, vrrpStateOf(first.plan), first.cache).plan;
    expect(next).toEqual(plan(joined, config, vrrpStateOf(first.plan)));
    expect(next.backends[0]?.servers.map((s) => s.node)).toEqual(["w1"]);
  });

  it("re-renders a Cluster-policy backend whose plan object is kept when the check backend's slots move under it", () => {
    const p = planOf(
      [
        aNode("w2", "198.18.2.2"),
        aNode("w3", "198.18.2.3"),
        aService({ name: "web", created: "2026-01-01T00:00:00Z" }),
      ],
      aParsedConfig(),
    );
    const chk = p.checks![0]!;
    // A check server ahead of the others (a node no Service's backend has): with nothing
    // installed, the check slots follow plan order, so w2 and w3 move down one slot.
    const extra = { ...chk.servers[0]!, id: "node_w0" as Ident, node: "w0" as NodeName, address: "198.18.2.9" as Ip };
    const shifted: Plan = { ...p, checks: [{ ...chk, servers: [extra, ...chk.servers] }] };
    const r1 = renderHaproxyCached(p, {})._unsafeUnwrap();
    const r2 = renderHaproxyCached(shifted, {}, r1.cache)._unsafeUnwrap();
    expect(r2.text).toBe(renderHaproxy(shifted, {})._unsafeUnwrap());
    expect(r2.text).toMatch(/server slot2 198\.18\.2\.2:\d+ weight 1 track \S+\/slot2 # /);
  });
});
