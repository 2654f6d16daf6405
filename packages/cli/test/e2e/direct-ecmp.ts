import { join } from "node:path";
import { setAnnounced } from "@portico/adapter-bird";
import { applyNftables, renderNftables } from "@portico/adapter-nftables";
import type { Config, Ip, Plan } from "@portico/core";
import { aNode, aService, planOf } from "@portico/core/testing";
// The lab entry (built), so the benchmark that bundles this file runs it too.
import { must, until } from "@portico/testkit/lab";
import { holdFlows, l2NodeAddress, nexthopsByPort, nexthopsOf, VIP, type BgpLab } from "./bgp-lab.js";

// `direct` over ECMP, in the BGP lab with fake nodes on the router's bridge: every LB node runs the
// same Maglev table (one plan), so a flow the router moves to another LB node reaches the same
// node and is not reset. Held TCP flows are opened, one LB node leaves or joins (BIRD's plain
// multipath route, or a resilient next-hop group standing for the router's), and every flow is
// asked once more: answered by its node, reset, silent, or answered by another node.

/** The lab's `direct` Service (web, port 80) over the lab's nodes, planned with `config`. */
export const directPlan = (lab: BgpLab, config: Config): Plan =>
  planOf(
    [
      ...lab.nodes.map((n, i) => aNode(n.name, l2NodeAddress(i))),
      aService({ name: "web", annotations: { "portico.dev/data-plane": "direct" } }),
    ],
    config,
  );

/** Render and load the plan's L4 ruleset on every LB node of the lab. */
export const installDirect = async (lab: BgpLab, plan: Plan): Promise<void> => {
  for (const lb of lab.lbs) {
    const text = renderNftables(plan, { node: lb.name })._unsafeUnwrap();
    (
      await applyNftables(text, { configPath: join(lb.dir, "nftables.conf"), netns: lb.ns, force: true })
    )._unsafeUnwrap();
  }
};

/** One change of the LB set under held flows. */
export interface EcmpChange {
  readonly flows: number;
  /** Flows the router sends to another LB node after the change than before (read from its own decisions). */
  readonly lbMoved: number;
  /** Of those, flows that were on an LB node that stayed. */
  readonly lbMovedOfStaying: number;
  readonly ok: number;
  readonly reset: number;
  readonly timeout: number;
  /** Answered by another node than before: the flow broke (a real TCP peer would reset it). */
  readonly nodeMoved: number;
}

/** `flows` held flows across `change`; `gone`: the next hop that leaves, whose flows must move. */
export const heldAcross = async (
  lab: BgpLab,
  flows: number,
  change: () => Promise<void>,
  gone?: string,
): Promise<EcmpChange> => {
  const held = await holdFlows(lab.client, VIP, flows);
  try {
    if (held.opened.open !== flows) throw new Error(`only ${held.opened.open} of ${flows} flows opened`);
    const before = await nexthopsByPort(lab, VIP, held.opened.ports);
    await change();
    const after = await nexthopsByPort(lab, VIP, held.opened.ports);
    const r = await held.ask();
    const moved = before.filter((b, i) => after[i] !== b);
    return {
      flows,
      lbMoved: moved.length,
      lbMovedOfStaying: moved.filter((b) => b !== gone).length,
      ok: r.ok,
      reset: r.reset,
      timeout: r.timeout,
      nodeMoved: r.moved,
    };
  } finally {
    await held.close();
  }
};

const LBS = ["198.18.1.1", "198.18.1.2", "198.18.1.3"];

/** What {@link directOverEcmp} measured. */
export interface DirectOverEcmp {
  readonly plainLeave: EcmpChange;
  readonly plainJoin: EcmpChange;
  readonly resilientLeave: EcmpChange;
  readonly resilientJoin: EcmpChange;
}

/**
 * In a lab of three LB nodes running `installDirect`'s ruleset: `flows` held flows while the third
 * LB node leaves and while it joins again, first with BIRD's plain multipath route (birdc disable
 * and enable of the VIP on lb3), then with a resilient next-hop group (128 buckets) of the same
 * next hops that the client's flows are routed by (`ip rule`), from which lb3 is removed and re-added.
 */
export const directOverEcmp = async (lab: BgpLab, flows: number): Promise<DirectOverEcmp> => {
  const lb3 = lab.lbs[2]!;
  const has = async (n: number) => (await nexthopsOf(lab.rt, VIP)).length === n;
  const plainLeave = await heldAcross(
    lab,
    flows,
    async () => {
      (await setAnnounced(VIP as Ip, false, { socket: lb3.birdSocket }))._unsafeUnwrap();
      await until("lb3 gone at the router", () => has(2), 10_000, 5);
    },
    LBS[2],
  );
  const plainJoin = await heldAcross(lab, flows, async () => {
    (await setAnnounced(VIP as Ip, true, { socket: lb3.birdSocket }))._unsafeUnwrap();
    await until("lb3 back at the router", () => has(3), 10_000, 5);
  });
  const ip = (...args: string[]) => must("ip", ["-n", lab.rt, ...args]);
  for (const [id, via] of LBS.entries()) await ip("nexthop", "add", "id", String(id + 1), "via", via, "dev", "br0");
  const group = async (ids: string): Promise<void> => {
    await ip("nexthop", "replace", "id", "100", "group", ids, "type", "resilient", "buckets", "128", "idle_timer", "0");
  };
  await group("1/2/3");
  await ip("route", "add", `${VIP}/32`, "nhid", "100", "table", "100");
  await ip("rule", "add", "from", "198.18.10.2", "lookup", "100", "priority", "100");
  try {
    const resilientLeave = await heldAcross(lab, flows, () => group("1/2"), LBS[2]);
    const resilientJoin = await heldAcross(lab, flows, () => group("1/2/3"));
    return { plainLeave, plainJoin, resilientLeave, resilientJoin };
  } finally {
    await ip("rule", "del", "priority", "100");
    await ip("route", "del", `${VIP}/32`, "table", "100");
    await ip("nexthop", "flush");
  }
};
