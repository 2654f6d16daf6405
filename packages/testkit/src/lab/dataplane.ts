import { run, start, type Started } from "@portico/host";
import { must, type NetnsLab } from "../netns.js";
import { waitForLine } from "../wait.js";
import { CLIENT_BIN, FAKE_NODE_BIN, type ClientSummary } from "./programs.js";

/** NODE_PORT is the nodePort every fake node of a {@link dataplaneNet} serves. */
export const NODE_PORT = 30080;
/** HEALTH_PORT is the /healthz port every fake node of a {@link dataplaneNet} serves. */
export const HEALTH_PORT = 32100;
/** LB_ADDRESS is the LB namespace's address on its link to the client namespace. */
export const LB_ADDRESS = "198.18.10.1";
/** VIP_RANGE is where the client namespace looks for VIPs: through the LB namespace. */
export const VIP_RANGE = "198.18.100.0/24";

/** nodeAddressAt is the address of the i-th (0-based) fake node of a {@link dataplaneNet}. */
export const nodeAddressAt = (i: number): string => `198.18.2${i + 1}.2`;

/** One fake node of a {@link dataplaneNet}: its name, namespace, address and running program. */
export interface FakeNode {
  readonly name: string;
  readonly ns: string;
  readonly address: string;
  readonly proc: Started;
}

/** DataplaneNet is what {@link dataplaneNet} built: the LB and client namespaces and the fake nodes. */
export interface DataplaneNet {
  readonly lb: string;
  readonly client: string;
  readonly nodes: readonly FakeNode[];
  /** Make a fake node's /healthz answer 200 or 503 (resolves once it says so). */
  health(node: string, status: 200 | 503): Promise<void>;
  /** Stop every fake node (the namespaces stay for the lab's `destroy`). */
  stopNodes(): Promise<void>;
}

const up = async (ns: string, dev: string, cidr: string): Promise<void> => {
  await must("ip", ["-n", ns, "addr", "add", cidr, "dev", dev]);
  await must("ip", ["-n", ns, "link", "set", dev, "up"]);
};

/**
 * dataplaneNet builds the data-plane lab's network in `netns`, joined by veth pairs made inside
 * the namespaces (nothing in the host's own) and one fake node per name in `nodes`:
 *   client 198.18.10.2 (and further `clientAddresses`) --- 198.18.10.1 lb (198.18.100.0/24 via lb)
 *   lb 198.18.2<i>.1 --- 198.18.2<i>.2 node<i>   (fake node: nodePort 30080, /healthz 32100)
 * The VIPs are the caller's to make local to the LB namespace.
 */
export const dataplaneNet = async (
  netns: NetnsLab,
  nodes: readonly string[],
  clientAddresses: readonly string[] = ["198.18.10.2"],
): Promise<DataplaneNet> => {
  const lb = await netns.add("lb");
  const client = await netns.add("cl");
  await must("ip", ["-n", lb, "link", "add", "c0", "type", "veth", "peer", "name", "eth0", "netns", client]);
  await up(lb, "c0", `${LB_ADDRESS}/24`);
  const [first = "198.18.10.2", ...more] = clientAddresses;
  await up(client, "eth0", `${first}/24`);
  for (const a of more) await must("ip", ["-n", client, "addr", "add", `${a}/24`, "dev", "eth0"]);
  await must("ip", ["-n", client, "route", "add", VIP_RANGE, "via", LB_ADDRESS]);
  const made: FakeNode[] = [];
  for (const [i, name] of nodes.entries()) {
    const ns = await netns.add(name);
    await must("ip", ["-n", lb, "link", "add", `n${i + 1}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await up(lb, `n${i + 1}`, `198.18.2${i + 1}.1/24`);
    await up(ns, "eth0", `${nodeAddressAt(i)}/24`);
    const args = ["netns", "exec", ns, process.execPath, FAKE_NODE_BIN, name, String(NODE_PORT), String(HEALTH_PORT)];
    const proc = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
    made.push({ name, ns, address: nodeAddressAt(i), proc });
    await waitForLine(proc, "ready");
  }
  return {
    lb,
    client,
    nodes: made,
    async health(node, status) {
      const proc = made.find((n) => n.name === node)?.proc;
      if (proc === undefined) throw new Error(`no fake node ${node}`);
      proc.stdin!.write(`${status}\n`);
      await waitForLine(proc, `health ${status}`);
    },
    async stopNodes() {
      for (const n of [...made].reverse()) await n.proc.stop("SIGTERM", 3_000);
    },
  };
};

/** What {@link traffic} and {@link clientLoop} ask the client for. */
export interface TrafficOptions {
  /** At most this many connections (default: a million, so `maxMs` bounds it). */
  readonly count?: number;
  /** At most this long. */
  readonly maxMs: number;
  /** Connections in flight at once (default 2). */
  readonly parallel?: number;
  /** The client namespace's address to connect from (default: the kernel's choice). */
  readonly from?: string;
}

const clientArgs = (ns: string, host: string, port: number, o: TrafficOptions): string[] => [
  "netns",
  "exec",
  ns,
  process.execPath,
  CLIENT_BIN,
  host,
  String(port),
  String(o.count ?? 1_000_000),
  String(o.maxMs),
  String(o.parallel ?? 2),
  ...(o.from === undefined ? [] : [o.from]),
];

/** traffic runs the lab's client in namespace `ns` against host:port and resolves with what it saw. */
export const traffic = async (ns: string, host: string, port: number, o: TrafficOptions): Promise<ClientSummary> => {
  const out = (await run("ip", clientArgs(ns, host, port, o), { timeoutMs: o.maxMs + 15_000 }))._unsafeUnwrap();
  if (out.code !== 0) throw new Error(`client exited ${out.code}: ${out.stderr}`);
  return JSON.parse(out.stdout) as ClientSummary;
};

/** A client running until {@link ClientLoop.stop}. */
export interface ClientLoop {
  readonly proc: Started;
  /** Tell the client to stop and resolve with its summary (killed if it has not ended within 15 s). */
  stop(): Promise<ClientSummary>;
}

/** clientLoop starts the lab's client in namespace `ns` against host:port, to run until stopped (or `maxMs`). */
export const clientLoop = async (ns: string, host: string, port: number, o: TrafficOptions): Promise<ClientLoop> => {
  const proc = (await start("ip", clientArgs(ns, host, port, o), { stdio: "pipe" }))._unsafeUnwrap();
  let out = "";
  proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  return {
    proc,
    async stop() {
      proc.stdin!.write("stop\n");
      const capped = new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000));
      const exit = await Promise.race([proc.exited, capped]);
      if (exit === undefined) await proc.stop("SIGKILL");
      if (exit?.code !== 0) throw new Error(`client loop ended ${JSON.stringify(exit)}`);
      return JSON.parse(out.trim().split("\n").pop() ?? "") as ClientSummary;
    },
  };
};
