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

/** The VIP of the lab's Service, and a second one for reconfiguration tests. */
export const VIP = "198.18.100.10";
export const NODE_PORT = 30080;
const HEALTH_PORT = 32100;

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

/** The BGP lab. */
export class BgpLab {
  readonly netns = new NetnsLab();
  dir = "";
  rt = "";
  client = "";
  router: Started | undefined;
  readonly lbs: LbInLab[] = [];
  /** The config every LB node's plan is made from (BFD as `up` was told). */
  config: Config = labConfig(1);

  get routerSocket(): string {
    return join(this.dir, "rt.ctl");
  }

  /** Build the namespaces, start the router's BIRD, and on each LB node HAProxy and BIRD as Portico renders them. */
  async up(lbs: number, bfd: { intervalMs: number; multiplier: number } | "off" = { intervalMs: 100, multiplier: 3 }) {
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
    await writeFile(join(this.dir, "rt.conf"), routerBird(lbs, bfd === "off" ? undefined : bfd));
    this.router = (
      await start(
        "ip",
        ["netns", "exec", this.rt, "bird", "-f", "-c", join(this.dir, "rt.conf"), "-s", this.routerSocket],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap();
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
    await this.router?.stop("SIGTERM", 3_000);
    await this.netns.destroy();
    if (this.dir !== "") await rm(this.dir, { recursive: true, force: true });
  }
}
