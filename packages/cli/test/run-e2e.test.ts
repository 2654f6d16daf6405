import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseShowProc, sendCommand, sendCommands } from "@portico/adapter-haproxy";
import { aNode, aService, anEndpointSlice } from "@portico/core/testing";
import { run, start, type Started } from "@portico/host";
import { describeWith, freePort, KubeApiServer, must, NetnsLab, program, root, until } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  BIN,
  CLEANUP,
  CLIENT,
  FAKE_NODE,
  ingressOf,
  metaOf,
  PROBE,
  regardingOf,
  sayer,
  sleep,
  waitForLine,
  type ClientSummary,
  type Obj,
} from "./e2e/harness.js";

// `portico run` end to end: a real process against the wire-level API server, applying to a real
// HAProxy master in a network namespace whose VIP a client namespace connects to. The fake nodes
// are the data-plane lab's (a nodePort server and a /healthz server each, in their own namespace).
//   client 198.18.10.2 --- 198.18.10.1 lb (VIP 198.18.100.10 on lo; haproxy -W -S)
//   lb 198.18.2<i>.1 --- 198.18.2<i>.2 node<i>   (nodePort 30080, healthz 32100)
// `portico run` itself stays in the test's namespace: it reaches HAProxy only through files and
// unix sockets (config, master and stats sockets), and the master forks its workers, so binds land
// in the LB namespace; the API server stays on 127.0.0.1. keepalived is off (`keepalived.apply:
// false`; its failover has its own tests): the test puts the VIP on the LB namespace itself.
// Figures are printed; time bounds are safety caps.

const VIP = "198.18.100.10";
const NODES = ["node1", "node2", "node3"] as const;
type NodeId = (typeof NODES)[number];
const nodeAddress = (n: NodeId): string => `198.18.2${NODES.indexOf(n) + 1}.2`;
const say = sayer("portico run e2e");

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), root],
  "portico run end to end (real HAProxy, real traffic)",
  () => {
    const netns = new NetnsLab();
    const fakeNodes: Started[] = [];
    let api: KubeApiServer | undefined;
    let portico: Started | undefined;
    let haproxy: Started | undefined;
    let dir = "";
    let lb = "";
    let client = "";
    let listen = 0;
    let logs = "";
    let porticoExited = false;

    const masterSock = (): string => `${dir}/master.sock`;
    const adminSock = (): string => `${dir}/admin.sock`;
    const server = (): KubeApiServer => api!;

    /** Up to `count` connections to the VIP from the client namespace, `parallel` at a time. */
    const traffic = async (count: number, port = 80, parallel = 2): Promise<ClientSummary> => {
      const out = (
        await run(
          "ip",
          [
            "netns",
            "exec",
            client,
            process.execPath,
            CLIENT,
            VIP,
            String(port),
            String(count),
            "10000",
            String(parallel),
          ],
          { timeoutMs: 25_000 },
        )
      )._unsafeUnwrap();
      if (out.code !== 0) throw new Error(`client exited ${out.code}: ${out.stderr}`);
      return JSON.parse(out.stdout) as ClientSummary;
    };
    /** The HAProxy worker pids the master runs. */
    const workers = async (): Promise<number[]> => {
      const r = await sendCommand(masterSock(), { kind: "show-proc" });
      return r.isOk() ? (parseShowProc(r.value)?.workers.map((w) => w.pid) ?? []) : [];
    };
    /** Active servers (not in a maintenance slot) of every backend: address -> [op state, user weight]. */
    const servers = async (): Promise<Map<string, { up: boolean; weight: number }>> => {
      const answers = await sendCommands(adminSock(), [{ kind: "show-servers-state" }]);
      const rows = answers.isOk() ? (answers.value[0] ?? "").split("\n").map((l) => l.split(" ")) : [];
      // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight ...
      return new Map(
        rows
          .filter((f) => f.length > 8 && /^\d/.test(f[0]!) && f[6] !== "1" && f[6] !== "5")
          .map((f) => [f[4]!, { up: f[5] === "2", weight: Number(f[7]) }]),
      );
    };
    /** The haproxy actions of every "applied plan" line logged so far. */
    const applies = (): string[] =>
      logs
        .split("\n")
        .filter((l) => l.includes('"msg":"applied plan"'))
        .map((l) => (JSON.parse(l) as { haproxy: string }).haproxy);
    const modify = (kind: string, name: string, change: (o: Obj) => void): void => {
      const o = server().get(kind, "default", name)!;
      change(o);
      server().put(o);
    };

    beforeAll(async () => {
      try {
        dir = await mkdtemp("/tmp/portico-e2e-");
        lb = await netns.add("lb");
        client = await netns.add("cl");
        await must("ip", ["-n", lb, "link", "add", "c0", "type", "veth", "peer", "name", "eth0", "netns", client]);
        for (const [ns, dev, cidr] of [
          [lb, "c0", "198.18.10.1/24"],
          [client, "eth0", "198.18.10.2/24"],
        ] as const) {
          await must("ip", ["-n", ns, "addr", "add", cidr, "dev", dev]);
          await must("ip", ["-n", ns, "link", "set", dev, "up"]);
        }
        await must("ip", ["-n", client, "route", "add", "198.18.100.0/24", "via", "198.18.10.1"]);
        await must("ip", ["-n", lb, "addr", "add", `${VIP}/32`, "dev", "lo"]);
        for (const [i, n] of NODES.entries()) {
          const ns = await netns.add(n);
          await must("ip", ["-n", lb, "link", "add", `n${i + 1}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
          await must("ip", ["-n", lb, "addr", "add", `198.18.2${i + 1}.1/24`, "dev", `n${i + 1}`]);
          await must("ip", ["-n", lb, "link", "set", `n${i + 1}`, "up"]);
          await must("ip", ["-n", ns, "addr", "add", `${nodeAddress(n)}/24`, "dev", "eth0"]);
          await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
          const proc = (
            await start("ip", ["netns", "exec", ns, process.execPath, FAKE_NODE, n, "30080", "32100"], {
              stdio: "pipe",
            })
          )._unsafeUnwrap();
          fakeNodes.push(proc);
          await waitForLine(proc, "ready");
        }

        api = await new KubeApiServer().start();
        for (const n of NODES) api.put(aNode(n, nodeAddress(n)));
        listen = await freePort();
        await writeFile(join(dir, "kubeconfig"), api.kubeconfig("lb1"));
        await writeFile(
          join(dir, "portico.yaml"),
          [
            "apiVersion: portico.dev/v1alpha1",
            "kind: PorticoConfig",
            // One address: a second Service can only get it once the first has released it.
            `pools: [{name: default, addresses: [${VIP}-${VIP}]}]`,
            "lbNodes: [{name: lb1, address: 198.18.10.1, interface: c0}]",
            "healthCheck: {kubeProxyPort: 32100, intervalMs: 200, rise: 1, fall: 2}",
            `haproxy: {configPath: ${dir}/haproxy.cfg, statsSocket: ${adminSock()}, masterSocket: ${masterSock()}}`,
            "keepalived: {apply: false}",
            `controller: {listen: "127.0.0.1:${listen}", coalesce: {quietMs: 20, maxDelayMs: 200}, lease: {durationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200}}`,
            "",
          ].join("\n"),
        );
        portico = (
          await start(
            process.execPath,
            [
              BIN,
              "run",
              "--config",
              join(dir, "portico.yaml"),
              "--node",
              "lb1",
              "--kubeconfig",
              join(dir, "kubeconfig"),
            ],
            { stdio: "pipe" },
          )
        )._unsafeUnwrap();
        void portico.exited.then(() => (porticoExited = true));
        portico.stdout!.on("data", (b: Buffer) => (logs += b.toString()));
        portico.stderr!.on("data", (b: Buffer) => (logs += b.toString()));
        // With no master yet, the first apply only writes the validated file; HAProxy then starts on
        // it, as haproxy.service does on an LB node.
        await until(
          "the first haproxy.cfg",
          async () => (await readFile(join(dir, "haproxy.cfg"), "utf8").catch(() => "")) !== "",
        );
        haproxy = (
          await start(
            "ip",
            ["netns", "exec", lb, "haproxy", "-W", "-S", masterSock(), "-f", join(dir, "haproxy.cfg")],
            { stdio: "pipe" },
          )
        )._unsafeUnwrap();
        await until("an haproxy worker", async () => (await workers()).length > 0, 10_000);
        await until(
          "portico ready",
          async () => (await fetch(`http://127.0.0.1:${listen}/readyz`).catch(() => undefined))?.status === 200,
        );
      } catch (e) {
        throw new Error(`${(e as Error).message}\nportico logs:\n${logs}`);
      }
    }, 90_000);

    afterAll(async () => {
      await portico?.stop("SIGTERM", 5_000);
      await haproxy?.stop("SIGTERM", 3_000);
      for (const p of fakeNodes) await p.stop("SIGTERM", 2_000);
      await api?.stop();
      await netns.destroy();
      if (dir !== "") await rm(dir, { recursive: true, force: true });
    }, 30_000);

    it("1. a new LoadBalancer Service: its VIP serves through real HAProxy; status, finalizer and Events are published", async () => {
      const probe = (
        await start("ip", ["netns", "exec", client, process.execPath, PROBE, VIP, "80", "30000"], { stdio: "pipe" })
      )._unsafeUnwrap();
      try {
        await waitForLine(probe, "ready");
        server().put(anEndpointSlice("default", "web", [{ ip: "10.244.1.5", node: "node1" }]));
        const created = Date.now();
        server().put(
          aService({
            name: "web",
            policy: "Local",
            healthCheckNodePort: 32100,
            annotations: { "portico.dev/weighting": "pods-per-node" },
          }),
        );
        const line = await waitForLine(probe, "connected", 35_000);
        const convergedMs = Number(line.split(" ")[1]) - created;
        expect(line).toContain("node1");
        say(
          `Service created -> first successful connection to its VIP through HAProxy: ${convergedMs} ms (${line.split(" ").slice(2).join(" ")})`,
        );
      } finally {
        await probe.stop("SIGTERM", 2_000);
      }
      await until("status", () => ingressOf(server().get("Service", "default", "web")).length > 0);
      const svc = server().get("Service", "default", "web");
      expect(ingressOf(svc)).toEqual([expect.objectContaining({ ip: VIP, ipMode: "VIP" })]);
      expect(metaOf(svc)["finalizers"]).toEqual([CLEANUP]);
      await until("EnsuredLoadBalancer event", () =>
        server()
          .list("Event")
          .some((e) => e["reason"] === "EnsuredLoadBalancer"),
      );
      const reasons = server()
        .list("Event")
        .filter((e) => regardingOf(e) === "web")
        .map((e) => e["reason"]);
      expect(reasons).toContain("EnsuringLoadBalancer");
      expect(reasons).toContain("EnsuredLoadBalancer");
      const r = await traffic(30);
      expect(r.failed, r.errors.join("; ")).toBe(0);
      expect(r.byNode).toEqual({ node1: 30 });
      say(
        `status ${JSON.stringify(ingressOf(svc))}, finalizers ${JSON.stringify(metaOf(svc)["finalizers"])}, events ${JSON.stringify(reasons)}; 30 connections: ${JSON.stringify(r.byNode)}`,
      );
    }, 60_000);

    it("2. endpoints move between nodes (Local policy): servers and weights follow at runtime, no reload", async () => {
      const before = await workers();
      const appliesBefore = applies().length;
      const t0 = Date.now();
      // The pod on node1 goes; two land on node2 and one on node3.
      server().put(
        anEndpointSlice("default", "web", [
          { ip: "10.244.2.5", node: "node2" },
          { ip: "10.244.2.6", node: "node2" },
          { ip: "10.244.3.5", node: "node3" },
        ]),
      );
      await until("servers on node2 and node3 only", async () => {
        const s = await servers();
        return (
          !s.has(nodeAddress("node1")) &&
          s.get(nodeAddress("node2"))?.up === true &&
          s.get(nodeAddress("node3"))?.up === true
        );
      });
      const movedMs = Date.now() - t0;
      const s = await servers();
      expect(s.get(nodeAddress("node2"))!.weight).toBe(2 * s.get(nodeAddress("node3"))!.weight);
      const r = await traffic(60);
      expect(r.failed, r.errors.join("; ")).toBe(0);
      expect(r.byNode["node1"] ?? 0).toBe(0);
      expect(r.byNode["node2"] ?? 0).toBeGreaterThan(r.byNode["node3"] ?? 0);
      const after = applies().slice(appliesBefore);
      expect(after.length).toBeGreaterThan(0);
      expect(
        after.every((a) => a === "runtime" || a === "none"),
        JSON.stringify(after),
      ).toBe(true);
      expect(await workers()).toEqual(before);
      say(
        `endpoints node1 -> node2 x2 + node3 x1: servers followed in ${movedMs} ms, applies ${JSON.stringify(after)}, worker pid ${before.join(",")} unchanged; weights ${JSON.stringify(Object.fromEntries(s))}; 60 connections ${JSON.stringify(r.byNode)}`,
      );
    }, 60_000);

    it("5. the API server unreachable for 10 s: traffic to the VIP is unaffected, and changes made meanwhile converge after", async () => {
      const loop = (
        await start("ip", ["netns", "exec", client, process.execPath, CLIENT, VIP, "80", "1000000", "40000", "2"], {
          stdio: "pipe",
        })
      )._unsafeUnwrap();
      let out = "";
      loop.stdout!.on("data", (b: Buffer) => (out += b.toString()));
      let convergedMs = 0;
      try {
        await sleep(500);
        server().setUnreachable(true);
        const cut = Date.now();
        await sleep(1_000);
        // Made while Portico cannot see it: the pods move back to node1 and node3.
        server().put(
          anEndpointSlice("default", "web", [
            { ip: "10.244.1.6", node: "node1" },
            { ip: "10.244.3.5", node: "node3" },
          ]),
        );
        await sleep(Math.max(0, 10_000 - (Date.now() - cut)));
        // Fail static: the old servers are still there, the change is not.
        const during = await servers();
        expect(during.has(nodeAddress("node2"))).toBe(true);
        expect(during.has(nodeAddress("node1"))).toBe(false);
        expect(porticoExited).toBe(false);
        // ...and the outage is reported, not hidden.
        expect(await (await fetch(`http://127.0.0.1:${listen}/metrics`)).text()).toContain("portico_api_connected 0");
        server().setUnreachable(false);
        convergedMs = await until(
          "the change made during the outage",
          async () => {
            const s = await servers();
            return (
              !s.has(nodeAddress("node2")) &&
              s.get(nodeAddress("node1"))?.up === true &&
              s.get(nodeAddress("node3"))?.up === true
            );
          },
          60_000,
        );
        await until("the API connection reported back", async () =>
          (await (await fetch(`http://127.0.0.1:${listen}/metrics`)).text()).includes("portico_api_connected 1"),
        );
        await sleep(500);
      } finally {
        loop.stdin!.write("stop\n");
        const exit = await Promise.race([loop.exited, sleep(15_000).then(() => undefined)]);
        if (exit === undefined) await loop.stop("SIGKILL");
      }
      const summary = JSON.parse(out) as ClientSummary;
      expect(summary.failed, summary.errors.join("; ")).toBe(0);
      expect(summary.ok).toBeGreaterThan(100);
      const r = await traffic(40);
      expect(r.failed).toBe(0);
      expect(r.byNode["node2"] ?? 0).toBe(0);
      say(
        `API server unreachable 10 s: ${summary.ok} connections during the outage and after, ${summary.failed} failed (${JSON.stringify(summary.byNode)}); the change made meanwhile converged ${convergedMs} ms after the API server returned`,
      );
    }, 90_000);

    it("3. type changed to ClusterIP, then deleted: frontend gone, status cleared, finalizer removed, and the VIP serves a new Service", async () => {
      modify("Service", "web", (o) => {
        const spec = o["spec"] as Obj;
        spec["type"] = "ClusterIP";
        delete spec["externalTrafficPolicy"];
        delete spec["healthCheckNodePort"];
      });
      const releasedMs = await until("web released", () => {
        const svc = server().get("Service", "default", "web");
        return ingressOf(svc).length === 0 && ((metaOf(svc)["finalizers"] as unknown[] | undefined) ?? []).length === 0;
      });
      await until(
        "the frontend gone from haproxy.cfg",
        async () => !(await readFile(join(dir, "haproxy.cfg"), "utf8")).includes(`bind ${VIP}:80`),
      );
      await until("the VIP refusing connections", async () => (await traffic(3)).ok === 0);
      const events = server()
        .list("Event")
        .filter((e) => regardingOf(e) === "web")
        .map((e) => e["reason"]);
      expect(events).toContain("DeletedLoadBalancer");
      const writesBefore = server().writes().length;
      server().delete("Service", "default", "web");
      expect(server().get("Service", "default", "web")).toBeUndefined();
      await sleep(500);
      // Nothing more is written about a Service Portico no longer holds.
      expect(
        server()
          .writes()
          .slice(writesBefore)
          .filter((w) => w.path.includes("/services/web")),
      ).toEqual([]);

      const t0 = Date.now();
      server().put(aService({ name: "web2" }));
      await until("web2 gets the VIP", () => ingressOf(server().get("Service", "default", "web2"))[0]?.ip === VIP);
      await until("web2 serving", async () => (await traffic(3)).ok === 3);
      const reusedMs = Date.now() - t0;
      const r = await traffic(30);
      expect(r.failed).toBe(0);
      say(
        `type -> ClusterIP: status and finalizer cleared in ${releasedMs} ms, frontend removed, events ${JSON.stringify(events)}; ${VIP} served a new Service ${reusedMs} ms after it was created (${JSON.stringify(r.byNode)})`,
      );
    }, 60_000);
  },
);
