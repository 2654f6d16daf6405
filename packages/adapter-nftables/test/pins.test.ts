import { parseConfig, type LbNodeName, type Plan } from "@portico/core";
import { aConfig, aNode, aService, planOf } from "@portico/core/testing";
import { describeWith, must, program, root, until } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { applyNftablesMembership, readNftablesState, renderNftablesMembership } from "../src/index.js";
import { CLIENT, l2Lab, LB, loadPlan, nodeV4, nodeV6, type FlowRound, type L2Lab } from "./_l2lab.js";

// Established TCP flows through `direct` keep their nodes while the table changes: the netdev
// path has no conntrack, so each flow's node is pinned in the table's own map. Real TCP between
// the client and fake nodes that hold every connection open; a reset reads as ECONNRESET.

const PORT = 8080;
const node = "lb1" as LbNodeName;
const config = parseConfig(aConfig({ lbNodes: [{ name: "lb1", address: LB, interface: "eth0" }] }))._unsafeUnwrap();
const NODES = ["n1", "n2", "n3", "n4"] as const;
const planFor = (nodes: readonly string[]): Plan =>
  planOf(
    [
      ...nodes.map((n) => {
        const i = NODES.indexOf(n as "n1");
        return aNode(n, nodeV4(i), { moreIps: [nodeV6(i)] });
      }),
      aService({
        name: "app",
        annotations: { "portico.dev/data-plane": "direct" },
        ipFamilies: ["IPv4", "IPv6"],
        ipFamilyPolicy: "RequireDualStack",
        ports: [
          { name: "tcp", port: PORT, nodePort: 30080 },
          { name: "udp", port: PORT, nodePort: 30081, protocol: "UDP" },
        ],
      }),
    ],
    config,
  );
const vips = planFor(NODES).services[0]!.vips;
const [VIP, VIP6] = [vips.find((v) => !v.includes(":"))!, vips.find((v) => v.includes(":"))!];
const THREE = ["n1", "n2", "n3"];

const byPort = (r: FlowRound) => new Map(r.flows.map((f) => [f.sport, f.node ?? f.error]));
const errorsOf = (r: FlowRound) => r.flows.filter((f) => f.error !== undefined);

await describeWith([root, program("nft", ["--version"]), program("ip", ["-V"])], "flow pins in direct", () => {
  let lab: L2Lab;
  beforeAll(async () => {
    lab = await l2Lab(NODES, [VIP, VIP6], [PORT], [], [PORT]);
  }, 60_000);
  afterAll(async () => {
    await lab?.destroy();
  });
  // As portico run installs a new plan: the whole ruleset rendered and loaded with nft -f.
  const load = (p: Plan) => loadPlan(lab, p, node);
  const nft = (...args: string[]) => must("ip", ["netns", "exec", lab.lb, "nft", ...args]);

  it("a node joining under 200 established TCP flows resets none of them, and new flows reach it", async () => {
    await load(planFor(THREE));
    const held = await lab.hold(VIP, PORT, 200, 90_000, 42000);
    const held6 = await lab.hold(VIP6, PORT, 50, 90_000, 42000);
    expect(errorsOf(held.opened)).toEqual([]);
    expect(errorsOf(held6.opened)).toEqual([]);
    expect(new Set(held.opened.flows.map((f) => f.node))).toEqual(new Set(THREE));
    await load(planFor(NODES));
    const after = await held.ping();
    const after6 = await held6.ping();
    expect(errorsOf(after)).toEqual([]);
    expect(errorsOf(after6)).toEqual([]);
    expect(byPort(after)).toEqual(byPort(held.opened));
    expect(byPort(after6)).toEqual(byPort(held6.opened));
    // Read back as portico status reads it: each listener's four nodes hold slots, and the packets counted.
    const state = readNftablesState(await nft("list", "table", "netdev", "portico"));
    const tcp = state.listeners.filter((l) => l.id.includes("_tcp_"));
    expect(tcp.map((l) => l.shares.filter((x) => x.slots > 0).length)).toEqual([4, 4]);
    expect(tcp.every((l) => (l.counters?.forwarded ?? 0) >= 50)).toBe(true);
    // The chain's first rule, as nft lists it, lets by what is not addressed to the LB node.
    expect(state.otherHost).toBeGreaterThanOrEqual(0);
    // Loaded twice, the netdev table keeps no map of the first ruleset.
    const terse = await nft("-t", "list", "table", "netdev", "portico");
    expect(terse.match(/map mg_\w+/g)).toHaveLength(2);
    const fresh = await lab.hold(VIP, PORT, 100, 30_000, 43000);
    expect(errorsOf(fresh.opened)).toEqual([]);
    expect(fresh.opened.flows.some((f) => f.node === "n4")).toBe(true);
    await fresh.end();
    // Without their pins, the same flows are hashed by the new table: those it gives the new
    // node are reset there. This is what the pins prevented.
    const pins = (await nft("-t", "list", "table", "netdev", "portico")).match(/map (pin_\w+)/g)!;
    for (const m of pins) await nft("flush", "map", "netdev", "portico", m.split(" ")[1]!);
    const unpinned = await held.ping();
    expect(errorsOf(unpinned).length).toBeGreaterThan(0);
    expect(errorsOf(unpinned).every((f) => f.error === "ECONNRESET")).toBe(true);
    // The figure BENCHMARKS.md reports (figure 12): resets on join with pins, and without.
    console.info(
      `pins: join reset ${errorsOf(after).length} of ${after.flows.length} IPv4 and ${errorsOf(after6).length} of ` +
        `${after6.flows.length} IPv6 flows; with the pins flushed ${errorsOf(unpinned).length} of ${unpinned.flows.length}`,
    );
    await held.end();
    await held6.end();
  }, 120_000);

  it("the tables resized (the cluster's node count crossed a size's bound) reset none of 200 established flows", async () => {
    // The plan of a cluster past a bound gives every listener the larger size: a full load replaces the maps.
    const resized = (p: Plan, tableSize: number): Plan => ({
      ...p,
      l4Listeners: p.l4Listeners!.map((l) => ({ ...l, tableSize })),
    });
    await load(resized(planFor(THREE), 16381));
    const held = await lab.hold(VIP, PORT, 200, 90_000, 48000);
    expect(errorsOf(held.opened)).toEqual([]);
    await load(resized(planFor(THREE), 32749));
    const after = await held.ping();
    expect(errorsOf(after)).toEqual([]);
    expect(byPort(after)).toEqual(byPort(held.opened));
    const state = readNftablesState(await nft("list", "table", "netdev", "portico"));
    expect(state.listeners.map((l) => l.shares.reduce((n, x) => n + x.slots, 0))).toEqual(
      state.listeners.map(() => 32749),
    );
    // Unpinned, the same flows are hashed by the new table, which shares no layout with the old one.
    const pins = (await nft("-t", "list", "table", "netdev", "portico")).match(/map (pin_\w+)/g)!;
    for (const m of pins) await nft("flush", "map", "netdev", "portico", m.split(" ")[1]!);
    const unpinned = await held.ping();
    expect(errorsOf(unpinned).length).toBeGreaterThan(0);
    console.info(
      `pins: resize 16381 -> 32749 reset ${errorsOf(after).length} of ${after.flows.length} IPv4 flows; ` +
        `with the pins flushed ${errorsOf(unpinned).length} of ${unpinned.flows.length}`,
    );
    await held.end();
  }, 120_000);

  it("a UDP flow whose node failed is pinned anew, so the node coming back does not take it back", async () => {
    await load(planFor(NODES));
    const ask = async () =>
      new Map((await lab.ask(VIP, PORT, 60, CLIENT[0], 47000)).answers.map((a) => [a.sport, a.node]));
    const before = await ask();
    expect([...before.values()].filter((n) => n === undefined)).toEqual([]);
    const down = renderNftablesMembership(planFor(NODES), { node, down: new Set(["n2"]) })._unsafeUnwrap();
    (await applyNftablesMembership(down, { netns: lab.lb }))._unsafeUnwrap();
    const failed = await ask();
    for (const [sport, n] of failed)
      if (before.get(sport) === "n2") expect(n, `flow ${sport}`).not.toBe("n2");
      else expect(n, `flow ${sport}`).toBe(before.get(sport));
    // The stale pins live two seconds more; after them, each of those flows is pinned where it went.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await ask()).toEqual(failed);
    const up = renderNftablesMembership(planFor(NODES), { node })._unsafeUnwrap();
    (await applyNftablesMembership(up, { netns: lab.lb }))._unsafeUnwrap();
    expect(await ask()).toEqual(failed);
    expect([...before.values()].filter((n) => n === "n2").length).toBeGreaterThan(0);
  }, 60_000);

  it("a flow whose client closed keeps its pin for TIME_WAIT's two minutes, not the idle timeout", async () => {
    await load(planFor(NODES));
    const held = await lab.hold(VIP, PORT, 20, 30_000, 45000);
    expect(errorsOf(held.opened)).toEqual([]);
    const pins = async () => {
      const listed = await nft("list", "table", "netdev", "portico");
      return [...listed.matchAll(/(\d+) \. 198\.18\.30\.100 expires (\S+) :/g)]
        .filter((m) => Number(m[1]) >= 45000 && Number(m[1]) < 45020)
        .map((m) => m[2]!);
    };
    expect(await pins()).toHaveLength(20);
    expect((await pins()).every((e) => /^23h/.test(e))).toBe(true);
    await held.end();
    await until("every pin at two minutes", async () => (await pins()).every((e) => /^[01]m/.test(e)), 10_000, 100);
    expect(await pins()).toHaveLength(20);
  }, 60_000);

  it("a full pin map (a SYN flood) still forwards every new flow by the table", async () => {
    const base = planFor(NODES);
    const small: Plan = {
      ...base,
      l4Listeners: base.l4Listeners!.map((l) => ({ ...l, flowPins: { timeoutSeconds: 600, size: 8 } })),
    };
    await load(small);
    const held = await lab.hold(VIP, PORT, 30, 30_000, 46000);
    expect(errorsOf(held.opened)).toEqual([]);
    expect(errorsOf(await held.ping())).toEqual([]);
    const listed = await nft("list", "table", "netdev", "portico");
    expect([...listed.matchAll(/\d+ \. 198\.18\.30\.100 expires/g)].length).toBeLessThanOrEqual(8);
    await held.end();
  }, 60_000);

  it("a node leaving or failing its check moves only its own flows", async () => {
    await load(planFor(NODES));
    const held = await lab.hold(VIP, PORT, 200, 90_000, 44000);
    expect(errorsOf(held.opened)).toEqual([]);
    const was = byPort(held.opened);
    // n2 fails its check: one element-only transaction, as portico run's health loop loads it.
    const membership = renderNftablesMembership(planFor(NODES), { node, down: new Set(["n2"]) })._unsafeUnwrap();
    (await applyNftablesMembership(membership, { netns: lab.lb }))._unsafeUnwrap();
    const failed = await held.ping();
    for (const f of failed.flows)
      if (was.get(f.sport) === "n2") expect(f.error, `flow ${f.sport} was on n2`).toBe("ECONNRESET");
      else expect(f.node, `flow ${f.sport}`).toBe(was.get(f.sport));
    // n4 leaves the plan: a full load; the flows of n1 and n3 stay where they were.
    await load(planFor(["n1", "n3"]));
    const left = await held.ping();
    for (const f of left.flows)
      if (was.get(f.sport) === "n1" || was.get(f.sport) === "n3")
        expect(f.node, `flow ${f.sport}`).toBe(was.get(f.sport));
      else expect(f.error, `flow ${f.sport} was on ${was.get(f.sport)}`).toBeDefined();
    expect(errorsOf(left).length).toBeGreaterThan(0);
    await held.end();
  }, 120_000);
});
