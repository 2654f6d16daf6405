import { readNftablesState } from "@portico/adapter-nftables";
import {
  describeWith,
  program,
  root,
  SEGMENT_CLIENT,
  udpLoop,
  until,
  waitForLine,
  must,
  type UdpLoop,
  type UdpLoopResult,
} from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  CAP,
  DEATHS,
  DIRECT_PORT,
  failoverPlan as plan,
  L4FailoverLab,
  LBS,
  NAT_NODE_PORT,
  NAT_PORT,
  VIP,
} from "./e2e/l4-failover-lab.js";

// The master LB node fails under UDP request/response loops, with real keepalived (VRRPv3, 100 ms
// adverts, the config's default) and the real nftables ruleset on both LB nodes, as Portico renders
// and applies them: one Service through `nat`, one through `direct`, sharing one VIP (one VRRP
// instance). Both LB nodes hold the same Maglev tables, so a flow that moves to the backup must
// reach the node it reached before. Each loop is one of two clients: `fresh` (a new socket per
// request, as a DNS resolver opens a new source port per query; the ports cycle so each flow is
// seen before and after) and `one` (one socket: a long-lived flow).
//
// "The master killed" is the LB node dying: keepalived killed with SIGKILL (its VRRP child first)
// and its link down, since a dead machine forwards nothing either. Killing Portico there changes
// nothing (fail static: the ruleset stays as installed), so it is not part of the failure. The
// second case kills keepalived alone, with the node's kernel still forwarding.

interface Loop extends UdpLoop {
  readonly name: string;
}

await describeWith(
  [root, program("keepalived", ["--version"]), program("nft", ["--version"]), program("haproxy", ["-v"])],
  "UDP through nat and direct while the master LB node fails (real keepalived and nftables)",
  () => {
    const lab = new L4FailoverLab();
    const { master, backup } = lab;
    const nsOf = (lb: string): string => lab.nsOf(lb);
    const addressOf = (lb: string): string => lab.addressOf(lb);
    const loop = async (name: string, port: number, mode: "fresh" | "one", firstPort: number): Promise<Loop> => {
      const o = { mode, firstPort, ports: 20, intervalMs: 5, timeoutMs: 100, maxCount: 4000, maxMs: 30_000 };
      return { name, ...(await udpLoop(lab.net.client, VIP, port, { ...o, waitFor: "ready", capMs: CAP })) };
    };
    /** Every node sends its nat nodePort's datagram unasked to `to`:`port`; one of them has that flow. */
    const pushFromNodes = async (to: string, port: number): Promise<void> => {
      for (const n of lab.net.nodes) {
        n.proc.stdin!.write(`push ${NAT_NODE_PORT} ${to} ${port}\n`);
        await waitForLine(n.proc, "pushed", CAP);
      }
      await new Promise((r) => setTimeout(r, 300));
    };
    const stopAll = async (loops: readonly Loop[]): Promise<Map<string, UdpLoopResult>> => {
      return new Map(await Promise.all(loops.map(async (l) => [l.name, await l.stop()] as const)));
    };
    /** What a loop saw around `t0`: the nodes by source port before, and how answers came after. */
    const around = (r: UdpLoopResult, t0: number, t1 = t0) => {
      const answered = r.answers.filter((a) => a.timeout === undefined);
      const before = answered.filter((a) => a.at! < t0);
      const after = answered.filter((a) => a.sentAt > t1);
      const nodeBefore = new Map(before.map((a) => [a.sport, a.node]));
      const lost = r.answers.filter((a) => a.sentAt > t0 && a.timeout === true).length;
      return {
        before,
        after,
        lost,
        resumedMs: after.length === 0 ? undefined : after[0]!.at! - t0,
        moved: after.filter((a) => nodeBefore.get(a.sport) !== a.node),
        unseen: after.filter((a) => !nodeBefore.has(a.sport)),
      };
    };

    beforeAll(() => lab.start(), 120_000);
    afterAll(() => lab.destroy(), 30_000);

    it("the plan serves both Services on one VIP of one VRRP instance, nat and direct", () => {
      expect(plan.l4Listeners?.map((l) => [l.service, l.mode, l.port])).toEqual(
        expect.arrayContaining([
          ["default/dns-direct", "direct", DIRECT_PORT],
          ["default/dns-nat", "nat", NAT_PORT],
        ]),
      );
      expect(plan.vrrpInstances).toHaveLength(1);
      expect([master, backup].sort()).toEqual([...LBS]);
      expect(plan.settings.vrrp.advertIntMs).toBe(100);
    });

    /** The `direct` listener's forwarded count and the frames let by as not this host's, on `lb`. */
    const directCounts = async (lb: string): Promise<{ forwarded: number; otherHost: number }> => {
      const text = await must("ip", ["netns", "exec", nsOf(lb), "nft", "list", "table", "netdev", "portico"]);
      const state = readNftablesState(text);
      const direct = state.listeners.find((l) => l.mode === "direct" && l.counters !== undefined);
      return { forwarded: direct?.counters?.forwarded ?? -1, otherHost: state.otherHost ?? -1 };
    };
    /** The `direct` Service's datagrams each node has received since the counting table was added. */
    const received = async (): Promise<number> => {
      let n = 0;
      for (const node of lab.net.nodes) {
        const text = await must("ip", ["netns", "exec", node.ns, "nft", "list", "table", "inet", "seen"]);
        n += Number(/counter packets (\d+)/.exec(text)?.[1] ?? Number.NaN);
      }
      return n;
    };

    // A switch floods a unicast MAC it does not know (aged out, table full, a topology change) to
    // every port. Made here with the live master's MAC: its bridge entry deleted, learning off.
    it("the switch floods the live master's frames to every port: the backup forwards none, each datagram reaches its node once", async () => {
      await lab.settle();
      const mac = (
        JSON.parse(await must("ip", ["-n", nsOf(master), "-j", "link", "show", "eth0"])) as { address: string }[]
      )[0]!.address;
      const seen = `add table inet seen; add chain inet seen in { type filter hook prerouting priority -300; policy accept; }; add rule inet seen in ip daddr ${VIP} udp dport ${DIRECT_PORT} counter`;
      for (const node of lab.net.nodes) await must("ip", ["netns", "exec", node.ns, "nft", seen]);
      const bridge = (...args: string[]) => must("ip", ["netns", "exec", lab.net.sw, "bridge", ...args]);
      const [masterBefore, backupBefore] = [await directCounts(master), await directCounts(backup)];
      await bridge("link", "set", "dev", `p-${master}`, "learning", "off");
      let result: UdpLoopResult;
      let got: number;
      try {
        await bridge("fdb", "del", mac, "dev", `p-${master}`, "master");
        const l = await loop("direct flooded", DIRECT_PORT, "one", 47000);
        await new Promise((r) => setTimeout(r, 1_500));
        expect(await bridge("fdb", "show", "br", "br0")).not.toContain(mac);
        result = (await stopAll([l])).get("direct flooded")!;
        await new Promise((r) => setTimeout(r, 200));
        got = await received();
      } finally {
        await bridge("link", "set", "dev", `p-${master}`, "learning", "on");
        for (const node of lab.net.nodes) await must("ip", ["netns", "exec", node.ns, "nft", "delete table inet seen"]);
      }
      const [masterAfter, backupAfter] = [await directCounts(master), await directCounts(backup)];
      const flooded = backupAfter.otherHost - backupBefore.otherHost;
      console.log(
        `[l4 failover] master ${master}'s MAC flooded: ${result.sent} sent, ${got} received, backup let ${flooded} frames by and forwarded ${backupAfter.forwarded - backupBefore.forwarded}`,
      );
      expect(result.sent).toBeGreaterThan(100);
      // Every datagram reached the backup too (besides VRRP adverts and ARP), and it forwarded none.
      expect(flooded).toBeGreaterThanOrEqual(result.sent);
      expect(backupAfter.forwarded - backupBefore.forwarded).toBe(0);
      expect(masterAfter.forwarded - masterBefore.forwarded).toBe(result.sent);
      expect(got).toBe(result.sent);
    }, 60_000);

    // Two ways the node dies. Hung: every packet dropped, its link up, so the switch still sends it
    // the VIP's frames until the backup's gratuitous ARP moves the client (VRRP's failover proper).
    // Link down: the switch forgets the dead node's MAC and floods its frames to every port; the
    // backup's netdev chain lets frames for another host by, as nat's prerouting never sees them,
    // so both modes wait for VRRP to move the VIP.
    for (const [death, how] of Object.entries(DEATHS))
      it(`the master LB node dies (keepalived kill -9, ${death}): answers resume through the backup, each flow on its node`, async () => {
        const loops = [
          await loop("nat fresh", NAT_PORT, "fresh", 41000),
          await loop("nat one", NAT_PORT, "one", 42000),
          await loop("direct fresh", DIRECT_PORT, "fresh", 43000),
          await loop("direct one", DIRECT_PORT, "one", 44000),
        ];
        // Every fresh loop's 20 ports answered at least once before the failure.
        await new Promise((r) => setTimeout(r, 1_000));
        const t0 = Date.now();
        await lab.killKeepalived(master);
        await how.fail(nsOf(master));
        // What was sent before the node was gone may still have gone through it.
        const gone = Date.now();
        await until(`${VIP} on ${backup}`, async () => (await lab.holders()).includes(backup), CAP);
        await new Promise((r) => setTimeout(r, 1_000));
        // What a node sends unasked on the long-lived nat flow (source port 42000): to the peer it
        // knew, the dead master, it is lost; to the backup's address the backup carries it back.
        await pushFromNodes(addressOf(master), 42000);
        await pushFromNodes(addressOf(backup), 42000);
        const results = await stopAll(loops);
        await how.mend(nsOf(master));
        await lab.restore();

        const seen: string[] = [];
        for (const [name, r] of results) {
          const a = around(r, t0, gone);
          seen.push(`${name}: resumed after ${a.resumedMs} ms, ${a.lost} lost, ${a.after.length} answered after`);
          expect(a.before.length, name).toBeGreaterThan(20);
          expect(a.after.length, name).toBeGreaterThan(20);
          expect(a.resumedMs, name).toBeLessThan(CAP);
          // Nothing answers before the backup takes the VIP: at least about two adverts after the kill.
          expect(a.resumedMs, name).toBeGreaterThan(100);
          expect(a.unseen, name).toEqual([]);
          // The backup's Maglev tables are the master's: every flow answers from the node it had.
          expect(a.moved, name).toEqual([]);
          const seenBy = (xs: typeof a.before) => new Set(xs.map((x) => x.client?.split(":")[0]));
          if (name.startsWith("nat")) {
            // Source NAT: the node saw the master before and sees the backup after, so the node's side
            // of a long-lived flow is a new peer; what it sends to the old one goes to the dead node.
            expect(seenBy(a.before), name).toEqual(new Set([addressOf(master)]));
            expect(seenBy(a.after), name).toEqual(new Set([addressOf(backup)]));
          } else {
            expect(seenBy([...a.before, ...a.after]), name).toEqual(new Set([SEGMENT_CLIENT]));
          }
        }
        const longNat = results.get("nat one")!;
        expect(new Set(around(longNat, t0).before.map((a) => a.client))).toEqual(
          new Set([`${addressOf(master)}:42000`]),
        );
        expect(longNat.pushes).toEqual([`${addressOf(backup)}:42000`]);
        seen.push(`sent unasked by the node to the old peer: lost; to the new one: ${longNat.pushes.length} arrived`);
        console.log(`[l4 failover] master ${master} died (${death}), backup ${backup}: ${seen.join("; ")}`);
      }, 120_000);

    it("keepalived alone killed on the master: its kernel forwards on until the backup's ARP moves the client, every flow on its node", async () => {
      const loops = [
        await loop("nat one", NAT_PORT, "one", 45000),
        await loop("direct fresh", DIRECT_PORT, "fresh", 46000),
      ];
      await new Promise((r) => setTimeout(r, 1_000));
      const t0 = Date.now();
      await lab.killKeepalived(master);
      await until(`${VIP} on ${backup}`, async () => (await lab.holders()).includes(backup), CAP);
      await new Promise((r) => setTimeout(r, 1_000));
      // The old master's kernel still holds the flow's conntrack entry: what the node sends to the
      // old peer reaches the client, as does what it sends to the backup's address.
      await pushFromNodes(addressOf(master), 45000);
      await pushFromNodes(addressOf(backup), 45000);
      const results = await stopAll(loops);
      expect(results.get("nat one")!.pushes).toEqual([`${addressOf(master)}:45000`, `${addressOf(backup)}:45000`]);
      // A killed keepalived cannot take its VIP away: both nodes hold it now.
      expect((await lab.holders()).sort()).toEqual([...LBS]);
      await lab.restore();

      const seen: string[] = [];
      for (const [name, r] of results) {
        const a = around(r, t0);
        const gaps = a.after.slice(1).map((x, i) => x.at! - a.after[i]!.at!);
        seen.push(`${name}: ${a.lost} lost, longest gap between answers ${Math.max(0, ...gaps)} ms`);
        expect(a.after.length, name).toBeGreaterThan(20);
        expect(a.moved, name).toEqual([]);
        if (name.startsWith("nat")) {
          // The client's packets moved to the backup once its gratuitous ARP came.
          expect(a.after.at(-1)?.client?.split(":")[0], name).toBe(addressOf(backup));
        }
      }
      console.log(`[l4 failover] keepalived on ${master} killed, node alive: ${seen.join("; ")}`);
    }, 120_000);
  },
);
