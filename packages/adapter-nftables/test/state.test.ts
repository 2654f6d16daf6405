import { maglevShares, maglevTable, type LbNodeName } from "@portico/core";
import { describe, expect, it } from "vitest";
import { effectiveSlots } from "../src/state.js";
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

  it("a node down keeps its primary slots, whose flows the nodes up share by the spill map; every other slot stays", () => {
    const plan = typicalPlan();
    const down = new Set(["worker-1"]);
    const up = readNftablesState(renderNftables(plan, { node })._unsafeUnwrap());
    const file = renderNftables(plan, { node, down })._unsafeUnwrap();
    for (const l of readNftablesState(file).listeners) {
      const before = up.listeners.find((x) => x.id === l.id)!;
      expect(l.shares.reduce((n, s) => n + s.slots, 0)).toBe(l.size);
      // The shares are in the order of the listener's servers.
      const servers = plan.l4Listeners!.find((x) => x.id === l.id)!.servers;
      const at = servers.findIndex((x) => x.node === "worker-1");
      if (at < 0) {
        // A table without the node (a node selector) is untouched.
        expect(l.shares).toEqual(before.shares);
        continue;
      }
      const gone = before.shares[at]!.slots;
      // Each node up keeps its own slots and takes part of the down node's, no more.
      for (const [i, s] of l.shares.entries()) {
        if (i === at) expect(s.slots).toBe(0);
        else {
          expect(s.slots - before.shares[i]!.slots).toBeGreaterThan(0);
          expect(s.slots - before.shares[i]!.slots).toBeLessThanOrEqual(gone);
        }
      }
    }
    // The primary maps are the same text with the node down or not.
    const primaries = (t: string) => t.match(/ {2}map mg_[0-9a-f]{8} \{\n[^}]*\}/g)!.join("\n");
    expect(primaries(file)).toBe(primaries(renderNftables(plan, { node })._unsafeUnwrap()));
  });

  it("effective slots: a down mark's primary slots go to the marks up in proportion to their spill slots, adding up", () => {
    const primary = new Map([
      [1, 50],
      [2, 30],
      [3, 21],
    ]);
    const spill = new Map([
      [1, 2],
      [3, 1],
    ]);
    expect([...effectiveSlots(primary, new Set([1, 3]), spill)]).toEqual([
      [1, 70],
      [3, 31],
    ]);
    // Nobody up: nothing is served. No up_ set (an older ruleset): the primary as it is.
    expect([...effectiveSlots(primary, new Set(), new Map())]).toEqual([]);
    expect(effectiveSlots(primary, undefined, undefined)).toEqual(primary);
  });

  it("a node down holds no slot, and the membership transaction only replaces the elements of spill maps and up sets", () => {
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
    // Never a pin map: the flows pinned to the nodes that stay keep their nodes; never a primary map.
    expect(tx).not.toMatch(/pin_|end_| mg_/);
    expect(tx.match(/^flush map \S+ portico (\S+)$/gm)!.every((l) => / sp_[0-9a-f]{8}$/.test(l))).toBe(true);
    expect(tx.match(/^flush set netdev portico (\S+)$/gm)!.every((l) => / up_[0-9a-f]{8}$/.test(l))).toBe(true);
  });
});
