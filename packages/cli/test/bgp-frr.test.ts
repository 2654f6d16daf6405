import { run } from "@portico/host";
import { describeWith, program, root, traffic, until } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BgpLab, nexthopsOf, VIP } from "./e2e/bgp-lab.js";
import { sayer } from "./e2e/harness.js";

// The router side of docs/operations.md run for real with FRR (Debian's frr 8.4: zebra, bfdd,
// bgpd in the router's namespace) against LB nodes running BIRD as Portico renders it.

const say = sayer("bgp frr");
const lab = new BgpLab();
const ALL = ["198.18.1.1", "198.18.1.2", "198.18.1.3"];

await describeWith(
  [root, program("bird", ["--version"]), program("haproxy", ["-v"]), program("vtysh", ["--version"])],
  "BGP ECMP with an FRR router",
  () => {
    beforeAll(async () => {
      await lab.up(3, { intervalMs: 100, multiplier: 3 }, 0, "frr");
    }, 120_000);
    afterAll(async () => {
      await lab.down();
    }, 60_000);

    it("FRR takes every LB node's route as one ECMP route, with BFD at the LB nodes' timing", async () => {
      expect(await nexthopsOf(lab.rt, VIP)).toEqual(ALL);
      const route = (await run("ip", ["-n", lab.rt, "route", "show", `${VIP}/32`]))._unsafeUnwrap().stdout;
      const groups = (await run("ip", ["-n", lab.rt, "nexthop", "show"]))._unsafeUnwrap().stdout;
      say(`FRR's route in the kernel:\n${route.trim()}\nnext-hop objects:\n${groups.trim()}`);
      const s = await traffic(lab.client, VIP, 80, { count: 300, maxMs: 20_000, parallel: 4 });
      say(`300 flows over 3 LB nodes through FRR: ${JSON.stringify(s.byNode)}, ${s.failed} failed`);
      expect(s.failed).toBe(0);
      for (const lb of ["lb1", "lb2", "lb3"]) expect(s.byNode[lb] ?? 0).toBeGreaterThan(30);
      const peers = await lab.frrSays("show bfd peers");
      for (const a of ALL) expect(peers).toContain(`peer ${a}`);
      expect(peers).toMatch(/Status: up/);
      expect(peers).toMatch(/Receive interval: 100ms/);
    }, 60_000);

    it("an LB node killed outright leaves FRR's table after BFD detection", async () => {
      const t0 = performance.now();
      await lab.blackhole(lab.lbs[0]!);
      await until(
        "lb1's route gone",
        async () => (await nexthopsOf(lab.rt, VIP)).join() === ALL.slice(1).join(),
        10_000,
        5,
      );
      const ms = performance.now() - t0;
      say(`lb1 blackholed: its route left FRR's kernel table after ${ms.toFixed(0)} ms (BFD 100 ms x 3, hold 9 s)`);
      expect(ms).toBeLessThan(3_000);
    }, 30_000);
  },
);
