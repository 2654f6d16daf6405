import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseShowProc, sendCommand, sendCommands } from "@portico/adapter-haproxy";
import { start, type Started } from "@portico/host";
import { clientLoop, dataplaneNet, must, traffic, until, type ClientSummary, type NetnsLab } from "@portico/testkit";
import { BIN } from "./harness.js";

// One LB node in a network namespace, a client namespace in front of it and fake nodes behind it
// (the testkit's data-plane network, the VIPs on the LB namespace's lo), for the `portico run`
// end-to-end files that need a single LB node. `portico run` itself stays in the test's namespace:
// it reaches HAProxy only through files and unix sockets, and the master forks its workers, so
// binds land in the LB namespace.

/** The address of the i-th fake node (0-based). */
export { nodeAddressAt } from "@portico/testkit";

/** The namespaces and fake nodes of {@link buildOneLb}. */
export interface OneLb {
  readonly lb: string;
  readonly client: string;
  readonly fakeNodes: readonly Started[];
}

/** Build the lab: `vips` on the LB namespace's lo, one fake node per name in `nodes`. */
export const buildOneLb = async (
  netns: NetnsLab,
  vips: readonly string[],
  nodes: readonly string[],
): Promise<OneLb> => {
  const net = await dataplaneNet(netns, nodes);
  for (const vip of vips) await must("ip", ["-n", net.lb, "addr", "add", `${vip}/32`, "dev", "lo"]);
  return { lb: net.lb, client: net.client, fakeNodes: net.nodes.map((n) => n.proc) };
};

/** Up to `count` connections from the client namespace to `vip`:`port`, `parallel` at a time. */
export const trafficFrom = (
  client: string,
  vip: string,
  count: number,
  port = 80,
  parallel = 2,
): Promise<ClientSummary> => traffic(client, vip, port, { count, maxMs: 10_000, parallel });

/** A connection loop from the client namespace to `vip`:80, running until {@link Loop.stop}. */
export interface Loop {
  stop(): Promise<ClientSummary>;
}

/** Start a connection loop (bounded: at most `maxMs`, and a million connections). */
export const loopFrom = (client: string, vip: string, maxMs: number): Promise<Loop> =>
  clientLoop(client, vip, 80, { maxMs });

/** The HAProxy worker pids a master runs. */
export const workersOf = async (masterSock: string): Promise<number[]> => {
  const r = await sendCommand(masterSock, { kind: "show-proc" });
  return r.isOk() ? (parseShowProc(r.value)?.workers.map((w) => w.pid) ?? []) : [];
};

// `show servers state` rows, split into columns: be_id be_name srv_id srv_name srv_addr srv_op_state
// srv_admin_state srv_uweight ... srv_port (18) ...
const stateRows = async (adminSock: string): Promise<string[][]> => {
  const answers = await sendCommands(adminSock, [{ kind: "show-servers-state" }]);
  const rows = answers.isOk() ? (answers.value[0] ?? "").split("\n").map((l) => l.split(" ")) : [];
  return rows.filter((f) => f.length > 18 && /^\d/.test(f[0]!));
};

/**
 * Active servers (not in a maintenance slot) of every backend that carries traffic (not the
 * `chk_` check backends, which hold the same nodes at their health ports): address -> [op state,
 * user weight].
 */
export const serversOf = async (adminSock: string): Promise<Map<string, { up: boolean; weight: number }>> => {
  // srv_admin_state bit 0x01 is forced maintenance; a tracking slot in maintenance also has 0x02
  // (inherited from the check slot it tracks), so test the bit, not the value.
  const active = (await stateRows(adminSock)).filter((f) => !f[1]!.startsWith("chk_") && (Number(f[6]) & 1) === 0);
  return new Map(active.map((f) => [f[4]!, { up: f[5] === "2", weight: Number(f[7]) }]));
};

/** The haproxy action of every "applied plan" line in a `portico run` log. */
export const appliesIn = (logs: string): string[] =>
  logs
    .split("\n")
    .filter((l) => l.includes('"msg":"applied plan"'))
    .map((l) => (JSON.parse(l) as { haproxy: string }).haproxy);

/**
 * Start HAProxy in the LB namespace on the haproxy.cfg `portico run` wrote into `dir` (with no
 * master yet, its first apply only writes the validated file), as haproxy.service does on an LB
 * node, and wait for its first worker; `capMs` caps the wait.
 */
export const startHaproxyOn = async (lb: string, dir: string, capMs: number): Promise<Started> => {
  const args = ["netns", "exec", lb, "haproxy", "-W", "-S", `${dir}/master.sock`, "-f", join(dir, "haproxy.cfg")];
  const haproxy = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
  await until("an haproxy worker", async () => (await workersOf(`${dir}/master.sock`)).length > 0, capMs);
  return haproxy;
};

/** The installed haproxy.cfg in `dir` ("" before there is one). */
export const installedCfg = (dir: string): Promise<string> =>
  readFile(join(dir, "haproxy.cfg"), "utf8").catch(() => "");

/** Every server line of every backend as HAProxy runs it: backend, server, address, port, states, weight. */
export const serverRowsOf = async (adminSock: string): Promise<string[]> =>
  (await stateRows(adminSock)).map((f) => [1, 3, 4, 18, 5, 6, 7].map((i) => f[i]).join(" "));

/** portico.yaml for the one LB node `lb1` of this lab, its files and sockets in `dir`. */
export const oneLbConfig = (dir: string, pool: string, listen: number): string =>
  [
    "apiVersion: portico.dev/v1alpha1",
    "kind: PorticoConfig",
    `pools: [{name: default, addresses: [${pool}]}]`,
    "lbNodes: [{name: lb1, address: 198.18.10.1, interface: c0}]",
    "healthCheck: {kubeProxyPort: 32100, intervalMs: 200, rise: 1, fall: 2}",
    `haproxy: {configPath: ${dir}/haproxy.cfg, statsSocket: ${dir}/admin.sock, masterSocket: ${dir}/master.sock}`,
    "keepalived: {apply: false}",
    `controller: {listen: "127.0.0.1:${listen}", coalesce: {quietMs: 20, maxDelayMs: 200}, ` +
      "lease: {durationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200}}",
    "",
  ].join("\n");

/** A `portico run` process and everything it has logged. */
export interface PorticoRun {
  readonly proc: Started;
  logs(): string;
}

/** Start `portico run` for lb1 with `dir`'s portico.yaml and kubeconfig. */
export const startPortico = async (dir: string): Promise<PorticoRun> => {
  const args = [
    BIN,
    "run",
    "--config",
    join(dir, "portico.yaml"),
    "--node",
    "lb1",
    "--kubeconfig",
    join(dir, "kubeconfig"),
  ];
  const proc = (await start(process.execPath, args, { stdio: "pipe" }))._unsafeUnwrap();
  let logs = "";
  proc.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
  proc.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
  return { proc, logs: () => logs };
};
