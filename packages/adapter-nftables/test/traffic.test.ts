import { parseConfig, type LbNodeName, type Plan } from "@portico/core";
import { aConfig, aNode, aService, planOf } from "@portico/core/testing";
import { must, describeWith, program, root } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readNftablesState } from "../src/index.js";
import { CLIENT, CLIENT6, l2Lab, LB, loadPlan, nodeV4, nodeV6, type L2Lab } from "./_l2lab.js";

// Real UDP through the real ruleset, in namespaces on one L2 segment: nat (the node sees the LB
// node) and direct (the node sees the client and answers it itself), source ranges, IPv6.

const NODE_PORT = 30053;
const SERVICE_PORT = 5353;
const node = "lb1" as LbNodeName;
const config = parseConfig({
  ...aConfig({ lbNodes: [{ name: "lb1", address: LB, interface: "eth0" }] }),
})._unsafeUnwrap();
const NODES = ["n1", "n2", "n3"] as const;
const planFor = (
  mode: "nat" | "direct",
  sourceRanges?: string[],
  nodes: readonly string[] = NODES,
  sessionAffinity?: "ClientIP",
): Plan =>
  planOf(
    [
      ...nodes.map((n) => aNode(n, nodeV4(NODES.indexOf(n as "n1")), { moreIps: [nodeV6(NODES.indexOf(n as "n1"))] })),
      aService({
        name: "dns",
        annotations: { "portico.dev/data-plane": mode },
        ipFamilies: ["IPv4", "IPv6"],
        ipFamilyPolicy: "RequireDualStack",
        ...(sourceRanges === undefined ? {} : { loadBalancerSourceRanges: sourceRanges }),
        ...(sessionAffinity === undefined ? {} : { sessionAffinity }),
        ports: [{ port: SERVICE_PORT, nodePort: NODE_PORT, protocol: "UDP" }],
      }),
    ],
    config,
  );
const vips = planFor("nat").services[0]!.vips;
const [VIP, VIP6] = [vips.find((v) => !v.includes(":"))!, vips.find((v) => v.includes(":"))!];

await describeWith([root, program("nft", ["--version"]), program("ip", ["-V"])], "L4 traffic through nftables", () => {
  let lab: L2Lab;
  beforeAll(async () => {
    lab = await l2Lab(NODES, [VIP, VIP6], [NODE_PORT, SERVICE_PORT]);
  }, 60_000);
  afterAll(async () => {
    await lab?.destroy();
  });
  const load = (p: Plan) => loadPlan(lab, p, node);
  const nodesOf = (a: { answers: readonly { node?: string }[] }) => new Set(a.answers.map((x) => x.node));

  it("nat: every datagram is answered, spread over every node, each seeing the LB node", async () => {
    await load(planFor("nat"));
    const r = await lab.ask(VIP, SERVICE_PORT, 40);
    expect(r.answers.filter((a) => a.timeout)).toEqual([]);
    expect(nodesOf(r)).toEqual(new Set(NODES));
    expect(new Set(r.answers.map((a) => a.client?.split(":")[0]))).toEqual(new Set([LB]));
    const listed = (await must("ip", ["netns", "exec", lab.lb, "nft", "list", "table", "inet", "portico"])).trim();
    const v4 = readNftablesState(listed).listeners.find((x) => /_v4_[0-9a-f]+$/.test(x.id))!;
    expect(v4.counters?.forwarded).toBeGreaterThanOrEqual(40);
  });

  it("direct: the node sees the client's own address, answers it itself, and no reply crosses the LB node", async () => {
    await load(planFor("direct"));
    // A counter ahead of Portico's chain on the LB interface: packets from the VIP are replies.
    await must("ip", ["netns", "exec", lab.lb, "nft", "add", "table", "netdev", "probe"]);
    await must("ip", [
      "netns",
      "exec",
      lab.lb,
      "nft",
      "add chain netdev probe c { type filter hook ingress device eth0 priority -200; policy accept; }",
    ]);
    for (const [family, vip] of [
      ["ip", VIP],
      ["ip6", VIP6],
    ] as const)
      await must("ip", [
        "netns",
        "exec",
        lab.lb,
        "nft",
        "add",
        "rule",
        "netdev",
        "probe",
        "c",
        family,
        "saddr",
        vip,
        "counter",
      ]);
    const r = await lab.ask(VIP, SERVICE_PORT, 40);
    expect(r.answers.filter((a) => a.timeout)).toEqual([]);
    expect(nodesOf(r)).toEqual(new Set(NODES));
    expect(r.answers.every((a) => a.client === `${CLIENT[0]}:${a.sport}`)).toBe(true);
    const r6 = await lab.ask(VIP6, SERVICE_PORT, 20);
    expect(r6.answers.filter((a) => a.timeout)).toEqual([]);
    expect(r6.answers.filter((a) => !a.timeout).every((a) => a.client === `[${CLIENT6}]:${a.sport}`)).toBe(true);
    const probe = await must("ip", ["netns", "exec", lab.lb, "nft", "list", "chain", "netdev", "probe", "c"]);
    expect(probe.match(/counter packets (\d+)/g)).toEqual(["counter packets 0", "counter packets 0"]);
    await must("ip", ["netns", "exec", lab.lb, "nft", "delete", "table", "netdev", "probe"]);
  });

  it("nat over IPv6 answers too", async () => {
    await load(planFor("nat"));
    const r = await lab.ask(VIP6, SERVICE_PORT, 20);
    expect(r.answers.filter((a) => a.timeout)).toEqual([]);
    expect(nodesOf(r)).toEqual(new Set(NODES));
  });

  it("direct: a node leaving moves only its own flows; every other flow stays on its node", async () => {
    await load(planFor("direct"));
    const before = await lab.ask(VIP, SERVICE_PORT, 60, CLIENT[0], 41000);
    await load(planFor("direct", undefined, ["n1", "n2"]));
    const after = await lab.ask(VIP, SERVICE_PORT, 60, CLIENT[0], 41000);
    expect(after.answers.filter((a) => a.timeout)).toEqual([]);
    const was = new Map(before.answers.map((a) => [a.sport, a.node]));
    const stayed = after.answers.filter((a) => was.get(a.sport) !== "n3");
    expect(stayed.length).toBeGreaterThan(0);
    expect(stayed.every((a) => a.node === was.get(a.sport))).toBe(true);
    expect(after.answers.some((a) => a.node === "n3")).toBe(false);
  });

  it("direct with ClientIP affinity: every source port of one client reaches one node, over IPv4 and IPv6", async () => {
    await load(planFor("direct", undefined, NODES, "ClientIP"));
    for (const [vip, from] of [
      [VIP, CLIENT[0]],
      [VIP6, CLIENT6],
    ] as const) {
      const r = await lab.ask(vip, SERVICE_PORT, 20, from, 42000);
      expect(
        r.answers.filter((a) => a.timeout),
        vip,
      ).toEqual([]);
      expect(nodesOf(r).size, vip).toBe(1);
    }
  });

  it("source ranges admit the listed client address and drop the other, in both modes", async () => {
    for (const mode of ["nat", "direct"] as const) {
      await load(planFor(mode, [`${CLIENT[0]}/32`]));
      const allowed = await lab.ask(VIP, SERVICE_PORT, 5, CLIENT[0]);
      expect(
        allowed.answers.filter((a) => a.timeout),
        mode,
      ).toEqual([]);
      const denied = await lab.ask(VIP, SERVICE_PORT, 3, CLIENT[1]);
      expect(
        denied.answers.every((a) => a.timeout),
        mode,
      ).toBe(true);
    }
  });
});
