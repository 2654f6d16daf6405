import { describeWith, program, root } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BgpLab, holdFlows, nexthopsOf, VIP } from "./e2e/bgp-lab.js";
import { join } from "node:path";
import { setAnnounced } from "@portico/adapter-bird";
import { applyNftables, renderNftables } from "@portico/adapter-nftables";
import type { Ip } from "@portico/core";
import { until } from "@portico/testkit";
import { directOverEcmp, directPlan, heldAcross, installDirect, type EcmpChange } from "./e2e/direct-ecmp.js";
import { sayer } from "./e2e/harness.js";

// `direct` over ECMP: three LB namespaces peering with the router, two fake nodes on the router's
// bridge, every LB node loaded with the same plan's ruleset (one Maglev table). 200 held TCP
// flows; one LB node leaves, then joins, under BIRD's plain multipath route and under a resilient
// next-hop group. The router moves flows between LB nodes; none is reset, as each LB node sends it
// to the same node. Through HAProxy (`proxy`) each such move is a reset (bench figure 11).

const say = sayer("bgp direct ecmp");
const FLOWS = 200;
const lab = new BgpLab();

const line = (what: string, c: EcmpChange): string =>
  `${what}: ${c.lbMoved} of ${c.flows} flows changed LB node (${c.lbMovedOfStaying} of them on a staying one); ` +
  `${c.ok} answered by their node, ${c.reset} reset, ${c.timeout} silent, ${c.nodeMoved} on another node`;

await describeWith(
  [root, program("bird", ["--version"]), program("haproxy", ["-v"]), program("nft", ["--version"])],
  "direct over ECMP: flows moved between LB nodes keep their node",
  () => {
    beforeAll(async () => {
      await lab.up(3, { intervalMs: 100, multiplier: 3 }, 2);
      await installDirect(lab, directPlan(lab, lab.config));
    }, 120_000);
    afterAll(async () => {
      await lab.down();
    }, 60_000);

    it("the router spreads flows over the three LB nodes, and the nodes answer them directly", async () => {
      expect(await nexthopsOf(lab.rt, VIP)).toEqual(["198.18.1.1", "198.18.1.2", "198.18.1.3"]);
      const held = await holdFlows(lab.client, VIP, 60);
      try {
        expect(held.opened.open).toBe(60);
        expect(Object.keys(held.opened.byNode).sort()).toEqual(["n1", "n2"]);
      } finally {
        await held.close();
      }
    }, 60_000);

    it("one LB node leaving or joining resets no flow, with plain and with resilient ECMP", async () => {
      const r = await directOverEcmp(lab, FLOWS);
      say(line("plain multipath, lb3 leaves", r.plainLeave));
      say(line("plain multipath, lb3 joins", r.plainJoin));
      say(line("resilient group, lb3 leaves", r.resilientLeave));
      say(line("resilient group, lb3 joins", r.resilientJoin));
      for (const c of [r.plainLeave, r.plainJoin, r.resilientLeave, r.resilientJoin]) {
        expect(c).toEqual(expect.objectContaining({ ok: FLOWS, reset: 0, timeout: 0, nodeMoved: 0 }));
      }
      // The router did move flows: every change sent some to another LB node.
      for (const c of [r.plainLeave, r.plainJoin, r.resilientLeave, r.resilientJoin])
        expect(c.lbMoved).toBeGreaterThan(0);
      // A resilient group moves only the leaving LB node's flows.
      expect(r.resilientLeave.lbMovedOfStaying).toBe(0);
    }, 240_000);

    it("the control: an LB node whose table differs sends moved flows to other nodes, which reset them", async () => {
      const lb3 = lab.lbs[2]!;
      const other = directPlan(lab, { ...lab.config, nftables: { ...lab.config.nftables!, maglevTableSize: 251 } });
      const text = renderNftables(other, { node: lb3.name })._unsafeUnwrap();
      (
        await applyNftables(text, { configPath: join(lb3.dir, "nftables.conf"), netns: lb3.ns, force: true })
      )._unsafeUnwrap();
      try {
        const c = await heldAcross(
          lab,
          FLOWS,
          async () => {
            (await setAnnounced(VIP as Ip, false, { socket: lb3.birdSocket }))._unsafeUnwrap();
            await until("lb3 gone at the router", async () => (await nexthopsOf(lab.rt, VIP)).length === 2, 10_000, 5);
          },
          "198.18.1.3",
        );
        say(line("lb3 with another table leaves", c));
        expect(c.reset + c.timeout + c.nodeMoved).toBeGreaterThan(0);
      } finally {
        (await setAnnounced(VIP as Ip, true, { socket: lb3.birdSocket }))._unsafeUnwrap();
        await installDirect(lab, directPlan(lab, lab.config));
      }
    }, 120_000);
  },
);
