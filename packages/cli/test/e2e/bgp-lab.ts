import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { applyBird, readBirdProtocols, renderBird } from "@portico/adapter-bird";
import { applyHaproxy, parseShowProc, sendCommand } from "@portico/adapter-haproxy";
import { parseConfig, type Config, type Ip, type LbNodeName, type Plan } from "@portico/core";
import { aNode, aService, planOf } from "@portico/core/testing";
import { run, start, type Started } from "@portico/host";
// The lab entry (built), so the benchmark that bundles this file runs it too.
import { FAKE_NODE_BIN, must, NetnsLab, until, waitForLine } from "@portico/testkit/lab";

// A router namespace running BIRD (ECMP into its kernel table, 5-tuple hashing), a client behind
// it, and LB namespaces running HAProxy and BIRD as Portico renders them, peering with the router
// over one bridge:
//   cl 198.18.10.2 --- 198.18.10.1 rt br0 198.18.1.254 --- 198.18.1.<i> lb<i> (VIPs on lo)
//   lb<i> 198.18.21.1 --- 198.18.21.2 b<i>: a fake node that answers with its name, lb<i>
// Every LB node's plan puts the one node w1 at 198.18.21.2; each LB namespace has its own fake
// node there, so the client's answers say which LB node a flow went through.
// With `nodes` (for the L4 data plane, which `direct` needs on one L2 segment), fake nodes on the
// router's bridge too, the VIPs on their lo (arp_ignore=1, arp_announce=2, as kube-proxy's
// strictARP has it), their default route the router's, so a reply goes straight to the client:
//   n<i> 198.18.1.<10+i> on br0: health on HEALTH_PORT, a held-flow echo on L2_PORT
// The router runs BIRD, or FRR (zebra, bfdd, bgpd as docs/operations.md configures them).

/** The VIP of the lab's Service, and a second one for reconfiguration tests. */
export const VIP = "198.18.100.10";
export const NODE_PORT = 30080;
const HEALTH_PORT = 32100;

/** The port the L2 nodes' held-flow server listens on (`direct`: the Service port itself). */
export const L2_PORT = 80;
/** The address of the `i`th (0-based) fake node on the router's bridge. */
export const l2NodeAddress = (i: number): string => `198.18.1.${11 + i}`;

/**
 * A held-flow server (`node -e HOLD_SERVER <name> <port>`): every line received on a connection is
 * answered with the node's name, and the connection stays open until the client closes it.
 */
export const HOLD_SERVER = `
const net = require("node:net");
const [name, port] = process.argv.slice(1);
const server = net.createServer((s) => {
  s.on("error", () => {});
  let buf = "";
  s.on("data", (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf("\\n")) >= 0) { buf = buf.slice(i + 1); s.write(name + "\\n"); }
  });
});
server.listen(Number(port), "0.0.0.0", () => console.log("ready"));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

/**
 * A held-flow client (`node -e HOLD_CLIENT <host> <port> <count>`): opens `count` connections (at
 * most 60 s), each asked once; prints `{"open", "failed", "byNode", "ports"}`. Then each stdin line "ask"
 * asks every open connection again (2 s each) and prints `{"ok", "reset", "timeout", "moved"}`:
 * answered by the same node, reset or closed, no answer, answered by another node. Ends with stdin.
 */
export const HOLD_CLIENT = `
const net = require("node:net");
const [host, port, count] = process.argv.slice(1);
const flows = [];
const askOne = (f) => new Promise((resolve) => {
  if (f.dead) return resolve("reset");
  const t = setTimeout(() => { cleanup(); resolve("timeout"); }, 2000);
  const onData = (d) => { cleanup(); resolve(d.toString().trim().split("\\n")[0]); };
  const onEnd = () => { cleanup(); f.dead = true; resolve("reset"); };
  const cleanup = () => { clearTimeout(t); f.s.off("data", onData); f.s.off("close", onEnd); f.s.off("error", onEnd); };
  f.s.on("data", onData); f.s.once("close", onEnd); f.s.once("error", onEnd);
  f.s.write("x\\n");
});
const open = () => new Promise((resolve) => {
  const s = net.connect({ host, port: Number(port) });
  const f = { s, dead: false, node: undefined };
  s.on("error", () => { f.dead = true; });
  s.once("connect", async () => { f.node = await askOne(f); resolve(f); });
  s.once("error", () => resolve(f));
  setTimeout(() => resolve(f), 5000);
});
const killer = setTimeout(() => process.exit(2), 120000);
(async () => {
  for (let i = 0; i < Number(count); i += 20)
    flows.push(...(await Promise.all(Array.from({ length: Math.min(20, Number(count) - i) }, open))));
  const byNode = {};
  for (const f of flows) if (f.node && !f.dead && f.node !== "timeout") byNode[f.node] = (byNode[f.node] || 0) + 1;
  const good = flows.filter((f) => !f.dead && f.node && f.node !== "timeout" && f.node !== "reset");
  const ports = good.map((f) => f.s.localPort);
  console.log(JSON.stringify({ open: good.length, failed: flows.length - good.length, byNode, ports }));
  const rl = require("node:readline").createInterface({ input: process.stdin });
  rl.on("line", async (line) => {
    if (line.trim() !== "ask") return;
    const r = { ok: 0, reset: 0, timeout: 0, moved: 0 };
    const answers = await Promise.all(good.map((f) => askOne(f)));
    answers.forEach((a, i) => {
      if (a === "reset" || a === "timeout") r[a] += 1;
      else if (a === good[i].node) r.ok += 1;
      else r.moved += 1;
    });
    console.log(JSON.stringify(r));
  });
  rl.on("close", () => { for (const f of flows) f.s.destroy(); clearTimeout(killer); process.exit(0); });
})();
`;

/** What {@link holdFlows} opened, and each later look at those flows. */
export interface HeldFlows {
  readonly opened: {
    readonly open: number;
    readonly failed: number;
    readonly byNode: Record<string, number>;
    /** The client's source port of each open flow. */
    readonly ports: readonly number[];
  };
  /** Ask every open flow once more: answered by its node, reset, silent, or answered by another. */
  ask(): Promise<{ ok: number; reset: number; timeout: number; moved: number }>;
  close(): Promise<void>;
}

/** Open `count` held TCP flows from the lab's client to `vip`:{@link L2_PORT}. */
export const holdFlows = async (client: string, vip: string, count: number): Promise<HeldFlows> => {
  const args = ["netns", "exec", client, process.execPath, "-e", HOLD_CLIENT, vip, String(L2_PORT), String(count)];
  const proc = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
  const lines: string[] = [];
  let rest = "";
  proc.stdout!.on("data", (b: Buffer) => {
    rest += b.toString();
    const parts = rest.split("\n");
    rest = parts.pop() ?? "";
    lines.push(...parts.filter((l) => l.startsWith("{")));
  });
  const nth = async (n: number): Promise<string> => {
    await until(`held-flow client line ${n + 1}`, () => lines.length > n, 90_000, 10);
    return lines[n]!;
  };
  try {
    const opened = JSON.parse(await nth(0)) as HeldFlows["opened"];
    return {
      opened,
      async ask() {
        const n = lines.length;
        proc.stdin!.write("ask\n");
        return JSON.parse(await nth(n)) as Awaited<ReturnType<HeldFlows["ask"]>>;
      },
      async close() {
        proc.stdin!.end();
        await proc.stop("SIGTERM", 3_000);
      },
    };
  } catch (e) {
    await proc.stop("SIGKILL", 1_000);
    throw e;
  }
};

/** One fake node on the router's bridge. */
export interface L2NodeInLab {
  readonly name: string;
  readonly ns: string;
  readonly address: string;
  /** Answers /healthz on the health port: write "503" or "200" to its stdin to flip it. */
  readonly health: Started;
  readonly hold: Started;
}

/** One LB namespace and what runs in it. */
export interface LbInLab {
  readonly name: LbNodeName;
  readonly ns: string;
  readonly dir: string;
  haproxy: Started | undefined;
  readonly fakeNode: Started;
  readonly birdSocket: string;
}

/** Router BIRD: one session per LB node, BFD on each when `bfd`, ECMP into the kernel. */
export const routerBird = (lbs: number, bfd: { intervalMs: number; multiplier: number } | undefined): string =>
  [
    "router id 198.18.1.254;",
    "protocol device { scan time 10; }",
    ...(bfd === undefined
      ? []
      : [`protocol bfd { interface "*" { interval ${bfd.intervalMs} ms; multiplier ${bfd.multiplier}; }; }`]),
    "protocol kernel { ipv4 { import none; export all; }; merge paths on; }",
    "template bgp lbs {",
    "  local 198.18.1.254 as 64500; direct; hold time 9; keepalive time 3;",
    "  connect retry time 1; error wait time 1, 10;",
    `  bfd ${bfd === undefined ? "off" : "on"};`,
    "  ipv4 { import all; export none; };",
    "}",
    ...Array.from(
      { length: lbs },
      (_, i) => `protocol bgp lb${i + 1} from lbs { neighbor 198.18.1.${i + 1} as 64512; }`,
    ),
    "",
  ].join("\n");

/** FRR's bfdd.conf for the router: a profile of the LB nodes' timing (FRR's own default is 300 ms x 3). */
export const frrBfd = (bfd: { intervalMs: number; multiplier: number } | undefined): string =>
  bfd === undefined
    ? "!\n"
    : [
        "bfd",
        " profile lbs",
        `  receive-interval ${bfd.intervalMs}`,
        `  transmit-interval ${bfd.intervalMs}`,
        `  detect-multiplier ${bfd.multiplier}`,
        " exit",
        "exit",
        "",
      ].join("\n");

/** FRR's bgpd.conf for the router: docs/operations.md's example, one neighbour per LB node. */
export const frrBgp = (lbs: number, bfd: boolean): string =>
  [
    "router bgp 64500",
    " bgp router-id 198.18.1.254",
    " neighbor LB peer-group",
    " neighbor LB remote-as 64512",
    ...(bfd ? [" neighbor LB bfd", " neighbor LB bfd profile lbs"] : []),
    " neighbor LB timers 3 9",
    " neighbor LB timers connect 1",
    ...Array.from({ length: lbs }, (_, i) => ` neighbor 198.18.1.${i + 1} peer-group LB`),
    " address-family ipv4 unicast",
    "  neighbor LB route-map LB-IN in",
    "  maximum-paths 16",
    " exit-address-family",
    "exit",
    "!",
    "ip prefix-list VIPS seq 10 permit 198.18.100.0/24 ge 32",
    "route-map LB-IN permit 10",
    " match ip address prefix-list VIPS",
    "exit",
    "",
  ].join("\n");

/** The lab's config: one BGP pool, the LB nodes, the router as the one peer. */
export const labConfig = (lbs: number, bgp: Record<string, unknown> = {}, dir = "/tmp"): Config =>
  parseConfig({
    apiVersion: "portico.dev/v1alpha1",
    kind: "PorticoConfig",
    pools: [{ name: "default", addresses: ["198.18.100.10-198.18.100.20"], announce: "bgp" }],
    lbNodes: Array.from({ length: lbs }, (_, i) => ({
      name: `lb${i + 1}`,
      address: `198.18.1.${i + 1}`,
      interface: "eth0",
    })),
    healthCheck: { kubeProxyPort: HEALTH_PORT, intervalMs: 200, rise: 1, fall: 2 },
    haproxy: { configPath: `${dir}/haproxy.cfg`, statsSocket: `${dir}/admin.sock`, masterSocket: `${dir}/master.sock` },
    keepalived: { apply: false },
    bgp: { asn: 64512, peers: [{ address: "198.18.1.254", asn: 64500 }], upDelayMs: 200, ...bgp },
  })._unsafeUnwrap();

/** The lab's Services (web, and `more` further ones, each with its own VIP) planned with `config`. */
export const labPlan = (config: Config, more = 0): Plan =>
  planOf(
    [
      aNode("w1", "198.18.21.2"),
      aService({ name: "web", created: "2026-01-01T00:00:00Z" }),
      ...Array.from({ length: more }, (_, i) => aService({ name: `more${i}`, created: `2026-01-0${i + 2}T00:00:00Z` })),
    ],
    config,
  );

/** The nexthops the router's kernel has for a VIP, e.g. ["198.18.1.1", "198.18.1.2"]. */
export const nexthopsOf = async (rt: string, vip: string): Promise<string[]> => {
  const r = await run("ip", ["-n", rt, "-4", "route", "show", `${vip}/32`], { timeoutMs: 5_000 });
  if (r.isErr()) return [];
  return [...r.value.stdout.matchAll(/via (198\.18\.1\.\d+)/g)].map((m) => m[1]!).sort();
};

/** The next hop the router's kernel picks for each TCP flow from the client to `vip`:`dport`, by source port. */
export const nexthopsByPort = async (
  lab: BgpLab,
  vip: string,
  ports: readonly number[],
  dport = L2_PORT,
): Promise<string[]> => {
  const file = join(lab.dir, "route-get-flows.batch");
  const lines = ports.map((p) => `route get ${vip} from 198.18.10.2 iif c0 ipproto tcp sport ${p} dport ${dport}`);
  await writeFile(file, `${lines.join("\n")}\n`);
  const out = await run("ip", ["-n", lab.rt, "-batch", file], { timeoutMs: 60_000 });
  if (out.isErr()) return [];
  return out.value.stdout
    .split("\n")
    .filter((l) => l.startsWith(vip))
    .map((l) => /via (\S+)/.exec(l)?.[1] ?? "?");
};

/** The BGP lab. */
export class BgpLab {
  readonly netns = new NetnsLab();
  dir = "";
  rt = "";
  client = "";
  router: Started | undefined;
  /** FRR's daemons, when the router runs FRR. */
  readonly frr: Started[] = [];
  frrDir = "";
  readonly lbs: LbInLab[] = [];
  /** The fake nodes on the router's bridge (`up`'s `nodes`). */
  readonly nodes: L2NodeInLab[] = [];
  /** The config every LB node's plan is made from (BFD as `up` was told). */
  config: Config = labConfig(1);

  get routerSocket(): string {
    return join(this.dir, "rt.ctl");
  }

  /**
   * Build the namespaces, start the router's BIRD, and on each LB node HAProxy and BIRD as Portico
   * renders them; with `nodes`, that many fake nodes on the router's bridge (and the LB nodes forward);
   * with `router: "frr"`, FRR (zebra, bfdd, bgpd) routes instead of BIRD, configured as docs/operations.md has it.
   */
  async up(
    lbs: number,
    bfd: { intervalMs: number; multiplier: number } | "off" = { intervalMs: 100, multiplier: 3 },
    nodes = 0,
    router: "bird" | "frr" = "bird",
  ) {
    this.config = labConfig(lbs, { bfd: bfd === "off" ? { enabled: false } : { enabled: true, ...bfd } });
    this.dir = await mkdtemp("/tmp/portico-bgp-");
    this.rt = await this.netns.add("rt");
    this.client = await this.netns.add("cl");
    await must("ip", [
      "-n",
      this.rt,
      "link",
      "add",
      "c0",
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      this.client,
    ]);
    await must("ip", ["-n", this.rt, "addr", "add", "198.18.10.1/24", "dev", "c0"]);
    await must("ip", ["-n", this.rt, "link", "set", "c0", "up"]);
    await must("ip", ["-n", this.client, "addr", "add", "198.18.10.2/24", "dev", "eth0"]);
    await must("ip", ["-n", this.client, "link", "set", "eth0", "up"]);
    await must("ip", ["-n", this.client, "route", "add", "198.18.100.0/24", "via", "198.18.10.1"]);
    await must("ip", ["-n", this.rt, "link", "add", "br0", "type", "bridge"]);
    await must("ip", ["-n", this.rt, "addr", "add", "198.18.1.254/24", "dev", "br0"]);
    await must("ip", ["-n", this.rt, "link", "set", "br0", "up"]);
    await must("ip", ["netns", "exec", this.rt, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    // Hash on the 5-tuple, so flows from one client spread over the LB nodes.
    await must("ip", ["netns", "exec", this.rt, "sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1"]);
    for (let i = 1; i <= lbs; i++) await this.#lb(i, this.config);
    for (let i = 0; i < nodes; i++) await this.#l2Node(i);
    // nat forwards through the LB node's stack; direct leaves it at ingress.
    if (nodes > 0)
      for (const lb of this.lbs) await must("ip", ["netns", "exec", lb.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    if (router === "frr") await this.#startFrr(lbs, bfd === "off" ? undefined : bfd);
    else {
      await writeFile(join(this.dir, "rt.conf"), routerBird(lbs, bfd === "off" ? undefined : bfd));
      this.router = (
        await start(
          "ip",
          ["netns", "exec", this.rt, "bird", "-f", "-c", join(this.dir, "rt.conf"), "-s", this.routerSocket],
          { stdio: "pipe" },
        )
      )._unsafeUnwrap();
    }
    await until(
      "every LB node's route at the router",
      async () => (await nexthopsOf(this.rt, VIP)).length === lbs,
      30_000,
    );
  }

  /** The plan with each LB node's own HAProxy paths (its files in its own directory). */
  planFor(lb: LbInLab, plan: Plan): Plan {
    return {
      ...plan,
      settings: {
        ...plan.settings,
        haproxy: {
          ...plan.settings.haproxy,
          configPath: join(lb.dir, "haproxy.cfg"),
          statsSocket: join(lb.dir, "admin.sock"),
          masterSocket: join(lb.dir, "master.sock"),
        },
      },
    };
  }

  /** Render and install bird.conf for one LB node (starting BIRD in its namespace the first time). */
  applyBird(lb: LbInLab, plan: Plan, options: { announce?: readonly Ip[]; gracefulShutdown?: boolean } = {}) {
    const text = renderBird(plan, { node: lb.name, ...options })._unsafeUnwrap();
    return applyBird(text, {
      configPath: join(lb.dir, "bird.conf"),
      socket: lb.birdSocket,
      pidFile: join(lb.dir, "bird.pid"),
      netns: lb.ns,
    });
  }

  /** vtysh at the FRR router: one command's output. */
  async frrSays(command: string): Promise<string> {
    const r = await run("vtysh", ["--vty_socket", this.frrDir, "-c", command], { timeoutMs: 10_000 });
    return r.isOk() ? r.value.stdout : "";
  }

  async #startFrr(lbs: number, bfd: { intervalMs: number; multiplier: number } | undefined) {
    // Its own directory: FRR's user cannot enter the lab's (mode 0700).
    const dir = await mkdtemp("/tmp/portico-frr-");
    this.frrDir = dir;
    await writeFile(join(dir, "zebra.conf"), "hostname rt\n");
    await writeFile(join(dir, "bfdd.conf"), frrBfd(bfd));
    await writeFile(join(dir, "bgpd.conf"), frrBgp(lbs, bfd !== undefined));
    // FRR's daemons drop to its own user (whose group may use the vty sockets), as packaged.
    await must("chown", ["-R", "frr:frr", dir]);
    const zserv = join(dir, "zserv.api");
    const daemon = async (name: string, extra: string[] = []) => {
      const args = [
        ...["netns", "exec", this.rt, `/usr/lib/frr/${name}`, "-f", join(dir, `${name}.conf`)],
        ...["-i", join(dir, `${name}.pid`), "-z", zserv, "--vty_socket", dir, "-u", "frr", "-g", "frr"],
        ...["-P", "0", "--log", `file:${join(dir, `${name}.log`)}`, ...extra],
      ];
      const p = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
      this.frr.push(p);
      await until(`${name} answers`, async () => (await this.frrSays("show version")).includes("FRRouting"), 20_000);
    };
    await daemon("zebra");
    await daemon("bfdd", ["--bfdctl", join(dir, "bfdd.sock")]);
    await daemon("bgpd");
  }

  async #l2Node(i: number) {
    const name = `n${i + 1}`;
    const ns = await this.netns.add(name);
    const address = l2NodeAddress(i);
    await must("ip", ["-n", this.rt, "link", "add", `k${i + 1}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await must("ip", ["-n", this.rt, "link", "set", `k${i + 1}`, "master", "br0"]);
    await must("ip", ["-n", this.rt, "link", "set", `k${i + 1}`, "up"]);
    for (const kv of ["net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2"])
      await must("ip", ["netns", "exec", ns, "sysctl", "-qw", kv]);
    await must("ip", ["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
    await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    await must("ip", ["-n", ns, "route", "add", "default", "via", "198.18.1.254"]);
    await must("ip", ["-n", ns, "addr", "add", `${VIP}/32`, "dev", "lo"]);
    const health = (
      await start("ip", ["netns", "exec", ns, process.execPath, FAKE_NODE_BIN, name, "", String(HEALTH_PORT)], {
        stdio: "pipe",
      })
    )._unsafeUnwrap();
    await waitForLine(health, "ready");
    const hold = (
      await start("ip", ["netns", "exec", ns, process.execPath, "-e", HOLD_SERVER, name, String(L2_PORT)], {
        stdio: "pipe",
      })
    )._unsafeUnwrap();
    await waitForLine(hold, "ready");
    this.nodes.push({ name, ns, address, health, hold });
  }

  async #lb(i: number, config: Config) {
    const ns = await this.netns.add(`lb${i}`);
    const back = await this.netns.add(`b${i}`);
    const dir = join(this.dir, `lb${i}`);
    await must("mkdir", ["-p", dir]);
    await must("ip", ["-n", this.rt, "link", "add", `l${i}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await must("ip", ["-n", this.rt, "link", "set", `l${i}`, "master", "br0"]);
    await must("ip", ["-n", this.rt, "link", "set", `l${i}`, "up"]);
    await must("ip", ["-n", ns, "addr", "add", `198.18.1.${i}/24`, "dev", "eth0"]);
    await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    await must("ip", ["-n", ns, "route", "add", "default", "via", "198.18.1.254"]);
    await must("ip", ["-n", ns, "addr", "add", `${VIP}/32`, "dev", "lo"]);
    await must("ip", ["-n", ns, "link", "add", "n1", "type", "veth", "peer", "name", "eth0", "netns", back]);
    await must("ip", ["-n", ns, "addr", "add", "198.18.21.1/24", "dev", "n1"]);
    await must("ip", ["-n", ns, "link", "set", "n1", "up"]);
    await must("ip", ["-n", back, "addr", "add", "198.18.21.2/24", "dev", "eth0"]);
    await must("ip", ["-n", back, "link", "set", "eth0", "up"]);
    const args = [
      "netns",
      "exec",
      back,
      process.execPath,
      FAKE_NODE_BIN,
      `lb${i}`,
      String(NODE_PORT),
      String(HEALTH_PORT),
    ];
    const fakeNode = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
    await waitForLine(fakeNode, "ready");
    const lb: LbInLab = {
      name: `lb${i}` as LbNodeName,
      ns,
      dir,
      haproxy: undefined,
      fakeNode,
      birdSocket: join(dir, "bird.ctl"),
    };
    this.lbs.push(lb);
    await this.startHaproxy(lb, labPlan(config));
    (await this.applyBird(lb, labPlan(config)))._unsafeUnwrap();
  }

  /** Install haproxy.cfg for one LB node and start HAProxy on it in its namespace. */
  async startHaproxy(lb: LbInLab, plan: Plan): Promise<void> {
    const p = this.planFor(lb, plan);
    (await applyHaproxy(p))._unsafeUnwrap();
    const args = [
      "netns",
      "exec",
      lb.ns,
      "haproxy",
      "-W",
      "-S",
      p.settings.haproxy.masterSocket,
      "-f",
      p.settings.haproxy.configPath,
    ];
    lb.haproxy = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
    await until(`haproxy in ${lb.name}`, async () => {
      const proc = await sendCommand(p.settings.haproxy.masterSocket, { kind: "show-proc" });
      return proc.isOk() && (parseShowProc(proc.value)?.workers.length ?? 0) > 0;
    });
  }

  /** `birdc show protocols all` at the router, parsed. */
  async routerProtocols() {
    const r = await run("birdc", ["-s", this.routerSocket, "show", "protocols", "all"], { timeoutMs: 5_000 });
    return r.isOk() ? readBirdProtocols(r.value.stdout) : [];
  }

  /** Drop every packet in and out of an LB namespace: the node is dead as far as the network can tell. */
  async blackhole(lb: LbInLab): Promise<void> {
    const rules = [
      "table inet dead {",
      "  chain i { type filter hook input priority -300; policy drop; }",
      "  chain o { type filter hook output priority -300; policy drop; }",
      "}",
      "",
    ].join("\n");
    const file = join(this.dir, `dead-${lb.name}.nft`);
    await writeFile(file, rules);
    await must("ip", ["netns", "exec", lb.ns, "nft", "-f", file]);
  }

  /** The installed bird.conf of an LB node. */
  installed(lb: LbInLab): Promise<string> {
    return readFile(join(lb.dir, "bird.conf"), "utf8").catch(() => "");
  }

  async down(): Promise<void> {
    for (const lb of this.lbs) {
      await lb.haproxy?.stop("SIGTERM", 3_000);
      const pid = Number((await readFile(join(lb.dir, "bird.pid"), "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 1) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // Already gone.
        }
      }
      await lb.fakeNode.stop("SIGTERM", 3_000);
    }
    for (const n of this.nodes) {
      await n.health.stop("SIGTERM", 3_000);
      await n.hold.stop("SIGTERM", 3_000);
    }
    await this.router?.stop("SIGTERM", 3_000);
    for (const p of this.frr.reverse()) await p.stop("SIGTERM", 3_000);
    if (this.frrDir !== "") await rm(this.frrDir, { recursive: true, force: true });
    await this.netns.destroy();
    if (this.dir !== "") await rm(this.dir, { recursive: true, force: true });
  }
}
