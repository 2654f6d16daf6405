import { setAnnounced } from "@portico/adapter-bird";
import { sendCommand } from "@portico/adapter-haproxy";
import type { Ip, Plan } from "@portico/core";
import { run } from "@portico/host";
import { clientLoop, describeWith, program, root, traffic, until } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ok } from "neverthrow";
import { Registry } from "prom-client";
import { Announcer } from "../src/announcer.js";
import { registerBgpMetrics } from "../src/bgp-metrics.js";
import { formatBgpStatus, readBgpStatus } from "../src/bgp-status.js";
import { checkBgp } from "../src/doctor-bgp.js";
import { NO_COLOURS } from "../src/status-view.js";
import { startBgpRuntime } from "../src/bgp-runtime.js";
import { BgpLab, labConfig, labPlan, nexthopsOf, VIP } from "./e2e/bgp-lab.js";
import { sayer } from "./e2e/harness.js";

// Real BIRD on both sides, real HAProxy on the LB nodes, real 5-tuple ECMP in the router's kernel.

const say = sayer("bgp-lab");
const lab = new BgpLab();
const config = labConfig(3);
const plan = labPlan(config);
const ALL = ["198.18.1.1", "198.18.1.2", "198.18.1.3"];

const routerSays = async (...words: string[]): Promise<string> =>
  (await run("birdc", ["-s", lab.routerSocket, ...words], { timeoutMs: 5_000 }))._unsafeUnwrap().stdout;

const sinceOf = async (name: string): Promise<string | undefined> =>
  (await lab.routerProtocols()).find((p) => p.name === name)?.since;

const drained = (p: Plan, lb: string): Plan => ({
  ...p,
  lbNodes: p.lbNodes.map((n) => (n.name === lb ? { ...n, drain: true } : n)),
  announcements: (p.announcements ?? []).map((a) => ({ ...a, lbNodes: a.lbNodes.filter((n) => n !== lb) })),
});

await describeWith(
  [root, program("bird", ["--version"]), program("haproxy", ["-v"]), program("nft", ["--version"])],
  "BGP ECMP with BIRD in network namespaces",
  () => {
    beforeAll(async () => {
      await lab.up(3);
    }, 90_000);
    afterAll(async () => {
      await lab.down();
    }, 60_000);

    it("every LB node announces the VIP and the router spreads flows over all of them", async () => {
      expect(await nexthopsOf(lab.rt, VIP)).toEqual(ALL);
      const s = await traffic(lab.client, VIP, 80, { count: 300, maxMs: 20_000, parallel: 4 });
      say(`300 flows over 3 LB nodes: ${JSON.stringify(s.byNode)}, ${s.failed} failed`);
      expect(s.failed).toBe(0);
      for (const lb of ["lb1", "lb2", "lb3"]) expect(s.byNode[lb] ?? 0).toBeGreaterThan(30);
    }, 60_000);

    it("status shows the sessions, BFD and what the node announces; doctor finds BIRD and each peer; metrics say so", async () => {
      const lb1 = lab.lbs[0]!;
      const peers = [...config.bgp!.peers, { ...config.bgp!.peers[0]!, address: "198.18.1.253" as Ip }];
      const cfg = { ...config, bgp: { ...config.bgp!, socket: lb1.birdSocket as never, peers } };
      const view = await readBgpStatus(cfg, lb1.name, plan);
      expect(view.sessions).toEqual([
        expect.objectContaining({ peer: "198.18.1.254", asn: 64500, info: "Established", bfd: "Up", exported: 1 }),
      ]);
      expect([view.announced, view.planned]).toEqual([[VIP], [VIP]]);
      const text = formatBgpStatus(view, NO_COLOURS).join("\n");
      say(`portico status, BGP part:\n${text}`);
      expect(text).toContain(`BGP: announcing 1 VIP (${VIP})`);
      expect(text).toMatch(/peer 198\.18\.1\.254 AS 64500 {2}Established {2}since \S+ \S+ {2}BFD Up {2}1 exported/);
      const checks = await checkBgp({ config: cfg, node: config.lbNodes[0]!, netns: lb1.ns });
      expect(checks.map((c) => [c.name, c.verdict])).toEqual([
        ["bird installed", "OK"],
        ["bird running", "OK"],
        ["BGP peer 198.18.1.254", "OK"],
        ["BGP peer 198.18.1.253", "FAIL"],
      ]);
      const registry = new Registry();
      const announcer = new Announcer(
        { servable: async () => undefined, set: async () => ok(undefined), now: () => 0 },
        { pollMs: 1000, upDelayMs: 0, missesToWithdraw: 3 },
        [VIP as Ip],
      );
      const runtime = {
        announcer,
        planned: () => [VIP as Ip],
        setPlan: () => undefined,
        followL4: () => undefined,
        leave: async () => undefined,
      };
      registerBgpMetrics(registry, runtime, lb1.birdSocket);
      const metrics = await registry.metrics();
      expect(metrics).toContain('portico_bgp_session_established{peer="198.18.1.254"} 1');
      expect(metrics).toContain('portico_bgp_bfd_up{peer="198.18.1.254"} 1');
      expect(metrics).toContain("portico_bgp_announced_prefixes 1");
      expect(metrics).toContain("portico_bgp_planned_prefixes 1");
    }, 30_000);

    it("a new VIP is announced by birdc configure without resetting the unchanged session", async () => {
      const lb1 = lab.lbs[0]!;
      const before = await sinceOf("lb1");
      const more = labPlan(config, 1);
      const second = more.announcements!.map((a) => a.vip).find((v) => v !== VIP)!;
      expect(await lab.applyBird(lb1, more)).toEqual(expect.objectContaining({ value: "reconfigured" }));
      await until("the second VIP at the router", async () => (await nexthopsOf(lab.rt, second)).length === 1, 10_000);
      expect(await sinceOf("lb1")).toBe(before);
      expect(await lab.applyBird(lb1, more)).toEqual(expect.objectContaining({ value: "unchanged" }));
      expect(await lab.applyBird(lb1, plan)).toEqual(expect.objectContaining({ value: "reconfigured" }));
      await until("the second VIP gone", async () => (await nexthopsOf(lab.rt, second)).length === 0, 10_000);
      expect(await sinceOf("lb1")).toBe(before);
    }, 60_000);

    it("a config bird -p refuses is never installed, and the running session keeps its routes", async () => {
      const lb1 = lab.lbs[0]!;
      const installed = await lab.installed(lb1);
      const before = await sinceOf("lb1");
      const broken: Plan = {
        ...plan,
        settings: {
          ...plan.settings,
          bgp: {
            ...plan.settings.bgp!,
            peers: plan.settings.bgp!.peers.map((p) => ({
              ...p,
              passwordFile: "/nonexistent/portico/peer.bird" as never,
            })),
          },
        },
      };
      const r = await lab.applyBird(lb1, broken);
      expect(r.isErr() && r.error.kind).toBe("validate");
      expect(await lab.installed(lb1)).toBe(installed);
      expect(await sinceOf("lb1")).toBe(before);
      expect(await nexthopsOf(lab.rt, VIP)).toEqual(ALL);
    }, 30_000);

    it("an LB node whose HAProxy dies withdraws its VIP, and announces it again after the up-delay once it is back", async () => {
      const lb2 = lab.lbs[1]!;
      const own = lab.planFor(lb2, plan);
      // portico run's own runtime, pointed at lb2's HAProxy and BIRD sockets.
      const lb2Config = {
        ...config,
        haproxy: {
          ...config.haproxy,
          statsSocket: own.settings.haproxy.statsSocket,
          masterSocket: own.settings.haproxy.masterSocket,
        },
        bgp: { ...config.bgp!, socket: lb2.birdSocket as never },
      };
      const events: { vip: Ip; announced: boolean }[] = [];
      const runtime = (await startBgpRuntime(lb2Config, lb2.name, (e) => events.push(e)))!;
      runtime.setPlan(own);
      const announcer = runtime.announcer;
      try {
        await announcer.tick();
        expect(announcer.announced()).toEqual([VIP]);
        // Reloads rebind the stats socket while the master runs a worker: never a withdrawal.
        const master = own.settings.haproxy.masterSocket;
        for (let i = 0; i < 5; i++) {
          (await sendCommand(master, { kind: "reload" }, { timeoutMs: 2_000 }))._unsafeUnwrap();
          // The master re-executes: its socket refuses until it is back.
          await until(
            "the master back",
            async () => (await sendCommand(master, { kind: "show-proc" })).isOk(),
            5_000,
            10,
          );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        say(`5 HAProxy reloads on lb2: ${events.filter((e) => !e.announced).length} withdrawals`);
        expect(events.filter((e) => !e.announced)).toEqual([]);
        expect(await nexthopsOf(lab.rt, VIP)).toContain("198.18.1.2");
        const t0 = performance.now();
        await lb2.haproxy!.stop("SIGKILL", 1_000);
        await until(
          "lb2 withdrawn at the router",
          async () => !(await nexthopsOf(lab.rt, VIP)).includes("198.18.1.2"),
          10_000,
          5,
        );
        const withdrawMs = performance.now() - t0;
        say(`HAProxy killed on lb2: its route left the router after ${withdrawMs.toFixed(0)} ms`);
        expect(withdrawMs).toBeLessThan(5_000);
        // The router may drop the route before birdc's own answer reaches the announcer.
        await until("the announcer has it withdrawn", async () => announcer.announced().length === 0, 2_000, 5);
        expect(announcer.announced()).toEqual([]);
        // From before HAProxy starts: it cannot be servable any earlier.
        const t1 = performance.now();
        await lab.startHaproxy(lb2, plan);
        await until(
          "lb2 announced again",
          async () => (await nexthopsOf(lab.rt, VIP)).includes("198.18.1.2"),
          20_000,
          5,
        );
        const announceMs = performance.now() - t1;
        say(
          `HAProxy back on lb2: announced again after ${announceMs.toFixed(0)} ms (up-delay ${config.bgp!.upDelayMs} ms)`,
        );
        expect(announceMs).toBeGreaterThanOrEqual(config.bgp!.upDelayMs);
        // Stopping portico run (drain: withdraw) withdraws first; BIRD and its session stay.
        const before = await sinceOf("lb2");
        await runtime.leave();
        await until(
          "lb2 withdrawn on leave",
          async () => !(await nexthopsOf(lab.rt, VIP)).includes("198.18.1.2"),
          10_000,
          5,
        );
        expect(await sinceOf("lb2")).toBe(before);
        (await setAnnounced(VIP as Ip, true, { socket: lb2.birdSocket }))._unsafeUnwrap();
        await until("lb2 back", async () => (await nexthopsOf(lab.rt, VIP)).includes("198.18.1.2"), 10_000, 5);
      } finally {
        await announcer.stop();
      }
    }, 60_000);

    it("a drained LB node moves flows away (prepend + graceful shutdown), then withdraws before it stops; no flow fails", async () => {
      const lb3 = lab.lbs[2]!;
      const loop = await clientLoop(lab.client, VIP, 80, { maxMs: 30_000, parallel: 2 });
      try {
        // Leaving, step one: still announced, but with 65535:0 and a longer path the router stops choosing it.
        (await lab.applyBird(lb3, plan, { gracefulShutdown: true }))._unsafeUnwrap();
        await until(
          "lb3 out of the ECMP set",
          async () => !(await nexthopsOf(lab.rt, VIP)).includes("198.18.1.3"),
          10_000,
          5,
        );
        const routes = await routerSays("show", "route", `${VIP}/32`, "all");
        expect(routes).toContain("(65535,0)");
        expect(routes).toMatch(/BGP\.as_path: 64512 64512 64512 64512/);
        // Step two: withdrawn; then HAProxy on lb3 stops.
        (await lab.applyBird(lb3, drained(plan, "lb3")))._unsafeUnwrap();
        await until(
          "lb3's route gone",
          async () => !(await routerSays("show", "route", `${VIP}/32`, "all")).includes("198.18.1.3"),
          10_000,
          5,
        );
        await lb3.haproxy!.stop("SIGTERM", 3_000);
        const after = await traffic(lab.client, VIP, 80, { count: 100, maxMs: 10_000, parallel: 2 });
        expect(after.byNode["lb3"]).toBeUndefined();
        expect(after.failed).toBe(0);
      } finally {
        const s = await loop.stop();
        say(`during the drain: ${s.ok} flows, ${s.failed} failed, ${JSON.stringify(s.byNode)}`);
        expect(s.failed).toBe(0);
        expect(s.ok).toBeGreaterThan(0);
      }
    }, 60_000);

    it("an LB node killed outright leaves the router's table after BFD detection (100 ms x 3)", async () => {
      expect(await nexthopsOf(lab.rt, VIP)).toEqual(["198.18.1.1", "198.18.1.2"]);
      const t0 = performance.now();
      await lab.blackhole(lab.lbs[0]!);
      await until("lb1's route gone", async () => (await nexthopsOf(lab.rt, VIP)).join() === "198.18.1.2", 10_000, 5);
      const ms = performance.now() - t0;
      say(`lb1 blackholed: its route left the router after ${ms.toFixed(0)} ms (BFD 100 ms x 3; hold time 9 s)`);
      // Far below the 9 s hold time: BFD took it down.
      expect(ms).toBeLessThan(3_000);
      const bfd = await routerSays("show", "bfd", "sessions");
      expect(bfd).toMatch(/198\.18\.1\.1\s+\S+\s+Down/);
    }, 30_000);
  },
);
