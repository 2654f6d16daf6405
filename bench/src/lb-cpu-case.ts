// Figure 14, LB-node CPU per 10k requests/s through `proxy`, `nat` and `direct`, for the same short
// TCP request/response load (and UDP through `nat` and `direct`). On one L2 segment (the test kit's
// l2Segment: client, one LB node, one fake node), every veth end receives in NAPI thread of its own
// (GRO on, TSO and GSO off so every packet takes that path, `threaded` on): what a device's
// packets cost on receive (for the LB node's eth0: netdev ingress and Portico's rules, conntrack,
// NAT, forwarding, its TCP stack for HAProxy, and sending on to the next device) runs in that
// device's kernel thread, whose CPU time the kernel counts exactly (sum_exec_runtime, in ns, from
// /proc/<pid>/schedstat). The LB node's CPU is the CPU time of its eth0's NAPI thread plus every
// thread of HAProxy (its system calls send in its own context). Nothing is subtracted, no CPU time
// is sampled by the tick, and another program running meanwhile enters no figure. Every task of
// the lab (the load tool, the fake node, HAProxy, every NAPI thread) runs on CPU 0, so no wake-up
// crosses CPUs: in this VM a packet handed to another virtual CPU costs an inter-processor
// interrupt (exits to the hypervisor on both sides) that dwarfs the work itself, and a NIC's own
// queue would not. Each load also checks that its packets took the NAPI path (the veth's
// rx_queue_0_xdp_packets count against rx_packets). A routed hop (the LB node's plain IP
// forwarding, no rule of Portico's, replies straight back as in direct) is measured the same way:
// the floor a forwarded packet costs. The same load tool for each mode: load.js (TCP: 16 in
// flight, each connect, a line, the answer, close) and udp-load.js (16 in flight, a new socket per
// request), the modes in turn, each round.
// Usage: node lb-cpu-case.js <rounds> <ms>  -> one JSON line.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { applyHaproxy, parseShowProc, sendCommand } from "@portico/adapter-haproxy";
import { applyNftables, renderNftables } from "@portico/adapter-nftables";
import { type LbNodeName } from "@portico/core";
import { aNode, aParsedConfig, aService, planOf } from "@portico/core/testing";
import { run, start } from "@portico/host";
import { l2Segment, must, NetnsLab, segmentLbAddress, segmentNodeAddress, until } from "@portico/testkit/lab";
import { benchProgram, drained, report, requireTools, withCleanup, type CaseFigure } from "./_case.js";

const [rounds = 0, ms = 0] = process.argv.slice(2).map(Number);
await requireTools([
  ["haproxy", ["-v"]],
  ["nft", ["--version"]],
  ["ip", ["-V"]],
  ["taskset", ["--version"]],
  ["ethtool", ["--version"]],
]);

// One node, so each request's packets cross the LB node the same way in every mode.
const NODES = ["n1"] as const;
const [TCP_PORT, TCP_NODE_PORT, UDP_PORT, UDP_NODE_PORT, HEALTH] = [80, 30080, 53, 30053, 32100];
/** Where the routed hop reaches the first node: an address on its lo, routed through the LB node. */
const ROUTED = "198.18.41.11";
/**
 * Each load: where it goes, over which protocol, and the Service's data plane (or `hop`: the LB
 * node's plain IP forwarding, no Portico rule).
 */
const LOADS = [
  { name: "TCP routed hop", proto: "tcp", host: ROUTED, port: TCP_NODE_PORT, hop: true },
  { name: "TCP proxy", proto: "tcp", host: "198.18.100.30", port: TCP_PORT, mode: "proxy" },
  { name: "TCP nat", proto: "tcp", host: "198.18.100.31", port: TCP_PORT, mode: "nat" },
  { name: "TCP direct", proto: "tcp", host: "198.18.100.32", port: TCP_PORT, mode: "direct" },
  { name: "UDP routed hop", proto: "udp", host: ROUTED, port: UDP_NODE_PORT, hop: true },
  { name: "UDP nat", proto: "udp", host: "198.18.100.33", port: UDP_PORT, mode: "nat" },
  { name: "UDP direct", proto: "udp", host: "198.18.100.34", port: UDP_PORT, mode: "direct" },
] as const;
type Load = (typeof LOADS)[number];

/**
 * A process's CPU time in ns, exact: the sum over its threads of sum_exec_runtime (the first field
 * of /proc/<pid>/task/<tid>/schedstat), which includes the softirq work run in its context.
 */
const taskNs = async (pid: number): Promise<number> => {
  let sum = 0;
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[]))
    sum += Number((await readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8").catch(() => "0")).split(" ")[0]);
  return sum;
};
/** The pids of the kernel's NAPI threads (`napi/<device>-<id>`). */
const napiThreads = async (): Promise<Set<number>> => {
  const out = new Set<number>();
  for (const d of await readdir("/proc"))
    if (/^\d+$/.test(d) && (await readFile(`/proc/${d}/comm`, "utf8").catch(() => "")).startsWith("napi/"))
      out.add(Number(d));
  return out;
};
/** A statistic of `ethtool -S` of a device in a namespace. */
const ethtoolStat = async (ns: string, dev: string, name: string): Promise<number> => {
  const out = await must("ip", ["netns", "exec", ns, "ethtool", "-S", dev]);
  const line = out.split("\n").find((l) => l.trim().startsWith(`${name}:`));
  if (line === undefined) throw new Error(`ethtool -S ${dev} has no ${name}`);
  return Number(line.split(":")[1]);
};

await withCleanup(async (cleanups) => {
  const netns = new NetnsLab();
  cleanups.push(() => netns.destroy());
  const vips = LOADS.flatMap((l) => ("mode" in l ? [l.host] : []));
  const net = await l2Segment(netns, ["lb1"], NODES, vips, {
    tcp: [TCP_NODE_PORT, TCP_PORT],
    udp: [UDP_NODE_PORT, UDP_PORT],
    health: [HEALTH],
  });
  cleanups.push(() => net.stopNodes());
  const lb = net.lbs[0]!.ns;
  const dir = join("/tmp", `${netns.prefix}bench-cpu`);
  await must("mkdir", ["-p", dir]);
  cleanups.push(async () => {
    await run("rm", ["-rf", dir]);
  });
  // The VIPs are the LB node's, as keepalived makes them on the master.
  for (const v of vips) await must("ip", ["-n", lb, "addr", "add", `${v}/32`, "dev", "eth0"]);

  const paths = {
    configPath: join(dir, "haproxy.cfg"),
    statsSocket: join(dir, "admin.sock"),
    masterSocket: join(dir, "master.sock"),
    threads: 1,
  };
  const config = aParsedConfig({
    pools: [{ name: "bench", addresses: ["198.18.100.30-198.18.100.39"] }],
    lbNodes: [{ name: "lb1", address: segmentLbAddress(0), interface: "eth0" }],
    healthCheck: { kubeProxyPort: HEALTH },
    haproxy: paths,
  });
  const plan = planOf(
    [
      ...NODES.map((n, i) => aNode(n, segmentNodeAddress(i))),
      ...LOADS.flatMap((l) =>
        "mode" in l
          ? [
              aService({
                name: l.name.toLowerCase().replace(" ", "-"),
                annotations: { "portico.dev/load-balancer-ips": l.host, "portico.dev/data-plane": l.mode },
                ports: [
                  {
                    name: "p",
                    port: l.port,
                    nodePort: l.proto === "tcp" ? TCP_NODE_PORT : UDP_NODE_PORT,
                    protocol: l.proto.toUpperCase(),
                  },
                ],
              }),
            ]
          : [],
      ),
    ],
    config,
  );
  const bad = plan.services.find((s) => s.state !== "ready");
  if (bad !== undefined) throw new Error(`not planned: ${JSON.stringify(plan.diagnostics.slice(0, 3))}`);
  const written = await applyHaproxy(plan);
  if (written.isErr()) throw new Error(written.error.message);
  const rules = renderNftables(plan, { node: "lb1" as LbNodeName })._unsafeUnwrap();
  const loaded = await applyNftables(rules, { netns: lb, configPath: join(dir, "nftables.conf"), force: true });
  if (loaded.isErr()) throw new Error(loaded.error.message);
  // conntrack keeps its own timeouts: a closed flow through nat stays 120 s, longer than the fake
  // node's TIME_WAIT (60 s), so a source port the client reuses is never a new flow to conntrack and
  // an old one to the node (with a shorter time_wait here, 3 of 10k connections stalled). A full run
  // stays far below nf_conntrack_max.

  const hap = drained(
    (
      await start(
        "ip",
        ["netns", "exec", lb, "taskset", "-c", "0", "haproxy", "-W", "-S", paths.masterSocket, "-f", paths.configPath],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap(),
  );
  cleanups.push(() => hap.stop("SIGTERM", 3_000));
  let worker = 0;
  await until(
    "an haproxy worker",
    async () => {
      const r = await sendCommand(paths.masterSocket, { kind: "show-proc" });
      worker = r.isOk() ? (parseShowProc(r.value)?.workers[0]?.pid ?? 0) : 0;
      return worker > 0;
    },
    15_000,
    20,
  );

  // The routed hop: the client reaches ROUTED through the LB node, which forwards it to the first
  // node (the reply goes straight back, as in direct); no redirect may send the client around it.
  await must("ip", ["-n", net.nodes[0]!.ns, "addr", "add", `${ROUTED}/32`, "dev", "lo"]);
  await must("ip", ["-n", net.client, "route", "add", `${ROUTED}/32`, "via", segmentLbAddress(0)]);
  await must("ip", ["-n", lb, "route", "add", `${ROUTED}/32`, "via", segmentNodeAddress(0)]);
  for (const dev of ["all", "eth0"])
    await must("ip", ["netns", "exec", lb, "sysctl", "-q", "-w", `net.ipv4.conf.${dev}.send_redirects=0`]);
  await must("ip", ["netns", "exec", net.client, "sysctl", "-q", "-w", "net.ipv4.conf.all.accept_redirects=0"]);

  // Every veth end receives in a NAPI thread of its own, on CPU 0 (see above).
  const napi = new Map<string, number>();
  const threaded = async (ns: string, dev: string): Promise<void> => {
    await must("ip", ["netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "on"]);
    const before = await napiThreads();
    await must("ip", [
      "netns",
      "exec",
      ns,
      process.execPath,
      "-e",
      "require('node:fs').writeFileSync(process.argv[1], '1')",
      `/sys/class/net/${dev}/threaded`,
    ]);
    const made = [...(await napiThreads())].filter((p) => !before.has(p));
    if (made.length !== 1) throw new Error(`${ns} ${dev}: ${made.length} new NAPI threads, not 1`);
    await must("taskset", ["-p", "1", String(made[0])]);
    napi.set(`${ns} ${dev}`, made[0]!);
  };
  for (const ns of [net.client, lb, ...net.nodes.map((n) => n.ns)]) await threaded(ns, "eth0");
  for (const port of ["p-cl", "p-lb1", ...NODES.map((n) => `p-${n}`)]) await threaded(net.sw, port);
  for (const n of net.nodes) await must("taskset", ["-a", "-p", "1", String(n.proc.pid)]);
  const lbNapi = napi.get(`${lb} eth0`)!;

  const load = async (l: Load, forMs: number) => {
    const tool = benchProgram(l.proto === "tcp" ? "load" : "udp-load");
    const args = [tool, l.host, String(l.port), String(forMs), "16", "10000000"];
    const out = await must(
      "ip",
      ["netns", "exec", net.client, "taskset", "-c", "0", process.execPath, ...args],
      forMs + 30_000,
    );
    return JSON.parse(out.trim().split("\n").pop() ?? "") as {
      ok: number;
      failed: number;
      ms: number;
      errors?: string[];
    };
  };
  for (const l of LOADS) {
    const r = await load(l, 300);
    if (r.ok === 0 || r.failed > 0) throw new Error(`${l.name}: ${JSON.stringify(r)} in a first short run`);
  }

  /** The LB node's CPU time in ns: its eth0's NAPI thread and every thread of HAProxy. */
  const lbNs = async () => (await taskNs(lbNapi)) + (await taskNs(hap.pid)) + (await taskNs(worker));
  /** What every packet the LB node received took: the NAPI path (so its cost is in lbNapi's time). */
  const lbReceived = async () => ({
    all: Number(await must("ip", ["netns", "exec", lb, "cat", "/sys/class/net/eth0/statistics/rx_packets"])),
    napi: await ethtoolStat(lb, "eth0", "rx_queue_0_xdp_packets"),
  });
  /** One round of one load: answered requests per second and the LB node's ns per request. */
  const measure = async (l: Load) => {
    const [c0, h0, p0] = [await lbNs(), await taskNs(worker), await lbReceived()];
    const r = await load(l, ms);
    const [c1, h1, p1] = [await lbNs(), await taskNs(worker), await lbReceived()];
    return {
      rate: r.ok / (r.ms / 1000),
      failed: r.failed,
      errors: r.errors ?? [],
      ns: (c1 - c0) / r.ok,
      haproxyNs: (h1 - h0) / r.ok,
      packets: (p1.all - p0.all) / r.ok,
      received: p1.all - p0.all,
      offPath: p1.all - p0.all - (p1.napi - p0.napi),
    };
  };
  const per10k: Record<string, number[]> = {};
  const haproxyPer10k: number[] = [];
  const rates: Record<string, number[]> = {};
  const packets: Record<string, number[]> = {};
  const failed: Record<string, number> = {};
  const errors: Record<string, string[]> = {};
  let [offPath, received] = [0, 0];
  for (let round = 0; round < rounds; round++)
    for (const l of LOADS) {
      const m = await measure(l);
      (rates[l.name] ??= []).push(m.rate);
      (packets[l.name] ??= []).push(m.packets);
      failed[l.name] = (failed[l.name] ?? 0) + m.failed;
      if (m.errors.length > 0) (errors[l.name] ??= []).push(...m.errors);
      offPath += m.offPath;
      received += m.received;
      // ns per request x 10k requests/s = ns of CPU per second: cores.
      (per10k[l.name] ??= []).push((m.ns * 10_000) / 1e9);
      if ("mode" in l && l.mode === "proxy") haproxyPer10k.push((m.haproxyNs * 10_000) / 1e9);
    }
  // The two counters are read one after the other, and HAProxy's health checks go on meanwhile, so
  // a few packets may fall between them; more than 1 in 10k would mean a path this figure misses.
  if (Math.abs(offPath) > received / 10_000)
    throw new Error(`${offPath} of ${received} packets reached the LB node outside its NAPI thread`);
  const median = (xs: readonly number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const figures: CaseFigure[] = [];
  for (const [name, values] of Object.entries(per10k))
    figures.push({ name: `14. LB CPU per 10k requests/s, ${name} (cores)`, values, unit: "" });
  figures.push({ name: "14. of which HAProxy's threads, TCP proxy (cores)", values: haproxyPer10k, unit: "" });
  for (const [name, values] of Object.entries(rates))
    figures.push({ name: `14. requests/s answered, ${name}`, values, unit: "req/s" });
  for (const [name, values] of Object.entries(packets))
    figures.push({ name: `14. packets the LB node received per request, ${name}`, values, unit: "" });
  const ratios: [string, string, string, string?][] = [
    ["TCP proxy", "TCP direct", "TCP: proxy / direct LB CPU per request", ">= 5"],
    ["TCP proxy", "TCP nat", "TCP: proxy / nat LB CPU per request"],
    ["TCP nat", "TCP direct", "TCP: nat / direct LB CPU per request"],
    ["UDP nat", "UDP direct", "UDP: nat / direct LB CPU per request"],
    ["TCP direct", "TCP routed hop", "TCP: direct / routed hop LB CPU per request"],
    ["UDP direct", "UDP routed hop", "UDP: direct / routed hop LB CPU per request"],
  ];
  for (const [a, b, name, goal] of ratios) {
    const [x, y] = [per10k[a], per10k[b]];
    if (x !== undefined && y !== undefined && median(y) > 0)
      figures.push({
        name: `14. ${name} (medians)`,
        values: [median(x) / median(y)],
        unit: "x",
        ...(goal ? { goal } : {}),
      });
  }
  report({
    figures,
    details: {
      failed,
      errors,
      drops: Object.fromEntries(
        await Promise.all(
          [...napi.keys()].map(async (k) => {
            const [ns, dev] = k.split(" ") as [string, string];
            return [k, await ethtoolStat(ns, dev, "rx_queue_0_drops")] as const;
          }),
        ),
      ),
      received,
      offPath,
      napiThreads: Object.fromEntries(napi),
    },
  });
});
