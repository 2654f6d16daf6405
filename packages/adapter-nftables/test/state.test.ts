import { maglevShares, maglevTable, type LbNodeName } from "@portico/core";
import { describe, expect, it } from "vitest";
import { readNftablesState, renderNftables, renderNftablesMembership } from "../src/index.js";
import { typicalPlan } from "./fixtures.js";

const node = "lb1" as LbNodeName;

describe("nftables state", () => {
  it("reads back each listener's table and each node's share, as the core's Maglev table gives them", () => {
    const plan = typicalPlan();
    const state = readNftablesState(renderNftables(plan, { node })._unsafeUnwrap());
    expect(state.listeners.map((l) => `${l.id} ${l.mode}`)).toEqual(
      [...(plan.l4Listeners ?? [])].map((l) => `${l.id} ${l.mode}`),
    );
    for (const l of plan.l4Listeners ?? []) {
      const read = state.listeners.find((x) => x.id === l.id)!;
      const want = maglevShares(
        maglevTable(
          l.servers.map((s) => ({ name: s.node, weight: s.weight })),
          l.tableSize,
        ),
      );
      expect(read.shares.map((s) => s.slots)).toEqual(l.servers.map((s) => want.get(s.node)));
      expect(read.shares.reduce((n, s) => n + s.slots, 0)).toBe(l.tableSize);
    }
  });

  it("reads the frames the netdev chain let by as another host's from nft list, and none from a file", () => {
    const plan = typicalPlan();
    const file = renderNftables(plan, { node })._unsafeUnwrap();
    expect(file).toMatch(
      /chain ingress_eth0 \{\n.*\n {4}meta pkttype != host counter accept comment "not for this host"\n/,
    );
    expect(readNftablesState(file).otherHost).toBeUndefined();
    const listed = '\t\tmeta pkttype != host counter packets 42 bytes 4200 accept comment "not for this host"\n';
    expect(readNftablesState(listed).otherHost).toBe(42);
  });

  it("a node down holds no slot, and the membership transaction only replaces the elements of Maglev maps and up sets", () => {
    const plan = typicalPlan();
    const down = new Set(["worker-1"]);
    const state = readNftablesState(renderNftables(plan, { node, down })._unsafeUnwrap());
    const dns = state.listeners.find((l) => l.id.includes("dns"))!;
    expect(dns.shares.map((s) => [s.target, s.slots > 0])).toEqual([
      ["198.18.2.1 . 30054", false],
      ["198.18.2.2 . 30054", true],
      ["198.18.2.3 . 30054", true],
    ]);
    const tx = renderNftablesMembership(plan, { node, down })._unsafeUnwrap();
    const verbs = new Set(
      tx
        .split("\n")
        .filter((l) => /^[a-z]/.test(l))
        .map((l) => l.split(" ").slice(0, 2).join(" ")),
    );
    expect([...verbs].sort()).toEqual(["add element", "flush map", "flush set"]);
    // Never a pin map: the flows pinned to the nodes that stay keep their nodes.
    expect(tx).not.toMatch(/pin_|end_/);
    expect(tx.match(/^flush set netdev portico (\S+)$/gm)!.every((l) => / up_[0-9a-f]{8}$/.test(l))).toBe(true);
  });
});
