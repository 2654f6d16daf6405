import { mkdtemp, rm } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { applyHaproxy, parseShowProc, sendCommand, sendCommands } from "@portico/adapter-haproxy";
import { run, start, type Started } from "@portico/host";
import {
  clientLoop,
  dataplaneNet,
  FAKE_NODE_BIN,
  HEALTH_PORT,
  must,
  NetnsLab,
  NODE_PORT,
  traffic,
  waitForLine,
  type ClientSummary,
  type DataplaneNet,
} from "@portico/testkit";
import { parseCidr } from "@portico/core";
import type {
  Millis,
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

// The testkit's data-plane network (namespaces `lb` for haproxy, `cl` and `node1..3` with fake
// Kubernetes nodes) with one VIP, 198.18.100.10, on the LB namespace's lo and a second client address.

export const VIP = "198.18.100.10";
/** The client namespace's addresses: connections come from the first unless told otherwise. */
export const CLIENT_ADDRESSES = ["198.18.10.2", "198.18.10.3"] as const;
/** Where the exporter listens, in the LB namespace's own loopback. */
export const EXPORTER = "127.0.0.1:8405";
export const NODES = ["node1", "node2", "node3"] as const;
export type NodeId = (typeof NODES)[number];
export const nodeAddress = (n: NodeId): string => `198.18.2${NODES.indexOf(n) + 1}.2`;

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
  /** `sessionAffinity: ClientIP` with this timeout: a stick table on the client address. */
  readonly affinitySeconds?: number;
  /** The servers' port; default the fake nodes' {@link NODE_PORT}. */
  readonly nodePort?: number;
  /** `healthCheck.fastinterMs` of the settings; absent: the check's own interval. */
  readonly fastinterMs?: number;
  /** Workers as `haproxy`:`haproxy` in the chroot /var/lib/haproxy, as the config's defaults have them. */
  readonly unprivileged?: boolean;
}

/** The shared check backend of Cluster-policy lab plans. */
export const CHECK_BACKEND = "chk_lab";

export class DataplaneLab {
  readonly netns = new NetnsLab();
  dir = "";
  net: DataplaneNet | undefined;
  haproxy: Started | undefined;
  /** haproxy's own output, for failure messages. */
  haproxyLog = "";

  get configPath(): string {
    return `${this.dir}/haproxy.cfg`;
  }

  get lb(): string {
    return this.net?.lb ?? "";
  }

  get client(): string {
    return this.net?.client ?? "";
  }

  /** Build the namespaces, start the fake nodes, write a first config and start haproxy on it. */
  async up(first: LabService): Promise<void> {
    this.dir = await mkdtemp("/tmp/portico-dp-");
    this.net = await dataplaneNet(this.netns, NODES, CLIENT_ADDRESSES);
    await must("ip", ["-n", this.lb, "addr", "add", `${VIP}/32`, "dev", "lo"]);
    // No haproxy yet: apply only writes the validated file.
    const written = (await applyHaproxy(this.plan(first)))._unsafeUnwrap();
    if (written.action !== "written") throw new Error(`first apply: ${written.action}`);
    await this.startHaproxy(first);
  }

  /**
   * {@link up}, then wait until HAProxy's check has each of `nodes` up; on any failure the lab is
   * taken down before the error is thrown, so a failed set-up leaves nothing behind.
   */
  async upServing(first: LabService, nodes: readonly NodeId[], capMs = 10_000): Promise<void> {
    try {
      await this.up(first);
      await this.until(async () => (await Promise.all(nodes.map((n) => this.serverUp(n)))).every(Boolean), capMs);
    } catch (e) {
      await this.down();
      throw e;
    }
  }

  /**
   * Stop haproxy and start it again on the installed file, as systemd does after a crash or a
   * package upgrade: a start that is not a reload.
   */
  async restartHaproxy(s: LabService): Promise<void> {
    await this.haproxy?.stop("SIGTERM", 3_000);
    await rm(this.plan(s).settings.haproxy.masterSocket, { force: true });
    await this.startHaproxy(s);
  }

  private async startHaproxy(first: LabService): Promise<void> {
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
    await this.net?.stopNodes();
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
      port: port(s.nodePort ?? NODE_PORT),
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
      ...(s.affinitySeconds === undefined
        ? {}
        : { affinity: { kind: "clientIp" as const, timeoutSeconds: s.affinitySeconds } }),
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
        healthCheck: {
          ...settings.healthCheck,
          ...(s.fastinterMs === undefined ? {} : { fastinterMs: s.fastinterMs as Millis }),
        },
        haproxy: {
          ...(s.unprivileged === true ? { user: "haproxy", group: "haproxy", chroot: "/var/lib/haproxy" } : {}),
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
    return traffic(this.client, VIP, targetPort, { count, maxMs, parallel, from });
  }

  /**
   * Start a connection loop in the client namespace that runs until `stop()` (or `capMs`, a
   * safety cap) and then reports.
   */
  async loop(capMs: number, parallel = 2): Promise<{ stop(): Promise<ClientSummary> }> {
    return clientLoop(this.client, VIP, 80, { maxMs: capMs, parallel });
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
      await start(
        "ip",
        ["netns", "exec", this.lb, process.execPath, FAKE_NODE_BIN, "blocker", String(p), String(p + 1)],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap();
    await waitForLine(proc, "ready");
    return proc;
  }

  /** Make a node's /healthz answer 200 or 503. */
  async health(n: NodeId, status: 200 | 503): Promise<void> {
    await this.net!.health(n, status);
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
    await must("ip", [
      "-n",
      this.net!.nodes.find((x) => x.name === n)!.ns,
      "addr",
      "replace",
      `${address}/24`,
      "dev",
      "eth0",
    ]);
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
}
