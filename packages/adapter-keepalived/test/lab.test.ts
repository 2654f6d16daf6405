import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  bigIntToIp,
  masterCapacity,
  parseConfig,
  planVrrp,
  vrrpStateOf,
  type Config,
  type Ip,
  type LbNodeName,
  type Plan,
  type VrrpInstance,
} from "@portico/core";
import { describeWith, must, NetnsLab, program, root, VIP_PROBE_BIN, type VipProbeResult } from "@portico/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyKeepalived, renderKeepalived, runningKeepalived } from "../src/index.js";

// Three LB namespaces and a client on one bridge, real keepalived and HAProxy in each LB
// namespace; 9 IPv4 VIPs and 3 IPv6 VIPs (their own VRRPv3 instances, advertised by multicast
// from link-local addresses since the LB nodes are addressed over IPv4). HAProxy answers HTTP on port 8080 of every local address with its node's name, so
// the client can tell who holds a VIP. Every failover figure below is printed, never asserted
// against its target: the assertions are about behaviour, with generous caps.

const PORT = "8080";
const NAMES = ["lb1", "lb2", "lb3"] as const;
const VIP_COUNT = 12;
/** A safety cap per wait, about 10x the slowest expected move (HAProxy death: 2 s to notice). */
const CAP_MS = 20_000;
/** The hostile neighbour: forged VRRPv3 adverts from a raw socket. */
const FORGE = fileURLToPath(new URL("./forge-vrrp.pl", import.meta.url));

const configFor = (names: readonly string[], extra: Record<string, unknown> = {}): Config =>
  parseConfig({
    apiVersion: "portico.dev/v1alpha1",
    kind: "PorticoConfig",
    pools: [{ name: "lab", addresses: ["198.18.100.10-198.18.100.50", "2001:db8:100::10-2001:db8:100::50"] }],
    lbNodes: names.map((n) => ({ name: n, address: `198.18.1.${n.slice(2)}`, interface: "eth0" })),
    vrrp: { vridFirst: 40, vridLast: 80, ...extra },
  })._unsafeUnwrap();

const v6s: Ip[] = Array.from({ length: 3 }, (_, i) => bigIntToIp(0x20010db8010000000000000000000010n + BigInt(i), 6)); // 2001:db8:100::10..12
const vips: Ip[] = [
  ...Array.from({ length: VIP_COUNT - v6s.length }, (_, i) => bigIntToIp(0xc612640an + BigInt(i), 4)),
  ...v6s,
]; // 198.18.100.10..18 and the IPv6 ones
const prefix = (vip: Ip): number => (vip.includes(":") ? 128 : 32);

const planFor = (config: Config, state = vrrpStateOf({ vrrpInstances: [], lbNodes: [] })): Plan => ({
  services: [],
  frontends: [],
  backends: [],
  vrrpInstances: planVrrp(vips, config.lbNodes, config.vrrp, state).instances,
  lbNodes: config.lbNodes,
  diagnostics: [],
  settings: {
    haproxy: config.haproxy,
    keepalived: config.keepalived,
    vrrp: config.vrrp,
    healthCheck: config.healthCheck,
  },
});

const masterOf = (plan: Plan, vip: Ip): LbNodeName =>
  plan.vrrpInstances.find((i: VrrpInstance) => i.vips.includes(vip))!.priorities[0]!.lbNode;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await describeWith(
  [
    program("keepalived", ["--version"]),
    program("haproxy", ["-v"]),
    program("ip", ["-V"]),
    program("pgrep", ["-V"]),
    program("perl", ["-v"]),
    program("nft", ["--version"]),
    root,
  ],
  "keepalived lab: 3 LB namespaces, real keepalived and HAProxy",
  () => {
    const lab = new NetnsLab();
    const ns = new Map<string, string>();
    let dir = "";
    let probes = 0;
    let plan: Plan;
    const figures: string[] = [];

    const nodeDir = (name: string) => join(dir, name);
    const pidFile = (name: string) => join(nodeDir(name), "keepalived.pid");
    const haproxyPid = (name: string) => join(nodeDir(name), "haproxy.pid");

    /** The plan as one node renders it: the same plan, with this node's own HAProxy pid file. */
    const renderFor = (p: Plan, name: string): string => {
      const check = { kind: "script" as const, pidFile: haproxyPid(name), intervalS: 1, fall: 2, rise: 2 };
      const own: Plan = { ...p, settings: { ...p.settings, vrrp: { ...p.settings.vrrp, haproxyCheck: check } } };
      return renderKeepalived(own, { node: name as LbNodeName })._unsafeUnwrap();
    };

    const apply = async (p: Plan, name: string) => {
      const r = await applyKeepalived(renderFor(p, name), {
        configPath: join(nodeDir(name), "keepalived.conf"),
        pidFile: pidFile(name),
        vrrpPidFile: join(nodeDir(name), "vrrp.pid"),
        netns: ns.get(name)!,
        timeoutMs: 20_000,
      });
      if (r.isErr()) throw new Error(`${r.error.message} ${r.error.hint ?? ""}`);
      return r.value;
    };

    const startHaproxy = async (name: string) => {
      await must("ip", [
        "netns",
        "exec",
        ns.get(name)!,
        "haproxy",
        "-D",
        "-p",
        haproxyPid(name),
        "-f",
        join(nodeDir(name), "haproxy.cfg"),
      ]);
      // keepalived's check runs as nobody, which must be able to read the pid file.
      await chmod(haproxyPid(name), 0o644);
    };

    const signalFromPidFile = async (file: string, signal: NodeJS.Signals) => {
      const pid = Number((await readFile(file, "utf8")).trim());
      process.kill(pid, signal);
    };

    /** Which namespace holds each VIP right now (`ip addr`), by node name. */
    const holders = async (): Promise<Map<Ip, string[]>> => {
      const out = new Map<Ip, string[]>(vips.map((v) => [v, []]));
      for (const name of NAMES) {
        const n = ns.get(name);
        if (n === undefined) continue;
        const text = await must("ip", ["-n", n, "-o", "addr", "show", "dev", "eth0"]);
        for (const m of text.matchAll(/inet6? (198\.18\.100\.\d+\/32|2001:db8:100::[0-9a-f]+\/128)/g))
          out.get(m[1]!.split("/")[0] as Ip)?.push(name);
      }
      return out;
    };

    /** Wait until every VIP is held by exactly the node `expected` says (bounded). */
    const settle = async (expected: (vip: Ip) => string, what: string): Promise<number> => {
      const t0 = Date.now();
      let last = new Map<Ip, string[]>();
      while (Date.now() - t0 < CAP_MS) {
        last = await holders();
        if (vips.every((v) => last.get(v)?.length === 1 && last.get(v)?.[0] === expected(v))) return Date.now() - t0;
        await sleep(50);
      }
      throw new Error(`${what}: VIPs did not settle within ${CAP_MS} ms: ${JSON.stringify([...last])}`);
    };

    /** Start the client probe, let it reach its loop, run `act`, and return the probe's result and the act time. */
    const measure = async (
      vip: Ip,
      until: string,
      act: () => Promise<void>,
      options: { warmMs?: number; maxMs?: number } = {},
    ): Promise<{ result: VipProbeResult; t0: number }> => {
      const maxMs = options.maxMs ?? CAP_MS;
      const readyFile = join(dir, `probe-${++probes}.ready`);
      const probe = lab.exec(
        ns.get("client")!,
        process.execPath,
        [VIP_PROBE_BIN, vip, PORT, until, String(maxMs), readyFile],
        maxMs + 10_000,
      );
      // The probe must have seen the VIP served before `act`: Node's start inside the namespace
      // takes from a few hundred ms to seconds on a loaded machine, so wait for its signal.
      const waitStart = Date.now();
      while (!existsSync(readyFile) && Date.now() - waitStart < CAP_MS) await sleep(20);
      await sleep(options.warmMs ?? 100);
      const t0 = Date.now();
      await act();
      const out = await probe;
      if (out.isErr()) throw new Error(out.error.message);
      const result = JSON.parse(out.value.stdout.trim().split("\n").at(-1) ?? "{}") as VipProbeResult;
      return { result, t0 };
    };

    const report = (label: string, ms: number, extra = "") => {
      const line = `[keepalived lab] ${label}: ${ms} ms${extra}`;
      figures.push(line);
      process.stdout.write(`${line}\n`);
    };

    /** Wait until exactly `node` holds `vip` (bounded). */
    const heldBy = async (vip: Ip, node: string) => {
      const t0 = Date.now();
      while (Date.now() - t0 < CAP_MS) {
        const on = (await holders()).get(vip) ?? [];
        // A node whose keepalived was killed keeps the VIP: only the survivors count.
        if (on.filter((n) => n !== M()).join() === node) return;
        await sleep(50);
      }
      throw new Error(
        `${vip} is not held by ${node} alone within ${CAP_MS} ms: ${JSON.stringify((await holders()).get(vip))}`,
      );
    };

    /** Remove VIPs a killed keepalived left on its interface (a crashed node keeps them until reboot). */
    const dropLeftovers = async (name: string) => {
      for (const [vip, on] of await holders())
        if (on.includes(name))
          await must("ip", ["-n", ns.get(name)!, "addr", "del", `${vip}/${prefix(vip)}`, "dev", "eth0"]);
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "portico-kalab-"));
      // keepalived runs the HAProxy check as nobody, which must reach the pid files.
      await chmod(dir, 0o755);
      const sw = await lab.add("sw");
      await must("ip", ["-n", sw, "link", "add", "br0", "type", "bridge"]);
      // Plain flooding: VRRPv3 for IPv6 adverts to ff02::12, which MLD snooping might hold back.
      await must("ip", ["-n", sw, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0"]);
      await must("ip", ["-n", sw, "link", "set", "br0", "up"]);
      for (const [i, name] of [...NAMES, "client"].entries()) {
        const n = await lab.add(name);
        ns.set(name, n);
        // No duplicate address detection: link-local addresses (the IPv6 adverts' source) are usable at once.
        for (const scope of ["all", "default"])
          await must("ip", ["netns", "exec", n, "sysctl", "-q", "-w", `net.ipv6.conf.${scope}.accept_dad=0`]);
        const port = `p${i}`;
        await must("ip", ["-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", n]);
        await must("ip", ["-n", sw, "link", "set", port, "master", "br0", "up"]);
        const address = name === "client" ? "198.18.1.100/24" : `198.18.1.${name.slice(2)}/24`;
        await must("ip", ["-n", n, "addr", "add", address, "dev", "eth0"]);
        // An IPv6 address on the segment too, so LB nodes can answer the client over IPv6.
        await must("ip", [
          "-n",
          n,
          "addr",
          "add",
          name === "client" ? "2001:db8:1::100/64" : `2001:db8:1::${name.slice(2)}/64`,
          "dev",
          "eth0",
          "nodad",
        ]);
        await must("ip", ["-n", n, "link", "set", "eth0", "up"]);
      }
      // The client reaches the VIPs on the segment, resolving them by ARP.
      await must("ip", ["-n", ns.get("client")!, "route", "add", "198.18.100.0/24", "dev", "eth0"]);
      await must("ip", ["-n", ns.get("client")!, "-6", "route", "add", "2001:db8:100::/120", "dev", "eth0"]);

      plan = planFor(configFor(NAMES));
      for (const name of NAMES) {
        await mkdir(nodeDir(name), { mode: 0o755 });
        await writeFile(
          join(nodeDir(name), "haproxy.cfg"),
          [
            "global",
            "    log stderr local0 emerg",
            "defaults",
            "    mode http",
            "    timeout connect 1s",
            "    timeout client 5s",
            "    timeout server 5s",
            "frontend who",
            `    bind :${PORT}`,
            `    bind :::${PORT} v6only`,
            `    http-request return status 200 content-type text/plain string ${name}`,
            "",
          ].join("\n"),
        );
        await startHaproxy(name);
        expect(await apply(plan, name)).toBe("started");
      }
      report("initial election (all 3 started)", await settle((v) => masterOf(plan, v), "initial election"));
    }, 120_000);

    afterAll(async () => {
      // Every keepalived and HAProxy this suite started is inside a lab namespace, and
      // deleteNamespace ends what runs there; the pid files say the same, ask them first.
      for (const name of NAMES) {
        for (const file of [pidFile(name), haproxyPid(name)])
          await signalFromPidFile(file, "SIGKILL").catch(() => undefined);
      }
      await lab.destroy();
      if (dir !== "") await rm(dir, { recursive: true, force: true });
      if (figures.length > 0) process.stdout.write(`[keepalived lab] summary\n${figures.join("\n")}\n`);
    }, 60_000);

    describe("1. spread", () => {
      it(`holds ${VIP_COUNT} VIPs ${VIP_COUNT / NAMES.length} per LB namespace, each answering from its planned master`, async () => {
        const held = await holders();
        const counts = NAMES.map((n) => [...held.values()].filter((h) => h.includes(n)).length);
        const cap = masterCapacity(VIP_COUNT, plan.lbNodes);
        expect(counts).toEqual(NAMES.map((n) => cap.get(n as LbNodeName)));
        for (const vip of vips) {
          const { result } = await measure(vip, `is:${masterOf(plan, vip)}`, async () => undefined, { warmMs: 0 });
          expect(result.first?.answer, vip).toBe(masterOf(plan, vip));
        }
      }, 120_000);
    });

    /** The failing node: the master of the first IPv6 VIP, so failures cover both families. */
    const M = (): string => masterOf(plan, v6s[0]!);
    const backupOf = (vip: Ip): string => plan.vrrpInstances.find((i) => i.vips.includes(vip))!.priorities[1]!.lbNode;
    /** An IPv4 VIP mastered by the failing node (it masters 4, at most 3 of them IPv6), and its planned backup. */
    const victim = () => {
      const vip = vips.find((v) => !v.includes(":") && masterOf(plan, v) === M())!;
      return { vip, backup: backupOf(vip) };
    };

    /** Probe the failing node's IPv4 VIP (timed) and its IPv6 VIP (timed too) while `act` runs. */
    const measureBoth = async (act: () => Promise<void>) => {
      const { vip, backup } = victim();
      const v6 = v6s[0]!;
      const six = measure(v6, `not:${M()}`, async () => undefined);
      const four = await measure(vip, `not:${M()}`, act);
      const r6 = await six;
      // The first answer may come from either surviving node for a moment (both backups time out
      // within a few ms of each other); the planned backup must end up holding the VIP alone.
      expect(four.result.first?.answer, `IPv4 ${vip}: ${JSON.stringify(four.result.events)}`).toBeDefined();
      expect(r6.result.first?.answer, `IPv6 ${v6}: ${JSON.stringify(r6.result.events)} t0=${four.t0}`).toBeDefined();
      await heldBy(vip, backup);
      await heldBy(v6, backupOf(v6));
      return {
        four: four.result.first!.t - four.t0,
        six: r6.result.first!.t - four.t0,
        result: four.result,
        t0: four.t0,
      };
    };

    /** The failing node back: wait for its VIPs to return (preempt is on), print how long the return took at the client. */
    const expectReturn = async (label: string, restore: () => Promise<void>) => {
      const { vip } = victim();
      const { result, t0 } = await measure(vip, `is:${M()}`, restore);
      expect(result.first?.answer).toBe(M());
      report(`${label}: return to the master (restore to first answer from it)`, result.first!.t - t0);
      await settle((v) => masterOf(plan, v), `${label} return`);
    };

    describe("2. hard failure", () => {
      it("kill -9 of the master's keepalived: its IPv4 and IPv6 VIPs answer from their backups", async () => {
        const { four, six, result, t0 } = await measureBoth(async () => {
          // The VRRP child first: the parent would otherwise restart it.
          await signalFromPidFile(join(nodeDir(M()), "vrrp.pid"), "SIGKILL");
          await signalFromPidFile(pidFile(M()), "SIGKILL");
        });
        // The probe was running (and answered by the master) before the kill.
        expect(result.events.some((e) => e.t < t0 && e.outcome === `answer:${M()}`)).toBe(true);
        report("kill -9 keepalived on the master -> first TCP answer from the backup (IPv4 VIP)", four);
        report("kill -9 keepalived on the master -> first TCP answer from the backup (IPv6 VIP)", six);
        await dropLeftovers(M());
        await expectReturn("after kill -9", async () => {
          expect(await apply(plan, M())).toBe("started");
        });
      }, 90_000);

      it("link down on the master: its IPv4 and IPv6 VIPs answer from their backups", async () => {
        const { four, six } = await measureBoth(async () => {
          await must("ip", ["-n", ns.get(M())!, "link", "set", "eth0", "down"]);
        });
        report("link down on the master -> first TCP answer from the backup (IPv4 VIP)", four);
        report("link down on the master -> first TCP answer from the backup (IPv6 VIP)", six);
        await expectReturn("after link down", async () => {
          await must("ip", ["-n", ns.get(M())!, "link", "set", "eth0", "up"]);
        });
      }, 90_000);
    });

    describe("3. graceful stop and HAProxy death", () => {
      it("SIGTERM to the master's keepalived: the VIP answers from the backup", async () => {
        const { vip, backup } = victim();
        const { result, t0 } = await measure(vip, `not:${M()}`, async () => {
          await signalFromPidFile(pidFile(M()), "SIGTERM");
        });
        expect(result.first?.answer).toBeDefined();
        await heldBy(vip, backup);
        report("graceful stop (SIGTERM) of the master -> first TCP answer from the backup", result.first!.t - t0);
        // A stopped keepalived takes its VIPs with it.
        const deadline = Date.now() + CAP_MS;
        while ((await runningKeepalived(pidFile(M()))) !== undefined && Date.now() < deadline) await sleep(50);
        expect([...(await holders()).values()].some((h) => h.includes(M()))).toBe(false);
        await expectReturn("after graceful stop", async () => {
          expect(await apply(plan, M())).toBe("started");
        });
      }, 90_000);

      it("HAProxy killed on the master: the node goes to FAULT and the VIP answers from the backup", async () => {
        const { vip, backup } = victim();
        const { result, t0 } = await measure(vip, `not:${M()}`, async () => {
          await signalFromPidFile(haproxyPid(M()), "SIGKILL");
        });
        expect(result.first?.answer).toBeDefined();
        await heldBy(vip, backup);
        // While HAProxy is dead and the master still holds the VIP, connects are refused; the check then
        // notices (2 failures at 1 s) and the master gives the VIP up.
        const refused = result.events.filter((e) => e.outcome === "refused");
        const lastRefusedStart = refused.at(-1)?.t ?? t0;
        const afterRefused =
          result.events.find((e) => e.t > lastRefusedStart && e.outcome !== "refused")?.t ?? result.first!.t;
        report(
          "HAProxy killed on the master -> first TCP answer from the backup",
          result.first!.t - t0,
          ` (refused until ${afterRefused - t0} ms = detection; then ${result.first!.t - afterRefused} ms to the backup's answer)`,
        );
        await expectReturn("after HAProxy death", async () => {
          await startHaproxy(M());
        });
      }, 90_000);
    });

    describe("4. return per the preemption setting", () => {
      it("with preempt: false, a returning master leaves the VIPs where they are", async () => {
        const nopreempt = planFor(configFor(NAMES, { preempt: false }), vrrpStateOf(plan));
        // Same VRIDs, VIPs and priorities: only nopreempt changes.
        expect(nopreempt.vrrpInstances.map((i) => [i.vrid, i.vips, i.priorities])).toEqual(
          plan.vrrpInstances.map((i) => [i.vrid, i.vips, i.priorities]),
        );
        for (const name of NAMES) expect(await apply(nopreempt, name)).toBe("reloaded");
        const { vip, backup } = victim();
        await sleep(500);
        const { result } = await measure(vip, `not:${M()}`, async () => {
          await signalFromPidFile(pidFile(M()), "SIGTERM");
        });
        expect(result.first?.answer).toBeDefined();
        await heldBy(vip, backup);
        const deadline = Date.now() + CAP_MS;
        while ((await runningKeepalived(pidFile(M()))) !== undefined && Date.now() < deadline) await sleep(50);
        expect(await apply(nopreempt, M())).toBe("started");
        // Give the old master far longer than a preemption takes (about 0.4 s here) to show it does not take the VIP back.
        await sleep(3000);
        const held = await holders();
        expect(held.get(vip)).toEqual([backup]);
        // Back to preemption for the next test: the old master takes its VIPs back.
        for (const name of NAMES) expect(await apply(plan, name)).toBe("reloaded");
        await settle((v) => masterOf(plan, v), "preempt again");
      }, 90_000);
    });

    describe("5. forged adverts", () => {
      /** Send `count` forged adverts of priority 254 for the victim's instance to its master, from `src` with `ttl`. */
      const forge = async (src: string, ttl: number, count: number): Promise<void> => {
        const { vip } = victim();
        const inst = plan.vrrpInstances.find((i) => i.vips.includes(vip))!;
        const master = plan.lbNodes.find((n) => n.name === M())!.address;
        const sorted = [...inst.vips].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
        const args = [FORGE, src, master, String(ttl), String(inst.vrid), "254", String(count), "100", ...sorted];
        const out = await lab.exec(ns.get("client")!, "perl", args, 30_000);
        if (out.isErr()) throw new Error(out.error.message);
        expect(out.value.stdout.trim()).toBe(`sent ${count}`);
      };

      /** Forge for 2 s and watch who holds the victim's VIP meanwhile and 1 s after. */
      const holdersWhileForging = async (
        src: string,
        ttl: number,
      ): Promise<{ seen: Set<string>; movedAfterMs?: number }> => {
        const { vip } = victim();
        const seen = new Set<string>();
        const t0 = Date.now();
        let movedAfterMs: number | undefined;
        let forging = true;
        const sending = forge(src, ttl, 20).finally(() => (forging = false));
        while (forging || Date.now() - t0 < 3000) {
          for (const n of (await holders()).get(vip) ?? []) {
            seen.add(n);
            if (n !== M() && movedAfterMs === undefined) movedAfterMs = Date.now() - t0;
          }
          if (!(await holders()).get(vip)?.includes(M()) && movedAfterMs === undefined) movedAfterMs = Date.now() - t0;
          await sleep(50);
        }
        await sending;
        return movedAfterMs === undefined ? { seen } : { seen, movedAfterMs };
      };

      it("a forged advert of priority 254 from a non-peer address leaves the VIP on its master", async () => {
        const { vip } = victim();
        const { seen } = await holdersWhileForging("198.18.1.100", 255);
        expect([...seen], vip).toEqual([M()]);
      }, 60_000);

      it("a forged advert from a peer's address that crossed a router (TTL below 255) leaves the VIP on its master", async () => {
        const { vip, backup } = victim();
        const peer = plan.lbNodes.find((n) => n.name === backup)!.address;
        const { seen } = await holdersWhileForging(peer, 64);
        expect([...seen], vip).toEqual([M()]);
      }, 60_000);

      it("the same advert from a peer's address with TTL 255 is obeyed (the forgery is well formed; filter the link)", async () => {
        const { backup } = victim();
        const peer = plan.lbNodes.find((n) => n.name === backup)!.address;
        const { movedAfterMs } = await holdersWhileForging(peer, 255);
        expect(movedAfterMs).toBeDefined();
        report("forged advert from a peer's own address on the link -> master gives up the VIP", movedAfterMs!);
        // Once the forger stops, the master takes the VIP back.
        await settle((v) => masterOf(plan, v), "after the forged adverts");
      }, 60_000);

      it("with docs/operations.md's nftables filter on the master, the same advert leaves the VIP on it", async () => {
        const { vip, backup } = victim();
        const peer = plan.lbNodes.find((n) => n.name === backup)!.address;
        const macOf = async (name: string) =>
          /link\/ether (\S+)/.exec(await must("ip", ["-n", ns.get(name)!, "-o", "link", "show", "eth0"]))![1]!;
        const others = NAMES.filter((n) => n !== M());
        const peers = plan.lbNodes.filter((n) => n.name !== M()).map((n) => n.address);
        const macs = await Promise.all(others.map(macOf));
        const ruleset = [
          "table inet portico_vrrp {",
          `  set peers4 { type ipv4_addr; elements = { ${peers.join(", ")} } }`,
          `  set peer_macs { type ether_addr; elements = { ${macs.join(", ")} } }`,
          "  chain input {",
          "    type filter hook input priority filter - 10; policy accept;",
          '    iifname "eth0" ip protocol 112 ip saddr != @peers4 drop',
          '    iifname "eth0" ip protocol 112 ip ttl != 255 drop',
          '    iifname "eth0" ip protocol 112 ether saddr != @peer_macs drop',
          '    iifname "eth0" ip6 nexthdr 112 ip6 saddr != fe80::/10 drop',
          '    iifname "eth0" ip6 nexthdr 112 ip6 hoplimit != 255 drop',
          "  }",
          "}",
          "",
        ].join("\n");
        const file = join(dir, "vrrp-filter.nft");
        await writeFile(file, ruleset);
        await must("ip", ["netns", "exec", ns.get(M())!, "nft", "-f", file]);
        try {
          const { seen } = await holdersWhileForging(peer, 255);
          expect([...seen], vip).toEqual([M()]);
          // The peers' own adverts still pass: every VIP stays where the plan puts it.
          await settle((v) => masterOf(plan, v), "with the filter");
        } finally {
          await must("ip", ["netns", "exec", ns.get(M())!, "nft", "delete", "table", "inet", "portico_vrrp"]);
        }
      }, 60_000);
    });

    describe("6. LB node removed", () => {
      it("draining lb3, stopping it and re-applying the others without it moves only lb3's VIPs, once", async () => {
        const before = await holders();
        const drainedConfig = configFor(NAMES);
        const drained = planFor(
          {
            ...drainedConfig,
            lbNodes: drainedConfig.lbNodes.map((n) => (n.name === "lb3" ? { ...n, drain: true } : n)),
          },
          vrrpStateOf(plan),
        );
        const smaller = planFor(configFor(["lb1", "lb2"]), vrrpStateOf(drained));
        const lb3Vips = vips.filter((v) => masterOf(plan, v) === "lb3");
        // The plan: drain moves exactly lb3's VIPs; removing the drained node then moves nothing.
        expect(vips.filter((v) => masterOf(drained, v) !== masterOf(plan, v))).toEqual(lb3Vips);
        expect(vips.filter((v) => masterOf(smaller, v) !== masterOf(drained, v))).toEqual([]);
        // VRIDs stay what keepalived runs.
        expect(smaller.vrrpInstances.map((i) => [i.vrid, i.vips])).toEqual(
          plan.vrrpInstances.map((i) => [i.vrid, i.vips]),
        );

        // Meanwhile the client keeps asking a VIP that stays on lb1: it must answer from lb1 throughout.
        const stays = vips.find((v) => masterOf(plan, v) === "lb1")!;
        const timings: [string, number][] = [];
        const { result } = await measure(
          stays,
          "not:lb1",
          async () => {
            let t0 = Date.now();
            for (const name of NAMES) expect(await apply(drained, name)).toBe("reloaded");
            timings.push(["drain applied on lb1-lb3 (validate, write, SIGHUP each)", Date.now() - t0]);
            timings.push([
              `drain: lb3's ${lb3Vips.length} VIPs held by their new masters after the last SIGHUP`,
              await settle((v) => masterOf(drained, v), "after draining lb3"),
            ]);
            // lb3 holds nothing now; stop it before the others drop it from their peers, or it
            // would stop hearing their adverts and claim their VIPs.
            await signalFromPidFile(pidFile("lb3"), "SIGTERM");
            t0 = Date.now();
            for (const name of ["lb1", "lb2"]) expect(await apply(smaller, name)).toBe("reloaded");
            timings.push(["removal applied on lb1 and lb2", Date.now() - t0]);
          },
          { maxMs: 6000 },
        );
        for (const [label, ms] of timings) report(`lb3 removed: ${label}`, ms);
        await settle((v) => masterOf(smaller, v), "after removing lb3");
        // No other node ever answered for it. A single attempt may time out on a loaded machine
        // (each is capped at 60 ms), so the longest stretch without an answer is printed, not asserted.
        expect(result.first).toBeNull();
        const otherAnswers = result.events.filter((e) => e.outcome.startsWith("answer:") && e.outcome !== "answer:lb1");
        expect(otherAnswers).toEqual([]);
        expect(result.events[0]?.outcome).toBe("answer:lb1");
        const gaps = result.events.map((e, i) =>
          e.outcome === "answer:lb1" ? 0 : (result.events[i + 1]?.t ?? e.t) - e.t,
        );
        report(
          "lb3 removed: longest stretch without an answer from lb1 for a VIP it kept",
          Math.max(0, ...gaps),
          ` (${result.attempts} attempts)`,
        );
        const after = await holders();
        for (const v of vips) if (!lb3Vips.includes(v)) expect(after.get(v), v).toEqual(before.get(v));
      }, 90_000);
    });
  },
);
