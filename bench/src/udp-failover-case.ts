// Figure 13, UDP failover: the lab of the CLI's L4 failover test (packages/cli/test/l4-failover-lab.test.ts):
// one L2 segment (the test kit's l2Segment) of a client, two LB nodes running real keepalived
// (VRRPv3, the default 100 ms adverts) and the real nftables ruleset as Portico renders and applies
// them, and three fake nodes. One VIP carries a UDP Service through `nat` and one through `direct`.
// Two request/response loops run (udp-loop: a new socket per request, 20 source ports cycling, a
// request every 5 ms, each waiting at most 20 ms, so a figure is at most about 25 ms late). The master LB node then dies, `runs` times in
// each of two ways: hung (keepalived killed with SIGKILL, every packet dropped, link up: VRRP's
// failover proper) and link down (keepalived killed, link down: the switch floods the dead node's
// frames). Per run and mode: from the kill to the first answer to a request sent after the node
// was gone, and how many flows answered from another node than before the failure (goal 0). After
// each run the master is restored and takes the VIP back.
// Usage: node udp-failover-case.js <runs>  -> one JSON line.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { applyKeepalived, renderKeepalived, runningKeepalived } from "@portico/adapter-keepalived";
import { applyNftables, renderNftables } from "@portico/adapter-nftables";
import { parseConfig, type LbNodeName, type Plan } from "@portico/core";
import { aConfig, aNode, aService, planOf } from "@portico/core/testing";
import { start } from "@portico/host";
import {
  l2Segment,
  must,
  NetnsLab,
  segmentLbAddress,
  segmentNodeAddress,
  UDP_LOOP_BIN,
  until,
  waitForLine,
  type UdpLoopResult,
} from "@portico/testkit/lab";
import { report, requireTools, sleep, withCleanup, type CaseFigure } from "./_case.js";

const [runs = 0] = process.argv.slice(2).map(Number);
await requireTools([
  ["keepalived", ["--version"]],
  ["haproxy", ["-v"]],
  ["nft", ["--version"]],
  ["ip", ["-V"]],
]);

const VIP = "198.18.100.20";
const PORTS = { nat: 5353, direct: 5354 } as const;
const LBS = ["lb1", "lb2"] as const;
const NODES = ["n1", "n2", "n3"] as const;
const CAP = 20_000;
const DROP_ALL =
  "add table netdev dead; add chain netdev dead in { type filter hook ingress device eth0 priority -500; policy drop; }; " +
  "add table inet dead; add chain inet dead out { type filter hook output priority -500; policy drop; }";

const config = parseConfig({
  ...aConfig({
    pools: [{ name: "default", addresses: [`${VIP}-${VIP}`] }],
    lbNodes: LBS.map((name, i) => ({ name, address: segmentLbAddress(i), interface: "eth0" })),
    vrrp: { vridFirst: 40, vridLast: 80 },
  }),
})._unsafeUnwrap();
const service = (mode: "nat" | "direct", nodePort: number) =>
  aService({
    name: `dns-${mode}`,
    annotations: {
      "portico.dev/data-plane": mode,
      "portico.dev/load-balancer-ips": VIP,
      "portico.dev/allow-shared-ip": "dns",
    },
    ports: [{ name: "dns", port: PORTS[mode], nodePort, protocol: "UDP" }],
  });
const plan: Plan = planOf(
  [...NODES.map((n, i) => aNode(n, segmentNodeAddress(i))), service("nat", 30053), service("direct", 30054)],
  config,
);

await withCleanup(async (cleanups) => {
  const netns = new NetnsLab();
  const dir = await mkdtemp("/tmp/portico-bench-udp-failover-");
  await chmod(dir, 0o755);
  const file = (lb: string, name: string): string => join(dir, lb, name);
  const signal = async (path: string, sig: NodeJS.Signals) =>
    process.kill(Number((await readFile(path, "utf8")).trim()), sig);
  cleanups.push(async () => {
    await netns.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  const net = await l2Segment(netns, LBS, NODES, [VIP], { udp: [30053, PORTS.direct] });
  cleanups.push(async () => {
    for (const lb of LBS)
      for (const f of ["vrrp.pid", "keepalived.pid", "haproxy.pid"])
        await signal(file(lb, f), "SIGKILL").catch(() => undefined);
    await net.stopNodes();
  });
  const nsOf = (lb: string): string => net.lbs.find((l) => l.name === lb)!.ns;
  const [master = "", backup = ""] = plan.vrrpInstances[0]!.priorities.map((p) => p.lbNode as string);
  const holders = async (): Promise<string[]> => {
    const on: string[] = [];
    for (const lb of LBS)
      if ((await must("ip", ["-n", nsOf(lb), "-o", "addr", "show", "dev", "eth0"])).includes(` ${VIP}/32`)) on.push(lb);
    return on;
  };
  const applyVrrp = async (lb: string): Promise<void> => {
    const own: Plan = {
      ...plan,
      settings: {
        ...plan.settings,
        vrrp: {
          ...plan.settings.vrrp,
          haproxyCheck: { kind: "script", pidFile: file(lb, "haproxy.pid"), intervalS: 1, fall: 2, rise: 2 },
        },
      },
    };
    const r = await applyKeepalived(renderKeepalived(own, { node: lb as LbNodeName })._unsafeUnwrap(), {
      configPath: file(lb, "keepalived.conf"),
      pidFile: file(lb, "keepalived.pid"),
      vrrpPidFile: file(lb, "vrrp.pid"),
      netns: nsOf(lb),
      timeoutMs: CAP,
    });
    if (r.isErr()) throw new Error(`${r.error.message} ${r.error.hint ?? ""}`);
  };
  const settle = () => until(`${VIP} on ${master} alone`, async () => (await holders()).join() === master, CAP, 50);
  for (const lb of LBS) {
    await mkdir(join(dir, lb), { mode: 0o755 });
    const cfg = "global\n    log stderr local0 emerg\ndefaults\n    mode tcp\n    timeout connect 1s\n";
    const rest = "    timeout client 5s\n    timeout server 5s\nfrontend idle\n    bind 127.0.0.1:8404\n";
    await writeFile(file(lb, "haproxy.cfg"), cfg + rest);
    await must("ip", [
      "netns",
      "exec",
      nsOf(lb),
      "haproxy",
      "-D",
      "-p",
      file(lb, "haproxy.pid"),
      "-f",
      file(lb, "haproxy.cfg"),
    ]);
    await chmod(file(lb, "haproxy.pid"), 0o644);
    const text = renderNftables(plan, { node: lb as LbNodeName })._unsafeUnwrap();
    const loaded = await applyNftables(text, { netns: nsOf(lb), configPath: file(lb, "nftables.conf"), force: true });
    if (loaded.isErr()) throw new Error(loaded.error.message);
    await applyVrrp(lb);
  }
  await settle();

  const loop = async (mode: keyof typeof PORTS, firstPort: number) => {
    const args = [VIP, PORTS[mode], "fresh", firstPort, 20, 5, 20, 8000, 30_000].map(String);
    const cmd = ["netns", "exec", net.client, process.execPath, UDP_LOOP_BIN, ...args];
    const proc = (await start("ip", cmd, { stdio: "pipe" }))._unsafeUnwrap();
    let out = "";
    proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    const done = proc.exited.then(() => JSON.parse(out.trim().split("\n").pop() ?? "{}") as UdpLoopResult);
    await waitForLine(proc, "ready", CAP);
    return { mode, stop: () => (proc.stdin!.write("stop\n"), done) };
  };
  const deaths = {
    hung: {
      fail: () => must("ip", ["netns", "exec", nsOf(master), "nft", DROP_ALL]),
      mend: () =>
        must("ip", ["netns", "exec", nsOf(master), "nft", "delete table netdev dead; delete table inet dead"]),
    },
    "link down": {
      fail: () => must("ip", ["-n", nsOf(master), "link", "set", "eth0", "down"]),
      mend: () => must("ip", ["-n", nsOf(master), "link", "set", "eth0", "up"]),
    },
  } as const;
  const resumed: Record<string, number[]> = {};
  const moved: Record<string, number[]> = {};
  for (let r = 0; r < runs; r++)
    for (const [death, how] of Object.entries(deaths)) {
      const loops = [await loop("nat", 41000), await loop("direct", 43000)];
      await sleep(1_000);
      const t0 = Date.now();
      await signal(file(master, "vrrp.pid"), "SIGKILL");
      await signal(file(master, "keepalived.pid"), "SIGKILL");
      await how.fail();
      const gone = Date.now();
      await until(`${VIP} on ${backup}`, async () => (await holders()).includes(backup), CAP, 20);
      await sleep(1_000);
      for (const l of loops) {
        const result = await l.stop();
        const answered = result.answers.filter((a) => a.timeout === undefined);
        const before = new Map(answered.filter((a) => a.at! < t0).map((a) => [a.sport, a.node]));
        const after = answered.filter((a) => a.sentAt > gone);
        if (after.length === 0) throw new Error(`${l.mode}: no answer after the failure (${death})`);
        const key = `${l.mode}, ${death}`;
        (resumed[key] ??= []).push(after[0]!.at! - t0);
        (moved[key] ??= []).push(after.filter((a) => before.get(a.sport) !== a.node).length);
      }
      await how.mend();
      await until(
        "keepalived gone",
        async () => (await runningKeepalived(file(master, "keepalived.pid"))) === undefined,
      );
      if ((await holders()).includes(master))
        await must("ip", ["-n", nsOf(master), "addr", "del", `${VIP}/32`, "dev", "eth0"]);
      await applyVrrp(master);
      await settle();
    }
  const advert = config.vrrp.advertIntMs;
  const figures: CaseFigure[] = [];
  for (const key of Object.keys(resumed)) {
    const hung = key.endsWith("hung");
    figures.push({
      name: `13. UDP failover (${key}): kill -9 of the master -> next answer (advert ${advert} ms)`,
      values: resumed[key]!,
      unit: "ms",
      ...(hung ? { goal: "< 350 ms" } : {}),
    });
    figures.push({
      name: `13. UDP failover (${key}): flows answered by another node than before`,
      values: moved[key]!,
      unit: "",
      goal: "0",
    });
  }
  report({ figures });
});
