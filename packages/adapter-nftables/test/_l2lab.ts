import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { start, type Started } from "@portico/host";
import type { LbNodeName, Plan } from "@portico/core";
import { FAKE_NODE_BIN, HELD_FLOWS_BIN, must, NetnsLab, UDP_CLIENT_BIN, waitForLine } from "@portico/testkit";
import { applyNftables, renderNftables } from "../src/index.js";

// One L2 segment, as `direct` needs: a bridge in its own namespace joins the LB node, the client
// and the fake nodes (198.18.30.0/24 and 2001:db8:30::/64). The nodes hold the VIPs on lo and do
// not answer ARP for them (arp_ignore=1, arp_announce=2), as kube-proxy's strictARP has it.

/** The client's addresses: the first is admitted by the tests' source ranges, the second is not. */
export const CLIENT = ["198.18.30.100", "198.18.30.101"] as const;
export const CLIENT6 = "2001:db8:30::100";
export const LB = "198.18.30.1";
export const LB6 = "2001:db8:30::1";
export const nodeV4 = (i: number): string => `198.18.30.${11 + i}`;
export const nodeV6 = (i: number): string => `2001:db8:30::${11 + i}`;

/** What {@link l2Lab} built. */
export interface L2Lab {
  readonly lb: string;
  readonly client: string;
  readonly nodes: readonly { readonly name: string; readonly ns: string; readonly proc: Started }[];
  readonly dir: string;
  /** Send `count` datagrams from the client, each from its own source port. */
  ask(host: string, port: number, count: number, from?: string, firstSourcePort?: number): Promise<UdpAnswers>;
  /** Open `count` long-lived TCP flows from the client (to fake nodes holding `port`), at most `maxMs`. */
  hold(host: string, port: number, count: number, maxMs: number, firstSourcePort?: number): Promise<HeldFlows>;
  destroy(): Promise<void>;
}

/** One round of {@link HeldFlows}: each flow's node, or why it did not answer (ECONNRESET: reset). */
export interface FlowRound {
  readonly round: number;
  readonly flows: readonly { readonly sport: number; readonly node?: string; readonly error?: string }[];
}

/** Long-lived TCP flows held open by the held-flows program in the client namespace. */
export interface HeldFlows {
  /** The round sent when they opened. */
  readonly opened: FlowRound;
  /** Send a line on every flow again and read who answered. */
  ping(): Promise<FlowRound>;
  end(): Promise<void>;
}

/** The JSON lines a child prints, read as they come (none lost between two reads). */
const lines = (proc: Started, capMs: number) => {
  const queue: string[] = [];
  let buf = "";
  let wake: (() => void) | undefined;
  proc.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let at = buf.indexOf("\n"); at >= 0; at = buf.indexOf("\n")) {
      queue.push(buf.slice(0, at));
      buf = buf.slice(at + 1);
    }
    wake?.();
  });
  return async (): Promise<string> => {
    const until = Date.now() + capMs;
    while (queue.length === 0) {
      if (Date.now() > until) throw new Error(`no line within ${capMs} ms`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return queue.shift()!;
  };
};

/** The udp-client's report. */
export interface UdpAnswers {
  readonly sent: number;
  readonly answers: readonly { sport: number; node?: string; client?: string; timeout?: boolean }[];
}

const sysctl = (ns: string, kv: string) => must("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", kv]);

/**
 * Build the lab with `names` fake nodes answering UDP on `udpPorts` (and GET /healthz on
 * `healthPorts`, flipped by "503"/"200" on a node's stdin), the VIPs on their lo.
 */
export const l2Lab = async (
  names: readonly string[],
  vips: readonly string[],
  udpPorts: readonly number[],
  healthPorts: readonly number[] = [],
  holdPorts: readonly number[] = [],
): Promise<L2Lab> => {
  const netns = new NetnsLab();
  const started: Started[] = [];
  const dir = await mkdtemp(join(tmpdir(), "portico-l2lab-"));
  const destroy = async () => {
    for (const p of started.reverse()) await p.stop("SIGTERM", 3_000);
    await netns.destroy();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const sw = await netns.add("sw");
    await must("ip", ["-n", sw, "link", "add", "br0", "type", "bridge"]);
    await must("ip", ["-n", sw, "link", "set", "br0", "up"]);
    const plug = async (ns: string, port: string, v4: readonly string[], v6: string) => {
      await must("ip", ["-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      await must("ip", ["-n", sw, "link", "set", port, "master", "br0", "up"]);
      for (const a of v4) await must("ip", ["-n", ns, "addr", "add", `${a}/24`, "dev", "eth0"]);
      await must("ip", ["-n", ns, "addr", "add", `${v6}/64`, "dev", "eth0", "nodad"]);
      // The link-local address too, made at link up: the LB node's neighbour solicitation for a
      // node, on behalf of a forwarded packet, must come from it, and while it is tentative (DAD,
      // about 1 s) the kernel sends none and tries again a second later, so the first datagram
      // waited in the neighbour queue longer than the client waited for its answer.
      await sysctl(ns, "net.ipv6.conf.eth0.accept_dad=0");
      await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    };
    const lb = await netns.add("lb");
    await plug(lb, "p-lb", [LB], LB6);
    await sysctl(lb, "net.ipv4.ip_forward=1");
    await sysctl(lb, "net.ipv6.conf.all.forwarding=1");
    // The VIPs are the LB node's, as keepalived would make them.
    for (const v of vips)
      await must("ip", [
        "-n",
        lb,
        "addr",
        "add",
        v.includes(":") ? `${v}/128` : `${v}/32`,
        "dev",
        "eth0",
        ...(v.includes(":") ? ["nodad"] : []),
      ]);
    const client = await netns.add("cl");
    await plug(client, "p-cl", CLIENT, CLIENT6);
    await must("ip", ["-n", client, "route", "add", "198.18.100.0/24", "via", LB]);
    await must("ip", ["-n", client, "-6", "route", "add", "2001:db8:100::/120", "via", LB6]);
    const nodes = [];
    for (const [i, name] of names.entries()) {
      const ns = await netns.add(name);
      await plug(ns, `p-${name}`, [nodeV4(i)], nodeV6(i));
      await sysctl(ns, "net.ipv4.conf.all.arp_ignore=1");
      await sysctl(ns, "net.ipv4.conf.all.arp_announce=2");
      for (const v of vips)
        await must("ip", [
          "-n",
          ns,
          "addr",
          "add",
          v.includes(":") ? `${v}/128` : `${v}/32`,
          "dev",
          "lo",
          ...(v.includes(":") ? ["nodad"] : []),
        ]);
      const args = [
        "netns",
        "exec",
        ns,
        process.execPath,
        FAKE_NODE_BIN,
        name,
        "",
        healthPorts.join(","),
        "--udp",
        udpPorts.join(","),
        ...(holdPorts.length === 0 ? [] : ["--hold", holdPorts.join(",")]),
      ];
      const proc = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
      started.push(proc);
      await waitForLine(proc, "ready");
      nodes.push({ name, ns, proc });
    }
    return {
      lb,
      client,
      nodes,
      dir,
      async ask(host, port, count, from, firstSourcePort) {
        const out = await must(
          "ip",
          [
            "netns",
            "exec",
            client,
            process.execPath,
            UDP_CLIENT_BIN,
            host,
            String(port),
            String(count),
            "1000",
            from ?? "",
            ...(firstSourcePort === undefined ? [] : [String(firstSourcePort)]),
          ],
          60_000,
        );
        return JSON.parse(out.trim().split("\n").pop() ?? "{}") as UdpAnswers;
      },
      async hold(host, port, count, maxMs, firstSourcePort) {
        const args = ["netns", "exec", client, process.execPath, HELD_FLOWS_BIN, host, String(port), String(count)];
        args.push(
          String(maxMs),
          host.includes(":") ? CLIENT6 : CLIENT[0],
          ...(firstSourcePort === undefined ? [] : [String(firstSourcePort)]),
        );
        const proc = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
        started.push(proc);
        const next = lines(proc, 30_000);
        const round = async () => JSON.parse(await next()) as FlowRound;
        const opened = await round();
        return {
          opened,
          async ping() {
            proc.stdin!.write("ping\n");
            return await round();
          },
          async end() {
            proc.stdin!.end("end\n");
            await proc.stop("SIGTERM", 3_000);
          },
        };
      },
      destroy,
    };
  } catch (e) {
    await destroy();
    throw e;
  }
};

/** loadPlan installs `plan`'s whole ruleset for `node` on the lab's LB node with nft -f, as portico run installs a new plan. */
export const loadPlan = async (lab: L2Lab, plan: Plan, node: LbNodeName): Promise<void> => {
  (
    await applyNftables(renderNftables(plan, { node })._unsafeUnwrap(), {
      netns: lab.lb,
      configPath: join(lab.dir, "nftables.conf"),
      force: true,
    })
  )._unsafeUnwrap();
};
