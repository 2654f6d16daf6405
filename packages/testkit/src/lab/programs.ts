import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The programs are built to dist/lab/ (they run under plain `node` inside network namespaces);
// this file is read from src by the tests and from dist by the benchmarks, so find the package.
const packageRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
};
const program = (name: string): string => join(packageRoot(), "dist", "lab", `${name}.js`);

/**
 * FAKE_NODE_BIN is the lab's fake Kubernetes node:
 * `node FAKE_NODE_BIN <name> <nodePort,...> <healthPort,...> [--http] [--state-dir <dir>]`. Each
 * nodePort answers `{ node, port, client, proxy, peer }` (the client from a PROXY v1/v2 header, else
 * the peer) at once, or with `--http` after reading the request (in HTTP to an HTTP request); each
 * health port answers GET /healthz. Without a state directory it prints "ready", flips its health
 * on a "503" or "200" line on stdin (printing `health <status>`) and ends with stdin; with one it
 * runs detached, failing while `<dir>/fail` exists and writing `<dir>/pid` (or `<dir>/error`).
 */
export const FAKE_NODE_BIN = program("fake-node");

/**
 * CLIENT_BIN is the lab's bounded client:
 * `node CLIENT_BIN <host> <port> <maxConnections> <maxMs> <parallel> [<localAddress>]`; prints one
 * {@link ClientSummary}; a "stop" line on stdin ends it early.
 */
export const CLIENT_BIN = program("client");

/**
 * FIRST_CONNECT_BIN tries a VIP every 5 ms until a fake node answers:
 * `node FIRST_CONNECT_BIN <host> <port> <maxMs>`; prints "ready", then
 * `connected <epoch ms> <node> after <n> attempts` (or `gave up after <n> attempts`, exit 1).
 */
export const FIRST_CONNECT_BIN = program("first-connect");

/**
 * VIP_PROBE_BIN watches which LB node answers a VIP over HTTP:
 * `node VIP_PROBE_BIN <vip> <port> not:<lb,...>|is:<lb,...> <maxMs> [<readyFile>]`; prints one
 * {@link VipProbeResult}.
 */
export const VIP_PROBE_BIN = program("vip-probe");

/**
 * HTTP_GET_BIN GETs URLs until each answers 200 or a cap passes:
 * `node HTTP_GET_BIN <capMs> <url> ...`; prints `{ url, status, body }` or `{ url, error }` per URL,
 * exits 0 when all answered 200.
 */
export const HTTP_GET_BIN = program("http-get");

/** ClientSummary is what {@link CLIENT_BIN} prints: answers by node, failures, and what the first answers saw. */
export interface ClientSummary {
  readonly ok: number;
  readonly failed: number;
  readonly byNode: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
  /** Up to 10: the client's own address, the client address the node saw, and the PROXY version it read. */
  readonly samples: readonly { readonly local: string; readonly seen: string | null; readonly proxy: string }[];
}

/** VipProbeResult is what {@link VIP_PROBE_BIN} prints: each change of outcome, and the answer it waited for. */
export interface VipProbeResult {
  readonly started: number;
  readonly attempts: number;
  /** `answer:<lb node>`, `timeout`, `refused`, `empty` or `error:<code>`, each with its wall-clock time. */
  readonly events: readonly { readonly t: number; readonly outcome: string }[];
  readonly first: { readonly t: number; readonly answer: string } | null;
}

/**
 * UDP_CLIENT_BIN is the lab's bounded UDP client:
 * `node UDP_CLIENT_BIN <host> <port> <count> <timeoutMs> [<localAddress>] [<firstSourcePort>]`; each
 * datagram from its own source port (from `firstSourcePort` up when given); prints `{ sent, answers: [{ sport, node, client } | { sport, timeout }] }`.
 */
export const UDP_CLIENT_BIN = program("udp-client");

/**
 * HELD_FLOWS_BIN holds long-lived TCP flows to fake nodes started with `--hold`:
 * `node HELD_FLOWS_BIN <host> <port> <count> <maxMs> [<localAddress>] [<firstSourcePort>]`; prints
 * `{ round, flows: [{ sport, node } | { sport, error }] }` once opened and again at each "ping" line
 * on stdin (a reset is error ECONNRESET); "end" closes them.
 */
export const HELD_FLOWS_BIN = program("held-flows");

/**
 * UDP_LOOP_BIN is the lab's bounded UDP request/response loop:
 * `node UDP_LOOP_BIN <host> <port> <fresh|one> <firstPort> <ports> <intervalMs> <timeoutMs> <maxCount> <maxMs>`;
 * `fresh` sends each request from a new socket (a DNS resolver's new port per query, the ports
 * cycling from firstPort), `one` every request from one socket (a long-lived flow); prints
 * "started", then "ready" at the first answer, ends at a "stop" line on stdin or its bounds, and
 * prints one {@link UdpLoopResult}.
 */
export const UDP_LOOP_BIN = program("udp-loop");

/** UdpLoopResult is what {@link UDP_LOOP_BIN} prints: each request's outcome with its wall-clock times. */
export interface UdpLoopResult {
  readonly sent: number;
  /** Answers that came after their request had timed out. */
  readonly late: number;
  /** Where each datagram a node sent unasked (the fake node's "push") that reached the loop was sent to. */
  readonly pushes: readonly string[];
  readonly answers: readonly {
    readonly i: number;
    readonly sentAt: number;
    readonly sport: number;
    readonly at?: number;
    readonly node?: string;
    /** The client address the node saw. */
    readonly client?: string;
    readonly timeout?: true;
  }[];
}
