import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseShowProc, sendCommand, sendCommands } from "@portico/adapter-haproxy";
import { run, start, type Started } from "@portico/host";
import { must, type NetnsLab } from "@portico/testkit";
import { BIN, CLIENT, FAKE_NODE, waitForLine, type ClientSummary } from "./harness.js";

// One LB node in a network namespace, a client namespace in front of it and fake nodes behind it,
// for the `portico run` end-to-end files that need a single LB node:
//   client 198.18.10.2 --- 198.18.10.1 lb (the VIPs on lo; haproxy -W -S)
//   lb 198.18.2<i>.1 --- 198.18.2<i>.2 node<i>   (nodePort 30080, healthz 32100)
// `portico run` itself stays in the test's namespace: it reaches HAProxy only through files and
// unix sockets, and the master forks its workers, so binds land in the LB namespace.

/** The address of the i-th fake node (0-based). */
export const nodeAddressAt = (i: number): string => `198.18.2${i + 1}.2`;

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
  const lb = await netns.add("lb");
  const client = await netns.add("cl");
  await must("ip", ["-n", lb, "link", "add", "c0", "type", "veth", "peer", "name", "eth0", "netns", client]);
  for (const [ns, dev, cidr] of [
    [lb, "c0", "198.18.10.1/24"],
    [client, "eth0", "198.18.10.2/24"],
  ] as const) {
    await must("ip", ["-n", ns, "addr", "add", cidr, "dev", dev]);
    await must("ip", ["-n", ns, "link", "set", dev, "up"]);
  }
  await must("ip", ["-n", client, "route", "add", "198.18.100.0/24", "via", "198.18.10.1"]);
  for (const vip of vips) await must("ip", ["-n", lb, "addr", "add", `${vip}/32`, "dev", "lo"]);
  const fakeNodes: Started[] = [];
  for (const [i, n] of nodes.entries()) {
    const ns = await netns.add(n);
    await must("ip", ["-n", lb, "link", "add", `n${i + 1}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await must("ip", ["-n", lb, "addr", "add", `198.18.2${i + 1}.1/24`, "dev", `n${i + 1}`]);
    await must("ip", ["-n", lb, "link", "set", `n${i + 1}`, "up"]);
    await must("ip", ["-n", ns, "addr", "add", `${nodeAddressAt(i)}/24`, "dev", "eth0"]);
    await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    const proc = (
      await start("ip", ["netns", "exec", ns, process.execPath, FAKE_NODE, n, "30080", "32100"], { stdio: "pipe" })
    )._unsafeUnwrap();
    fakeNodes.push(proc);
    await waitForLine(proc, "ready");
  }
  return { lb, client, fakeNodes };
};

/** Up to `count` connections from the client namespace to `vip`:`port`, `parallel` at a time. */
export const trafficFrom = async (
  client: string,
  vip: string,
  count: number,
  port = 80,
  parallel = 2,
): Promise<ClientSummary> => {
  const args = [
    "netns",
    "exec",
    client,
    process.execPath,
    CLIENT,
    vip,
    String(port),
    String(count),
    "10000",
    String(parallel),
  ];
  const out = (await run("ip", args, { timeoutMs: 25_000 }))._unsafeUnwrap();
  if (out.code !== 0) throw new Error(`client exited ${out.code}: ${out.stderr}`);
  return JSON.parse(out.stdout) as ClientSummary;
};

/** A connection loop from the client namespace to `vip`:80, running until {@link Loop.stop}. */
export interface Loop {
  stop(): Promise<ClientSummary>;
}

/** Start a connection loop (bounded: at most `maxMs`, and a million connections). */
export const loopFrom = async (client: string, vip: string, maxMs: number): Promise<Loop> => {
  const args = ["netns", "exec", client, process.execPath, CLIENT, vip, "80", "1000000", String(maxMs), "2"];
  const loop = (await start("ip", args, { stdio: "pipe" }))._unsafeUnwrap();
  let out = "";
  loop.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  return {
    async stop() {
      loop.stdin!.write("stop\n");
      const exit = await Promise.race([loop.exited, new Promise((r) => setTimeout(r, 15_000)).then(() => undefined)]);
      if (exit === undefined) await loop.stop("SIGKILL");
      return JSON.parse(out) as ClientSummary;
    },
  };
};

/** The HAProxy worker pids a master runs. */
export const workersOf = async (masterSock: string): Promise<number[]> => {
  const r = await sendCommand(masterSock, { kind: "show-proc" });
  return r.isOk() ? (parseShowProc(r.value)?.workers.map((w) => w.pid) ?? []) : [];
};

/** Active servers (not in a maintenance slot) of every backend: address -> [op state, user weight]. */
export const serversOf = async (adminSock: string): Promise<Map<string, { up: boolean; weight: number }>> => {
  const answers = await sendCommands(adminSock, [{ kind: "show-servers-state" }]);
  const rows = answers.isOk() ? (answers.value[0] ?? "").split("\n").map((l) => l.split(" ")) : [];
  // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight ...
  const active = rows.filter((f) => f.length > 8 && /^\d/.test(f[0]!) && f[6] !== "1" && f[6] !== "5");
  return new Map(active.map((f) => [f[4]!, { up: f[5] === "2", weight: Number(f[7]) }]));
};

/** The haproxy action of every "applied plan" line in a `portico run` log. */
export const appliesIn = (logs: string): string[] =>
  logs
    .split("\n")
    .filter((l) => l.includes('"msg":"applied plan"'))
    .map((l) => (JSON.parse(l) as { haproxy: string }).haproxy);

/** The installed haproxy.cfg in `dir` ("" before there is one). */
export const installedCfg = (dir: string): Promise<string> =>
  readFile(join(dir, "haproxy.cfg"), "utf8").catch(() => "");

/** Every server line of every backend as HAProxy runs it: backend, server, address, port, states, weight. */
export const serverRowsOf = async (adminSock: string): Promise<string[]> => {
  const answers = await sendCommands(adminSock, [{ kind: "show-servers-state" }]);
  const rows = answers.isOk() ? (answers.value[0] ?? "").split("\n").map((l) => l.split(" ")) : [];
  return rows
    .filter((f) => f.length > 18 && /^\d/.test(f[0]!))
    .map((f) => [1, 3, 4, 18, 5, 6, 7].map((i) => f[i]).join(" "));
};

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
