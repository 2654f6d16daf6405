// Figure 14, LB-node CPU per 10k requests/s through `proxy`, `nat` and `direct`. Softirq work is
// not counted per network namespace, so the LB node gets a CPU of its own: on one L2 segment (the
// test kit's l2Segment: client, one LB node, one fake node), the LB's eth0 steers every packet it
// receives to CPU 1 (RPS), every other device (the client's, the nodes', the bridge ports) to CPU 0;
// the load tool and the fake nodes are pinned to CPU 0, HAProxy (one thread) to CPU 1. A veth hands
// a packet to its peer's receive queue, so what the LB node does with a packet (netdev ingress,
// conntrack, NAT, forwarding, its TCP stack for HAProxy, sending on) runs on CPU 1, in the softirq
// of that queue or in HAProxy's own system calls. This kernel samples softirq time by the tick
// (no IRQ_TIME_ACCOUNTING) and stops the tick on an idle CPU, so CPU 1 is kept from idling by a
// spinner of the lowest priority (SCHED_IDLE, preempted by anything): the tick then samples CPU 1
// 250 times a second, and waking an idle virtual CPU for each packet (a cost of this lab's veth
// and RPS, not of the data plane) stays out of the figure. The LB's cost in a round is CPU 1's
// system + irq + softirq time (/proc/stat) plus HAProxy's user time (/proc/<worker>/stat), less
// CPU 1's the same during a baseline run just before it: the same load sent straight to one node
// (no LB hop), which counts what else ran on CPU 1 meanwhile (other processes' system calls). Divided by the rate of answered requests, per 10k requests/s. A routed hop (the
// LB node's plain IP forwarding, no rule of Portico's, replies straight back as in direct) is
// measured the same way: the floor a packet costs CPU 1 in this lab. A second view in the same
// run puts everything on CPU 0 (no packet handed between CPUs; see the end of this file). The same load tool
// for each mode: load.js (TCP: 16 in flight, each connect, a line, the answer, close) and
// udp-load.js (16 in flight, a new socket per request), the modes in turn, each after its baseline.
// Usage: node lb-cpu-case.js <rounds> <ms>  -> one JSON line.
import { readFile } from "node:fs/promises";
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
  ["chrt", ["--version"]],
]);

// One node: every load, the baseline's too, ends at the same fake node, so the node's own cost per
// request is the same in each and falls out of the difference.
const NODES = ["n1"] as const;
const [TCP_PORT, TCP_NODE_PORT, UDP_PORT, UDP_NODE_PORT, HEALTH] = [80, 30080, 53, 30053, 32100];
/** Where the routed hop reaches the first node: an address on its lo, routed through the LB node. */
const ROUTED = "198.18.41.11";
/**
 * Each load: where it goes, over which protocol, and the Service's data plane (absent: the
 * baseline, straight to a node, or with `hop` the LB node's plain IP forwarding, no Portico rule).
 */
const LOADS = [
  { name: "TCP baseline", proto: "tcp", host: segmentNodeAddress(0), port: TCP_NODE_PORT },
  { name: "TCP routed hop", proto: "tcp", host: ROUTED, port: TCP_NODE_PORT, hop: true },
  { name: "TCP proxy", proto: "tcp", host: "198.18.100.30", port: TCP_PORT, mode: "proxy" },
  { name: "TCP nat", proto: "tcp", host: "198.18.100.31", port: TCP_PORT, mode: "nat" },
  { name: "TCP direct", proto: "tcp", host: "198.18.100.32", port: TCP_PORT, mode: "direct" },
  { name: "UDP baseline", proto: "udp", host: segmentNodeAddress(0), port: UDP_NODE_PORT },
  { name: "UDP routed hop", proto: "udp", host: ROUTED, port: UDP_NODE_PORT, hop: true },
  { name: "UDP nat", proto: "udp", host: "198.18.100.33", port: UDP_PORT, mode: "nat" },
  { name: "UDP direct", proto: "udp", host: "198.18.100.34", port: UDP_PORT, mode: "direct" },
] as const;
type Load = (typeof LOADS)[number];

/** A CPU's system + irq + softirq time in clock ticks. */
const cpuKernel = async (cpu: number): Promise<number> => {
  const line = (await readFile("/proc/stat", "utf8")).split("\n").find((l) => l.startsWith(`cpu${cpu} `)) ?? "";
  const [, , system = 0, , , irq = 0, softirq = 0] = line.split(/\s+/).slice(1).map(Number);
  return system + irq + softirq;
};
/**
 * A process's user time in clock ticks (field 14 of /proc/<pid>/stat). Not its system time: a
 * tick that finds a softirq running in the process's context is charged to both the process's
 * system time and the CPU's softirq time, and the CPU's is counted already.
 */
const userTicks = async (pid: number): Promise<number> => {
  const text = await readFile(`/proc/${pid}/stat`, "utf8");
  return Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[11]);
};
/** Clock ticks per second (USER_HZ). */
const HZ = Number((await run("getconf", ["CLK_TCK"]))._unsafeUnwrap().stdout.trim()) || 100;

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
  // Closed TCP flows through nat would otherwise fill the LB's conntrack table for 120 s each.
  await must("ip", ["netns", "exec", lb, "sysctl", "-q", "-w", "net.netfilter.nf_conntrack_tcp_timeout_time_wait=2"]);

  const hap = drained(
    (
      await start(
        "ip",
        ["netns", "exec", lb, "taskset", "-c", "1", "haproxy", "-W", "-S", paths.masterSocket, "-f", paths.configPath],
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

  // Packet steering: the LB node's receive work on CPU 1, everyone else's on CPU 0.
  const rps = (ns: string, dev: string, mask: string) =>
    must("ip", [
      "netns",
      "exec",
      ns,
      process.execPath,
      "-e",
      "require('node:fs').writeFileSync(process.argv[1], process.argv[2])",
      `/sys/class/net/${dev}/queues/rx-0/rps_cpus`,
      mask,
    ]);
  await rps(lb, "eth0", "2");
  await rps(net.client, "eth0", "1");
  for (const n of net.nodes) {
    await rps(n.ns, "eth0", "1");
    await must("taskset", ["-a", "-p", "1", String(n.proc.pid)]);
  }
  for (const port of ["p-cl", "p-lb1", ...NODES.map((n) => `p-${n}`)]) await rps(net.sw, port, "1");

  // CPU 1 never idles (see above); bounded, and stopped on cleanup.
  const spinMs = (rounds * LOADS.length * 4 * (ms + 2_000) + 60_000).toFixed(0);
  const spin = `const end = Date.now() + ${spinMs}; while (Date.now() < end);`;
  const spinner = (
    await start("taskset", ["-c", "1", "chrt", "--idle", "0", process.execPath, "-e", spin], { stdio: "pipe" })
  )._unsafeUnwrap();
  cleanups.push(() => spinner.stop("SIGKILL"));

  const load = async (l: Load, forMs: number) => {
    const tool = benchProgram(l.proto === "tcp" ? "load" : "udp-load");
    const args = [tool, l.host, String(l.port), String(forMs), "16", "10000000"];
    const out = await must(
      "ip",
      ["netns", "exec", net.client, "taskset", "-c", "0", process.execPath, ...args],
      forMs + 30_000,
    );
    return JSON.parse(out.trim().split("\n").pop() ?? "") as { ok: number; failed: number; ms: number; userUs: number };
  };
  for (const l of LOADS) {
    const r = await load(l, 300);
    if (r.ok === 0 || r.failed > 0) throw new Error(`${l.name}: ${JSON.stringify(r)} in a first short run`);
  }

  /** One round of one load: answered requests per second and the LB's cores (CPU 1's kernel time, HAProxy's user time). */
  const measure = async (l: Load) => {
    const [k0, u0] = [await cpuKernel(1), await userTicks(worker)];
    const r = await load(l, ms);
    const [k1, u1] = [await cpuKernel(1), await userTicks(worker)];
    const s = r.ms / 1000;
    return { rate: r.ok / s, failed: r.failed, cores: (k1 - k0 + (u1 - u0)) / HZ / s, haproxy: (u1 - u0) / HZ / s };
  };
  const per10k: Record<string, number[]> = {};
  const haproxyPer10k: number[] = [];
  const rates: Record<string, number[]> = {};
  const baselineCores: Record<string, number[]> = {};
  const failed: Record<string, number> = {};
  for (let round = 0; round < rounds; round++)
    for (const l of LOADS) {
      if (!("mode" in l) && !("hop" in l)) continue;
      // The baseline right before each load: what else runs on CPU 1 changes from second to second.
      const baseline = LOADS.find((b) => b.proto === l.proto && !("mode" in b) && !("hop" in b))!;
      const b = await measure(baseline);
      const m = await measure(l);
      for (const [x, r] of [
        [baseline, b],
        [l, m],
      ] as const) {
        (rates[x.name] ??= []).push(r.rate);
        failed[x.name] = (failed[x.name] ?? 0) + r.failed;
      }
      (baselineCores[l.proto] ??= []).push(b.cores);
      (per10k[l.name] ??= []).push(((m.cores - b.cores) * 10_000) / m.rate);
      if ("mode" in l && l.mode === "proxy") haproxyPer10k.push((m.haproxy * 10_000) / m.rate);
    }
  const median = (xs: readonly number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const ratio = (a: string, b: string): number[] => {
    const m = median(per10k[b]!);
    return m > 0 ? [median(per10k[a]!) / m] : [];
  };
  const figures: CaseFigure[] = [];
  for (const [name, values] of Object.entries(per10k))
    figures.push({ name: `14. LB CPU per 10k requests/s, ${name} (cores)`, values, unit: "" });
  figures.push({ name: "14. of which HAProxy's own user time, TCP proxy (cores)", values: haproxyPer10k, unit: "" });
  for (const [name, values] of Object.entries(rates))
    figures.push({ name: `14. requests/s answered, ${name}`, values, unit: "req/s" });
  for (const [proto, values] of Object.entries(baselineCores))
    figures.push({
      name: `14. CPU 1 system + irq + softirq during the ${proto.toUpperCase()} baseline (not the LB's, cores)`,
      values,
      unit: "",
    });
  const ratios: [string, string, string, string?][] = [
    ["TCP proxy", "TCP direct", "TCP: proxy / direct LB CPU per request", ">= 5"],
    ["TCP proxy", "TCP nat", "TCP: proxy / nat LB CPU per request"],
    ["TCP nat", "TCP direct", "TCP: nat / direct LB CPU per request"],
    ["UDP nat", "UDP direct", "UDP: nat / direct LB CPU per request"],
    ["TCP direct", "TCP routed hop", "TCP: direct / routed hop LB CPU per request"],
    ["UDP direct", "UDP routed hop", "UDP: direct / routed hop LB CPU per request"],
  ];
  for (const [a, b, name, goal] of ratios) {
    const values = ratio(a, b);
    if (values.length > 0)
      figures.push({ name: `14. ${name} (medians)`, values, unit: "x", ...(goal ? { goal } : {}) });
  }
  // The second view: everything on CPU 0 (every device's RPS, HAProxy too), no packet handed
  // between CPUs. A request's CPU is CPU 0's system + irq + softirq time plus the user time of the
  // load tool (its own count), the fake nodes and HAProxy; the LB's part is a mode's per request
  // less the baseline's just before it, at 10k requests/s.
  await rps(lb, "eth0", "1");
  for (const pid of [hap.pid, worker]) await must("taskset", ["-a", "-p", "1", String(pid)]);
  const users = async (): Promise<number> => {
    let sum = await userTicks(worker);
    for (const n of net.nodes) sum += await userTicks(n.proc.pid);
    return sum;
  };
  const perRequest = async (l: Load) => {
    const [k0, u0] = [await cpuKernel(0), await users()];
    const r = await load(l, ms);
    const [k1, u1] = [await cpuKernel(0), await users()];
    return { seconds: (k1 - k0 + (u1 - u0)) / HZ / r.ok + r.userUs / 1e6 / r.ok, failed: r.failed };
  };
  const oneCpu: Record<string, number[]> = {};
  for (let round = 0; round < rounds; round++)
    for (const l of LOADS) {
      if (!("mode" in l) && !("hop" in l)) continue;
      const baseline = LOADS.find((b) => b.proto === l.proto && !("mode" in b) && !("hop" in b))!;
      const b = await perRequest(baseline);
      const m = await perRequest(l);
      failed[`${l.name}, one CPU`] = (failed[`${l.name}, one CPU`] ?? 0) + m.failed + b.failed;
      (oneCpu[l.name] ??= []).push((m.seconds - b.seconds) * 10_000);
    }
  for (const [name, values] of Object.entries(oneCpu))
    figures.push({ name: `14. one CPU: LB CPU per 10k requests/s, ${name} (cores)`, values, unit: "" });
  for (const [a, b, name, goal] of ratios) {
    const m = median(oneCpu[b]!);
    if (m > 0)
      figures.push({
        name: `14. one CPU: ${name} (medians)`,
        values: [median(oneCpu[a]!) / m],
        unit: "x",
        ...(goal ? { goal } : {}),
      });
  }
  report({ figures, details: { failed, hz: HZ } });
});
