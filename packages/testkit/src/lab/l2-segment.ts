import { start } from "@portico/host";
import { must, type NetnsLab } from "../netns.js";
import { waitForLine } from "../wait.js";
import type { FakeNode } from "./dataplane.js";
import { FAKE_NODE_BIN } from "./programs.js";

/** SEGMENT_CLIENT is the client's address on an {@link l2Segment}. */
export const SEGMENT_CLIENT = "198.18.40.100";
/** segmentLbAddress is the address of the i-th (0-based) LB node of an {@link l2Segment}. */
export const segmentLbAddress = (i: number): string => `198.18.40.${i + 1}`;
/** segmentNodeAddress is the address of the i-th (0-based) fake node of an {@link l2Segment}. */
export const segmentNodeAddress = (i: number): string => `198.18.40.${i + 11}`;

/** What an {@link l2Segment}'s fake nodes serve. */
export interface SegmentPorts {
  /** TCP ports every fake node answers on (nodePorts, and the Service ports `direct` delivers). */
  readonly tcp?: readonly number[];
  /** UDP ports every fake node answers on. */
  readonly udp?: readonly number[];
  /** GET /healthz ports. */
  readonly health?: readonly number[];
}

/** L2Segment is what {@link l2Segment} built. */
export interface L2Segment {
  /** The bridge's namespace: its ports are `p-<name>`. */
  readonly sw: string;
  readonly client: string;
  readonly lbs: readonly { readonly name: string; readonly ns: string; readonly address: string }[];
  readonly nodes: readonly FakeNode[];
  /** Stop every fake node (the namespaces stay for the lab's `destroy`). */
  stopNodes(): Promise<void>;
}

const sysctl = (ns: string, kv: string) => must("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", kv]);
const hostRoute = (vip: string): string => (vip.includes(":") ? `${vip}/128` : `${vip}/32`);

/**
 * l2Segment builds one L2 segment in `netns` (a bridge in a namespace of its own), as VRRP and the
 * `direct` data plane need: the client (198.18.40.100, the VIPs on-link, so it ARPs for them), LB
 * nodes (198.18.40.1, .2, ... with forwarding on; the VIPs are not theirs: keepalived or the caller
 * adds them) and fake nodes (198.18.40.11, ...) holding the VIPs on lo without answering ARP for
 * them (arp_ignore=1, arp_announce=2, as kube-proxy's strictARP has it), each running the lab's
 * fake node on `ports`.
 */
export const l2Segment = async (
  netns: NetnsLab,
  lbs: readonly string[],
  nodes: readonly string[],
  vips: readonly string[],
  ports: SegmentPorts,
): Promise<L2Segment> => {
  const sw = await netns.add("sw");
  await must("ip", ["-n", sw, "link", "add", "br0", "type", "bridge"]);
  await must("ip", ["-n", sw, "link", "set", "br0", "up"]);
  const plug = async (name: string, address: string): Promise<string> => {
    const ns = await netns.add(name);
    await must("ip", ["-n", sw, "link", "add", `p-${name}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await must("ip", ["-n", sw, "link", "set", `p-${name}`, "master", "br0", "up"]);
    await must("ip", ["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
    await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    return ns;
  };
  const client = await plug("cl", SEGMENT_CLIENT);
  await must("ip", ["-n", client, "route", "add", "198.18.100.0/24", "dev", "eth0"]);
  const lbNodes = [];
  for (const [i, name] of lbs.entries()) {
    const ns = await plug(name, segmentLbAddress(i));
    await sysctl(ns, "net.ipv4.ip_forward=1");
    lbNodes.push({ name, ns, address: segmentLbAddress(i) });
  }
  const made: FakeNode[] = [];
  const list = (xs: readonly number[] | undefined): string => (xs ?? []).join(",");
  for (const [i, name] of nodes.entries()) {
    const ns = await plug(name, segmentNodeAddress(i));
    await sysctl(ns, "net.ipv4.conf.all.arp_ignore=1");
    await sysctl(ns, "net.ipv4.conf.all.arp_announce=2");
    for (const v of vips) await must("ip", ["-n", ns, "addr", "add", hostRoute(v), "dev", "lo"]);
    const args = ["netns", "exec", ns, process.execPath, FAKE_NODE_BIN, name, list(ports.tcp), list(ports.health)];
    const proc = (await start("ip", [...args, "--udp", list(ports.udp)], { stdio: "pipe" }))._unsafeUnwrap();
    made.push({ name, ns, address: segmentNodeAddress(i), proc });
    await waitForLine(proc, "ready");
  }
  return {
    sw,
    client,
    lbs: lbNodes,
    nodes: made,
    async stopNodes() {
      for (const n of [...made].reverse()) await n.proc.stop("SIGTERM", 3_000);
    },
  };
};
