import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readStats } from "@portico/adapter-haproxy";
import { readNftablesState } from "@portico/adapter-nftables";
import { aNode, aService } from "@portico/core/testing";
import { run } from "@portico/host";
import { describeWith, freePort, KubeApiServer, program, root, until } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BgpLab, holdFlows, l2NodeAddress, nexthopsOf, VIP } from "./e2e/bgp-lab.js";
import { ingressOf, sayer } from "./e2e/harness.js";
import { startPorticoIn, type PorticoInNetns } from "./e2e/netns-portico.js";

// `portico run` in an LB namespace of the BGP lab (real HAProxy, nft, BIRD on both sides, the
// test API server): a `direct` Service over two fake nodes on the router's bridge, at the default
// Maglev table size of two nodes (16381 slots, which `nft list` takes hundreds of milliseconds to print). The
// nodes' kube-proxy checks fail one by one: the first moves its node out of the nft map and the
// VIP stays announced; the last empties the table and the route leaves the router, timed from
// the moment HAProxy says the check is down. Figures are printed; the median bound tells the health loop's event from the kernel read.

const say = sayer("bgp l4 run e2e");
const HEALTH_PORT = 32100;
const ROUNDS = 7;

await describeWith(
  [root, program("bird", ["--version"]), program("haproxy", ["-v"]), program("nft", ["--version"])],
  "portico run withdraws an L4 VIP as soon as its table empties",
  () => {
    const lab = new BgpLab();
    let api: KubeApiServer | undefined;
    let portico: PorticoInNetns | undefined;
    let runDir = "";

    const lb = () => lab.lbs[0]!;
    const adminSock = () => join(lb().dir, "admin.sock");
    /** Each node's slots in the kernel's map, by node address. */
    const slotsInKernel = async (): Promise<Record<string, number>> => {
      const out = await run("ip", ["netns", "exec", lb().ns, "nft", "list", "table", "netdev", "portico"], {
        timeoutMs: 10_000,
      });
      if (out.isErr() || out.value.code !== 0) return {};
      const state = readNftablesState(out.value.stdout);
      const l = state.listeners.find((x) => x.mode === "direct");
      return Object.fromEntries((l?.shares ?? []).map((s) => [s.target, s.slots]));
    };
    /** HAProxy's verdict on one node's kube-proxy check (the check backend's server at its address). */
    const checkOf = async (address: string): Promise<string | undefined> => {
      const rows = await readStats(adminSock(), { timeoutMs: 500 });
      if (rows.isErr()) return undefined;
      return rows.value.find((r) => r.type === "server" && r.address === `${address}:${HEALTH_PORT}`)?.state;
    };
    const announcedByLb = async () => (await nexthopsOf(lab.rt, VIP)).includes("198.18.1.1");

    beforeAll(async () => {
      await lab.up(1, { intervalMs: 100, multiplier: 3 }, 2);
      runDir = join(lab.dir, "run");
      await mkdir(runDir, { recursive: true });
      api = await new KubeApiServer().start();
      for (const [i, n] of lab.nodes.entries()) api.put(aNode(n.name, l2NodeAddress(i)));
      api.put(aService({ name: "web", annotations: { "portico.dev/data-plane": "direct" } }));
      const apiPort = Number(new URL(/server: (\S+)/.exec(api.kubeconfig("lb1"))![1]!).port);
      await writeFile(join(runDir, "kubeconfig"), api.kubeconfig("lb1"));
      // lb1's HAProxy and BIRD were started by the lab with these same paths.
      const l = lb();
      await writeFile(
        join(runDir, "portico.yaml"),
        [
          "apiVersion: portico.dev/v1alpha1",
          "kind: PorticoConfig",
          "pools: [{name: default, addresses: [198.18.100.10-198.18.100.20], announce: bgp}]",
          "lbNodes: [{name: lb1, address: 198.18.1.1, interface: eth0}]",
          `healthCheck: {kubeProxyPort: ${HEALTH_PORT}, intervalMs: 200, rise: 1, fall: 2}`,
          `haproxy: {configPath: ${l.dir}/haproxy.cfg, statsSocket: ${l.dir}/admin.sock, masterSocket: ${l.dir}/master.sock, threads: 1}`,
          `keepalived: {apply: false, configPath: ${runDir}/keepalived.conf}`,
          `nftables: {apply: true, configPath: ${runDir}/nftables.conf}`,
          "bgp: {asn: 64512, peers: [{address: 198.18.1.254, asn: 64500}], upDelayMs: 200,",
          `  configPath: ${l.dir}/bird.conf, socket: ${l.birdSocket}}`,
          `controller: {listen: "127.0.0.1:${await freePort()}", coalesce: {quietMs: 20, maxDelayMs: 200}}`,
          "",
        ].join("\n"),
      );
      portico = await startPorticoIn(l.ns, runDir, "lb1", apiPort);
      await until(
        "the Service's VIP in its status",
        async () => ingressOf(api!.get("Service", "default", "web"))[0]?.ip === VIP,
        60_000,
      );
      await until(
        "both nodes in the kernel's map",
        async () => Object.values(await slotsInKernel()).filter((n) => n > 0).length === 2,
        60_000,
      );
      await until("both checks up", async () => (await checkOf(l2NodeAddress(1))) === "UP", 30_000);
      await until("lb1 announces the VIP", announcedByLb, 30_000);
    }, 180_000);
    afterAll(async () => {
      await portico?.stop();
      await api?.stop();
      await lab.down();
    }, 60_000);

    it("flows go straight to the nodes (direct), through lb1's table", async () => {
      const flows = await holdFlows(lab.client, VIP, 40);
      try {
        say(`40 flows through lb1 (direct): ${JSON.stringify(flows.opened.byNode)}`);
        expect(flows.opened.open).toBe(40);
        expect(Object.keys(flows.opened.byNode).sort()).toEqual(["n1", "n2"]);
        expect(await flows.ask()).toEqual({ ok: 40, reset: 0, timeout: 0, moved: 0 });
      } finally {
        await flows.close();
      }
    }, 90_000);

    it("a node whose check fails leaves the nft map; the last one's failure withdraws the VIP at the router", async () => {
      const [n1, n2] = lab.nodes;
      const a1 = l2NodeAddress(0);
      const a2 = l2NodeAddress(1);
      n1!.health.stdin!.write("503\n");
      await until("n1's check down", async () => (await checkOf(a1)) === "DOWN", 10_000, 10);
      await until("n1 out of the map", async () => ((await slotsInKernel())[a1] ?? 0) === 0, 10_000, 20);
      const slots = await slotsInKernel();
      say(`n1's check down: the kernel's map holds ${JSON.stringify(slots)}`);
      expect(slots[a2]).toBe(16381);
      expect(await announcedByLb()).toBe(true);

      const figures: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // At a random moment of the kernel read's one-second cycle, so no round falls in step with it.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 1_000));
        n2!.health.stdin!.write("503\n");
        // HAProxy's verdict and the router's table, each looked at every 2 ms.
        const at = async (what: string, ok: () => Promise<boolean>): Promise<number> => {
          await until(what, ok, 10_000, 2);
          return performance.now();
        };
        const [downAt, goneAt] = await Promise.all([
          at("n2's check down", async () => (await checkOf(a2)) === "DOWN"),
          at("lb1 withdrawn", async () => !(await announcedByLb())),
        ]);
        const ms = goneAt - downAt;
        figures.push(ms);
        say(`round ${r + 1}: n2's check down -> lb1's route gone at the router: ${ms.toFixed(0)} ms`);
        expect(Object.values(await slotsInKernel()).every((n) => n === 0)).toBe(true);
        // Back: the node in the map again, the VIP announced again after the up-delay.
        n2!.health.stdin!.write("200\n");
        await until("lb1 announced again", announcedByLb, 20_000, 10);
        expect((await slotsInKernel())[a2]).toBe(16381);
      }
      say(
        `check down -> route gone, ${ROUNDS} rounds: ${figures.map((m) => m.toFixed(0)).join(", ")} ms (goal 100 ms)`,
      );
      const logs = portico!.logs();
      expect(logs).toContain("L4 tables follow the checks");
      expect(logs).toContain("withdrawn");
      // Waiting for the kernel read (once a second, ~200 ms for this map) puts a round anywhere up
      // to ~1.2 s (84-661 ms in 7 rounds without the health loop's word), so most rounds this fast
      // say that the loop's own load made the announcer look.
      expect(figures.filter((ms) => ms < 150).length).toBeGreaterThanOrEqual(ROUNDS - 2);
      for (const ms of figures) expect(ms).toBeLessThan(2_000);
      n1!.health.stdin!.write("200\n");
      await until("n1 back in the map", async () => ((await slotsInKernel())[a1] ?? 0) > 0, 10_000, 20);
      expect(await readFile(join(runDir, "nftables.conf"), "utf8")).toContain("netdev portico");
    }, 120_000);

    it("a host firewall's reload deletes Portico's tables: portico run loads its ruleset again within a resync", async () => {
      const a1 = l2NodeAddress(0);
      await until("both nodes in the map", async () => ((await slotsInKernel())[a1] ?? 0) > 0, 10_000, 20);
      // What Debian's nftables.service runs on a reload: the ruleset of /etc/nftables.conf, which begins so.
      const flushed = await run("ip", ["netns", "exec", lb().ns, "nft", "flush", "ruleset"], { timeoutMs: 10_000 });
      expect(flushed.isOk() && flushed.value.code === 0).toBe(true);
      const flushedAt = performance.now();
      // L4_HEALTH_RESYNC_MS (10 s) to see it, then one full load.
      await until(
        "both nodes in the map again",
        async () => Object.values(await slotsInKernel()).filter((n) => n > 0).length === 2,
        30_000,
        100,
      );
      say(`nft flush ruleset -> the ruleset loaded again: ${Math.round(performance.now() - flushedAt)} ms`);
      expect(portico!.logs()).toContain("L4 tables gone from the kernel; loading the ruleset again");
      await until("lb1 announces the VIP", announcedByLb, 30_000);
      const flows = await holdFlows(lab.client, VIP, 20);
      try {
        expect(flows.opened.open).toBe(20);
        expect(await flows.ask()).toEqual({ ok: 20, reset: 0, timeout: 0, moved: 0 });
      } finally {
        await flows.close();
      }
    }, 90_000);
  },
);
