import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { applyHaproxy, parseShowProc, sendCommand, sendCommands } from "@portico/adapter-haproxy";
import { run, start, type Started } from "@portico/host";
import { must, NetnsLab } from "@portico/testkit";
import { parseCidr } from "@portico/core";
import type {
  Backend,
  CheckBackend,
  Frontend,
  HttpCheck,
  Plan,
  ProxyProtocol,
  Server,
  ServiceKey,
  NodeName,
} from "@portico/core";
import { emptyPlan, ident, ip, port, settings } from "../fixtures.js";

// A data-plane lab: namespaces `lb` (haproxy), `client` and `node1..3` (fake Kubernetes nodes),
// joined by veth pairs made inside the namespaces (nothing in the host's own namespace).
//   client 198.18.10.2 (and .3) --- 198.18.10.1 lb (VIP 198.18.100.10 on lo)
//   lb 198.18.2<i>.1 --- 198.18.2<i>.2 node<i>   (nodePort 30080, healthz 32100)

const FAKE_NODE = fileURLToPath(new URL("./fake-node.mjs", import.meta.url));
const CLIENT = fileURLToPath(new URL("./client.mjs", import.meta.url));

export const VIP = "198.18.100.10";
/** The client namespace's addresses: connections come from the first unless told otherwise. */
export const CLIENT_ADDRESSES = ["198.18.10.2", "198.18.10.3"] as const;
export const NODE_PORT = 30080;
/** Where the exporter listens, in the LB namespace's own loopback. */
export const EXPORTER = "127.0.0.1:8405";
export const HEALTH_PORT = 32100;
export const NODES = ["node1", "node2", "node3"] as const;
export type NodeId = (typeof NODES)[number];
export const nodeAddress = (n: NodeId): string => `198.18.2${NODES.indexOf(n) + 1}.2`;

/** What the client process reports. */
export interface ClientSummary {
  readonly ok: number;
  readonly failed: number;
  readonly byNode: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
  readonly samples: readonly { readonly local: string; readonly seen: string | null; readonly proxy: string }[];
}

/** How the test wants the one Service laid out. */
export interface LabService {
  readonly proxy?: ProxyProtocol;
  /** node -> weight; absent nodes are not servers. */
  readonly servers: Partial<Record<NodeId, number>>;
  /** Extra frontend ports on the VIP (each one needs a reload to add). */
  readonly extraPorts?: readonly number[];
  readonly intervalMs?: number;
  readonly fall?: number;
  readonly rise?: number;
  /** loadBalancerSourceRanges of every frontend, as CIDR text. */
  readonly sourceRanges?: readonly string[];
  /** HAProxy's Prometheus exporter on {@link EXPORTER} inside the LB namespace. */
  readonly exporter?: boolean;
  /** `haproxy.threads` of the config. */
  readonly threads?: number;
  /**
   * `Cluster`: the servers track a shared check backend ({@link CHECK_BACKEND}) that checks each
   * node's health port once, as kube-proxy's. Default `Local`: the backend checks on its own.
   */
  readonly policy?: "Local" | "Cluster";
  /** A node's address other than {@link nodeAddress} (an extra address the lab gave it). */
  readonly addresses?: Partial<Record<NodeId, string>>;
}

/** The shared check backend of Cluster-policy lab plans. */
export const CHECK_BACKEND = "chk_lab";

export class DataplaneLab {
  readonly netns = new NetnsLab();
  dir = "";
  lb = "";
  client = "";
  readonly nodes = new Map<NodeId, { ns: string; proc: Started }>();
  haproxy: Started | undefined;
  /** haproxy's own output, for failure messages. */
  haproxyLog = "";

  get configPath(): string {
    return `${this.dir}/haproxy.cfg`;
  }

  /** Build the namespaces, start the fake nodes, write a first config and start haproxy on it. */
  async up(first: LabService): Promise<void> {
    this.dir = await mkdtemp("/tmp/portico-dp-");
    this.lb = await this.netns.add("lb");
    this.client = await this.netns.add("cl");
    await must("ip", [
      "-n",
      this.lb,
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
    await this.addr(this.lb, "c0", "198.18.10.1/24");
    await this.addr(this.client, "eth0", `${CLIENT_ADDRESSES[0]}/24`);
    await must("ip", ["-n", this.client, "addr", "add", `${CLIENT_ADDRESSES[1]}/24`, "dev", "eth0"]);
    await must("ip", ["-n", this.client, "route", "add", "198.18.100.0/24", "via", "198.18.10.1"]);
    await must("ip", ["-n", this.lb, "addr", "add", `${VIP}/32`, "dev", "lo"]);
    for (const [i, n] of NODES.entries()) {
      const ns = await this.netns.add(n);
      await must("ip", [
        "-n",
        this.lb,
        "link",
        "add",
        `n${i + 1}`,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns,
      ]);
      await this.addr(this.lb, `n${i + 1}`, `198.18.2${i + 1}.1/24`);
      await this.addr(ns, "eth0", `198.18.2${i + 1}.2/24`);
      const proc = (
        await start(
          "ip",
          ["netns", "exec", ns, process.execPath, FAKE_NODE, n, String(NODE_PORT), String(HEALTH_PORT)],
          { stdio: "pipe" },
        )
      )._unsafeUnwrap();
      this.nodes.set(n, { ns, proc });
      await waitForLine(proc, "ready");
    }
    // No haproxy yet: apply only writes the validated file.
    const written = (await applyHaproxy(this.plan(first)))._unsafeUnwrap();
    if (written.action !== "written") throw new Error(`first apply: ${written.action}`);
    this.haproxy = (
      await start(
        "ip",
        [
          "netns",
          "exec",
          this.lb,
          "haproxy",
          "-W",
          "-S",
          this.plan(first).settings.haproxy.masterSocket,
          "-f",
          this.configPath,
        ],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap();
    this.haproxy.stdout!.on("data", (b: Buffer) => (this.haproxyLog += b.toString()));
    this.haproxy.stderr!.on("data", (b: Buffer) => (this.haproxyLog += b.toString()));
    let last = "";
    await this.until(async () => {
      const proc = await sendCommand(this.plan(first).settings.haproxy.masterSocket, { kind: "show-proc" });
      last = proc.isOk() ? proc.value : proc.error.message;
      return proc.isOk() && (parseShowProc(proc.value)?.workers.length ?? 0) > 0;
    }, 10_000).catch((e: Error) => {
      throw new Error(`${e.message}: haproxy did not start: ${last}\n${this.haproxyLog}`);
    });
  }

  async down(): Promise<void> {
    await this.haproxy?.stop("SIGTERM", 3_000);
    for (const { proc } of this.nodes.values()) await proc.stop("SIGTERM", 2_000);
    await this.netns.destroy();
    if (this.dir !== "") await rm(this.dir, { recursive: true, force: true });
  }

  /** The lab's one Service as a Plan, settings pointing into the lab's directory. */
  plan(s: LabService): Plan {
    const key = "lab/web" as ServiceKey;
    const cluster = s.policy === "Cluster";
    const members = NODES.filter((n) => s.servers[n] !== undefined);
    const servers: Server[] = members.map((n) => ({
      id: ident(`node_${n}`),
      node: n as NodeName,
      address: ip(s.addresses?.[n] ?? nodeAddress(n)),
      port: port(NODE_PORT),
      weight: s.servers[n]!,
      ...(cluster ? { track: ident(`node_${n}`) } : {}),
    }));
    const http: HttpCheck = {
      kind: "http",
      source: cluster ? "kubeProxy" : "healthCheckNodePort",
      path: "/healthz",
      port: port(HEALTH_PORT),
      expectStatus: 200,
      intervalMs: s.intervalMs ?? 200,
      rise: s.rise ?? 2,
      fall: s.fall ?? 2,
    };
    // Cluster policy: the fake nodes' health port stands in for kube-proxy's, checked once per node.
    const checks: CheckBackend[] = cluster
      ? [
          {
            id: ident(CHECK_BACKEND),
            healthCheck: http,
            servers: servers.map((x) => ({
              id: x.id,
              node: x.node,
              address: x.address,
              port: port(HEALTH_PORT),
              weight: 1,
            })),
          },
        ]
      : [];
    const backend: Backend = {
      id: ident("be_lab_web_80_4"),
      service: key,
      servicePort: port(80),
      family: 4,
      balance: "roundrobin",
      proxyProtocol: s.proxy ?? "none",
      healthCheck: cluster ? { kind: "track", source: "kubeProxy", backend: ident(CHECK_BACKEND) } : http,
      servers,
    };
    const sourceRanges = (s.sourceRanges ?? []).map((c) => parseCidr(c)._unsafeUnwrap());
    const frontends: Frontend[] = [80, ...(s.extraPorts ?? [])].map((p) => ({
      id: ident(`fe_lab_web_${p}_4`),
      service: key,
      vip: ip(VIP),
      port: port(p),
      protocol: "TCP",
      backend: backend.id,
      ...(sourceRanges.length === 0 ? {} : { sourceRanges }),
    }));
    return {
      ...emptyPlan(),
      frontends,
      backends: [backend],
      checks,
      settings: {
        ...settings,
        haproxy: {
          configPath: this.configPath,
          statsSocket: `${this.dir}/admin.sock`,
          masterSocket: `${this.dir}/master.sock`,
          ...(s.threads === undefined ? {} : { threads: s.threads }),
          ...(s.exporter === true
            ? { prometheus: { address: ip(EXPORTER.split(":")[0]!), port: port(Number(EXPORTER.split(":")[1])) } }
            : {}),
        },
      },
    };
  }

  /**
   * Run the client in its namespace: up to `count` connections, `parallel` at a time, for at most
   * `maxMs`, from the client address `from`.
   */
  async traffic(
    count: number,
    maxMs: number,
    parallel = 2,
    targetPort = 80,
    from: string = CLIENT_ADDRESSES[0],
  ): Promise<ClientSummary> {
    const r = await run(
      "ip",
      [
        "netns",
        "exec",
        this.client,
        process.execPath,
        CLIENT,
        VIP,
        String(targetPort),
        String(count),
        String(maxMs),
        String(parallel),
        from,
      ],
      { timeoutMs: maxMs + 15_000 },
    );
    const out = r._unsafeUnwrap();
    if (out.code !== 0) throw new Error(`client exited ${out.code}: ${out.stderr}`);
    return JSON.parse(out.stdout) as ClientSummary;
  }

  /**
   * Start a connection loop in the client namespace that runs until `stop()` (or `capMs`, a
   * safety cap) and then reports.
   */
  async loop(capMs: number, parallel = 2): Promise<{ stop(): Promise<ClientSummary> }> {
    const proc = (
      await start(
        "ip",
        ["netns", "exec", this.client, process.execPath, CLIENT, VIP, "80", "1000000", String(capMs), String(parallel)],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap();
    let out = "";
    proc.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    return {
      stop: async () => {
        proc.stdin!.write("stop\n");
        const exit = await Promise.race([
          proc.exited,
          new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000)),
        ]);
        if (exit === undefined) await proc.stop("SIGKILL");
        if (exit?.code !== 0) throw new Error(`client loop ended ${JSON.stringify(exit)}`);
        return JSON.parse(out) as ClientSummary;
      },
    };
  }

  /** GET a URL from inside the LB namespace: the status and body, or the connection error. */
  async httpGetInLb(url: string): Promise<{ status: number; body: string } | { error: string }> {
    const script =
      "fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })), (e) => console.log(JSON.stringify({ error: String(e.cause?.code ?? e.message) })))";
    const out = (
      await run("ip", ["netns", "exec", this.lb, process.execPath, "-e", script, url], { timeoutMs: 15_000 })
    )._unsafeUnwrap();
    if (out.code !== 0) throw new Error(`GET ${url} exited ${out.code}: ${out.stderr}`);
    return JSON.parse(out.stdout) as { status: number; body: string } | { error: string };
  }

  /** Hold a TCP port on every address of the LB namespace with a process that is not haproxy. */
  async occupy(p: number): Promise<Started> {
    const proc = (
      await start("ip", ["netns", "exec", this.lb, process.execPath, FAKE_NODE, "blocker", String(p), String(p + 1)], {
        stdio: "pipe",
      })
    )._unsafeUnwrap();
    await waitForLine(proc, "ready");
    return proc;
  }

  /** Make a node's /healthz answer 200 or 503. */
  async health(n: NodeId, status: 200 | 503): Promise<void> {
    const node = this.nodes.get(n)!;
    node.proc.stdin!.write(`${status}\n`);
    await waitForLine(node.proc, `health ${status}`);
  }

  /**
   * The operational state HAProxy gives the server at a node's address (or `address`), among the
   * slots not in maintenance: up or down.
   */
  async serverUp(n: NodeId, address: string = nodeAddress(n)): Promise<boolean> {
    const answers = (
      await sendCommands(`${this.dir}/admin.sock`, [{ kind: "show-servers-state", backend: "be_lab_web_80_4" }])
    )._unsafeUnwrap();
    // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...; op 2 =
    // running; admin bits 0x01 (forced), 0x02 (inherited from a tracked server) and 0x20 are maintenance.
    const row = (answers[0] ?? "")
      .split("\n")
      .map((l) => l.split(" "))
      .find((f) => f[4] === address && (Number(f[6]) & 0x23) === 0);
    return row?.[5] === "2";
  }

  /** Give a node's namespace another address on its link to the LB namespace (same subnet); idempotent. */
  async addNodeAddress(n: NodeId, address: string): Promise<void> {
    await must("ip", ["-n", this.nodes.get(n)!.ns, "addr", "replace", `${address}/24`, "dev", "eth0"]);
  }

  /** The master's reload count and the pids of its workers (`show proc` on the master CLI). */
  async workers(): Promise<{ reloads: number; pids: readonly number[] }> {
    const proc = parseShowProc((await sendCommand(`${this.dir}/master.sock`, { kind: "show-proc" }))._unsafeUnwrap());
    if (proc === undefined) throw new Error("show proc: no master line");
    return { reloads: proc.reloads, pids: proc.workers.map((w) => w.pid).sort((a, b) => a - b) };
  }

  /** Poll `check` until it holds; returns the milliseconds it took. Throws after `capMs`. */
  async until(check: () => Promise<boolean>, capMs: number): Promise<number> {
    const t0 = performance.now();
    while (performance.now() - t0 < capMs) {
      if (await check()) return Math.round(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`condition not met within ${capMs} ms`);
  }

  private async addr(ns: string, dev: string, cidr: string): Promise<void> {
    await must("ip", ["-n", ns, "addr", "add", cidr, "dev", dev]);
    await must("ip", ["-n", ns, "link", "set", dev, "up"]);
  }
}

const waitForLine = async (proc: Started, line: string): Promise<void> => {
  let seen = "";
  const timer = setTimeout(() => proc.stdout!.emit("error", new Error(`no "${line}" within 10 s: ${seen}`)), 10_000);
  try {
    while (!seen.split("\n").includes(line)) {
      const [chunk] = (await once(proc.stdout!, "data")) as [Buffer];
      seen += chunk.toString();
    }
  } finally {
    clearTimeout(timer);
  }
};
