import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runningKeepalived } from "@portico/adapter-keepalived";
import { applyNftables, renderNftables } from "@portico/adapter-nftables";
import { parseConfig, type Config, type LbNodeName, type Plan } from "@portico/core";
import { aConfig, aNode, aService, planOf } from "@portico/core/testing";
// The lab entry (built), so the benchmark that bundles this file runs it too.
import {
  l2Segment,
  must,
  NetnsLab,
  segmentLbAddress,
  segmentNodeAddress,
  until,
  type L2Segment,
} from "@portico/testkit/lab";
import { applyLbKeepalived } from "./lb-keepalived.js";

// Two LB nodes on one L2 segment (the test kit's l2Segment) with a client and three fake nodes,
// each LB node running real keepalived (VRRPv3, the config's default 100 ms adverts), an idle real
// HAProxy that keepalived's check follows, and the real nftables ruleset as Portico renders and
// applies them. One VIP carries two UDP Services, one through `nat` and one through `direct`
// (one VRRP instance), so the master's failure moves both.

/** The lab's one VIP. */
export const VIP = "198.18.100.20";
/** The `nat` Service's port and its nodePort. */
export const NAT_PORT = 5353;
export const NAT_NODE_PORT = 30053;
/** The `direct` Service's port (the fake nodes answer on it, the VIP on their lo). */
export const DIRECT_PORT = 5354;
/** The lab's LB nodes and fake nodes. */
export const LBS = ["lb1", "lb2"] as const;
export const NODES = ["n1", "n2", "n3"] as const;
/** A safety cap on each wait of the lab, never a target (figures are bench/'s). */
export const CAP = 20_000;

/** The lab's config: the pool of the one VIP, both LB nodes on the segment. */
export const failoverConfig: Config = parseConfig({
  ...aConfig({
    pools: [{ name: "default", addresses: [`${VIP}-${VIP}`] }],
    lbNodes: LBS.map((name, i) => ({ name, address: segmentLbAddress(i), interface: "eth0" })),
    vrrp: { vridFirst: 40, vridLast: 80 },
  }),
})._unsafeUnwrap();
const service = (name: string, mode: "nat" | "direct", port: number, nodePort: number) =>
  aService({
    name,
    annotations: {
      "portico.dev/data-plane": mode,
      "portico.dev/load-balancer-ips": VIP,
      "portico.dev/allow-shared-ip": "dns",
    },
    ports: [{ name: "dns", port, nodePort, protocol: "UDP" }],
  });
/** The plan both LB nodes run: `dns-nat` and `dns-direct` on {@link VIP}, the three fake nodes. */
export const failoverPlan: Plan = planOf(
  [
    ...NODES.map((n, i) => aNode(n, segmentNodeAddress(i))),
    service("dns-nat", "nat", NAT_PORT, NAT_NODE_PORT),
    service("dns-direct", "direct", DIRECT_PORT, 30054),
  ],
  failoverConfig,
);

/** A hung node: nothing in, nothing out (ahead of Portico's own chains), its link still up. */
const DROP_ALL =
  "add table netdev dead; add chain netdev dead in { type filter hook ingress device eth0 priority -500; policy drop; }; " +
  "add table inet dead; add chain inet dead out { type filter hook output priority -500; policy drop; }";

/**
 * DEATHS are the two ways the lab's LB node (namespace `ns`) dies besides its keepalived, and how
 * each is mended. Hung: every packet dropped, its link up, so the switch still sends it the VIP's
 * frames until the backup's gratuitous ARP moves the client (VRRP's failover proper). Link down:
 * the switch forgets the dead node's MAC and floods its frames to every port.
 */
export const DEATHS = {
  hung: {
    fail: (ns: string) => must("ip", ["netns", "exec", ns, "nft", DROP_ALL]),
    mend: (ns: string) => must("ip", ["netns", "exec", ns, "nft", "delete table netdev dead; delete table inet dead"]),
  },
  "link down": {
    fail: (ns: string) => must("ip", ["-n", ns, "link", "set", "eth0", "down"]),
    mend: (ns: string) => must("ip", ["-n", ns, "link", "set", "eth0", "up"]),
  },
} as const;

// keepalived's HAProxy check follows a live HAProxy, as on a real LB node; this one serves nothing.
const IDLE_HAPROXY =
  "global\n    log stderr local0 emerg\ndefaults\n    mode tcp\n    timeout connect 1s\n" +
  "    timeout client 5s\n    timeout server 5s\nfrontend idle\n    bind 127.0.0.1:8404\n";

/**
 * L4FailoverLab is the two-LB VRRP and nftables failover lab: {@link L4FailoverLab.start} builds it
 * and waits until the master alone holds the VIP; {@link L4FailoverLab.destroy} removes whatever
 * was built, also after a failed or interrupted start.
 */
export class L4FailoverLab {
  /** The VRRP instance's master and backup, by the plan's priorities. */
  readonly master: string;
  readonly backup: string;
  private readonly netns = new NetnsLab();
  private segment: L2Segment | undefined;
  private dir = "";

  constructor() {
    const [master = "", backup = ""] = failoverPlan.vrrpInstances[0]?.priorities.map((p) => p.lbNode as string) ?? [];
    this.master = master;
    this.backup = backup;
  }

  /** The segment: client, LB node and fake node namespaces (after start). */
  get net(): L2Segment {
    if (this.segment === undefined) throw new Error("the L4 failover lab is not started");
    return this.segment;
  }

  /** Build the segment, start HAProxy, the ruleset and keepalived on both LB nodes, and settle. */
  async start(): Promise<void> {
    this.dir = await mkdtemp("/tmp/portico-l4-failover-");
    await chmod(this.dir, 0o755);
    this.segment = await l2Segment(this.netns, LBS, NODES, [VIP], { udp: [NAT_NODE_PORT, DIRECT_PORT] });
    for (const lb of LBS) {
      await mkdir(join(this.dir, lb), { mode: 0o755 });
      await writeFile(this.file(lb, "haproxy.cfg"), IDLE_HAPROXY);
      const pid = this.file(lb, "haproxy.pid");
      await must("ip", [
        "netns",
        "exec",
        this.nsOf(lb),
        "haproxy",
        "-D",
        "-p",
        pid,
        "-f",
        this.file(lb, "haproxy.cfg"),
      ]);
      // keepalived's check runs as nobody, which must be able to read the pid file.
      await chmod(pid, 0o644);
      const text = renderNftables(failoverPlan, { node: lb as LbNodeName })._unsafeUnwrap();
      const loaded = await applyNftables(text, {
        netns: this.nsOf(lb),
        configPath: this.file(lb, "nftables.conf"),
        force: true,
      });
      if (loaded.isErr()) throw new Error(loaded.error.message);
      await this.applyVrrp(lb);
    }
    await this.settle();
  }

  /** The namespace of the LB node `lb`. */
  nsOf(lb: string): string {
    return this.net.lbs.find((l) => l.name === lb)!.ns;
  }

  /** The segment address of the LB node `lb`. */
  addressOf(lb: string): string {
    return this.net.lbs.find((l) => l.name === lb)!.address;
  }

  /** The path of the LB node `lb`'s file `name` (its configs and pid files). */
  file(lb: string, name: string): string {
    return join(this.dir, lb, name);
  }

  /** The LB nodes that hold the VIP on their interface now. */
  async holders(): Promise<string[]> {
    const on: string[] = [];
    for (const lb of LBS)
      if ((await must("ip", ["-n", this.nsOf(lb), "-o", "addr", "show", "dev", "eth0"])).includes(` ${VIP}/32`))
        on.push(lb);
    return on;
  }

  /** Start (or reload) keepalived on `lb` with the lab's plan. */
  async applyVrrp(lb: string): Promise<void> {
    await applyLbKeepalived(failoverPlan, lb, { dir: this.dir, netns: this.nsOf(lb), timeoutMs: CAP });
  }

  /** Wait until the master alone holds the VIP. */
  async settle(): Promise<void> {
    await until(`${VIP} on ${this.master} alone`, async () => (await this.holders()).join() === this.master, CAP, 50);
  }

  /** Kill keepalived on `lb` with SIGKILL, its VRRP child first (the parent would restart it). */
  async killKeepalived(lb: string): Promise<void> {
    await this.signal(lb, "vrrp.pid", "SIGKILL");
    await this.signal(lb, "keepalived.pid", "SIGKILL");
  }

  /** Bring the failed master back: its link up, the VIP a killed keepalived left dropped, keepalived started. */
  async restore(): Promise<void> {
    const { master } = this;
    await must("ip", ["-n", this.nsOf(master), "link", "set", "eth0", "up"]);
    await until(
      "keepalived gone",
      async () => (await runningKeepalived(this.file(master, "keepalived.pid"))) === undefined,
    );
    if ((await this.holders()).includes(master))
      await must("ip", ["-n", this.nsOf(master), "addr", "del", `${VIP}/32`, "dev", "eth0"]);
    await this.applyVrrp(master);
    await this.settle();
  }

  /** Stop every process of the lab and remove its namespaces and files. */
  async destroy(): Promise<void> {
    if (this.dir !== "")
      for (const lb of LBS)
        for (const f of ["vrrp.pid", "keepalived.pid", "haproxy.pid"])
          await this.signal(lb, f, "SIGKILL").catch(() => undefined);
    await this.segment?.stopNodes();
    await this.netns.destroy();
    if (this.dir !== "") await rm(this.dir, { recursive: true, force: true });
  }

  private async signal(lb: string, pidFile: string, sig: NodeJS.Signals): Promise<void> {
    process.kill(Number((await readFile(join(this.dir, lb, pidFile), "utf8")).trim()), sig);
  }
}
