import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { aService, anEndpointSlice } from "@portico/core/testing";
import { start } from "@portico/host";
import { describeWith, program, root, until } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  CLEANUP,
  CLIENT,
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
import { appliesIn, nodeAddressAt, serversOf, trafficFrom, workersOf } from "./e2e/one-lb.js";
import { OneLbRun } from "./e2e/one-lb-run.js";

// `portico run` end to end: a real process against the wire-level API server, applying to a real
// HAProxy master in e2e/one-lb.ts's lab (one LB namespace, a client, three fake nodes). keepalived is
// off (`keepalived.apply: false`; its failover has its own tests): the lab puts the VIP on the LB
// namespace itself. Figures are printed; time bounds are safety caps.

const VIP = "198.18.100.10";
const NODES = ["node1", "node2", "node3"] as const;
type NodeId = (typeof NODES)[number];
const nodeAddress = (n: NodeId): string => nodeAddressAt(NODES.indexOf(n));
const say = sayer("portico run e2e");

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), root],
  "portico run end to end (real HAProxy, real traffic)",
  () => {
    // One address: a second Service can only get it once the first has released it.
    const lab = new OneLbRun({ prefix: "portico-e2e-", pool: [VIP], nodes: NODES, capMs: 30_000 });
    let porticoExited = false;

    const masterSock = (): string => `${lab.dir}/master.sock`;
    const adminSock = (): string => `${lab.dir}/admin.sock`;
    const server = () => lab.server();

    /** Up to `count` connections to the VIP from the client namespace, `parallel` at a time. */
    const traffic = (count: number, port = 80, parallel = 2): Promise<ClientSummary> =>
      trafficFrom(lab.client, VIP, count, port, parallel);
    const workers = (): Promise<number[]> => workersOf(masterSock());
    const servers = () => serversOf(adminSock());
    const logs = (): string => lab.logs();
    const applies = (): string[] => appliesIn(logs());
    const modify = (kind: string, name: string, change: (o: Obj) => void): void => {
      const o = server().get(kind, "default", name)!;
      change(o);
      server().put(o);
    };

    beforeAll(async () => {
      await lab.start();
      void lab.portico!.proc.exited.then(() => (porticoExited = true));
      await until(
        "portico ready",
        async () => (await fetch(`http://127.0.0.1:${lab.listen}/readyz`).catch(() => undefined))?.status === 200,
      );
    }, 90_000);

    afterAll(() => lab.stop(), 30_000);

    it("1. a new LoadBalancer Service: its VIP serves through real HAProxy; status, finalizer and Events are published", async () => {
      const probe = (
        await start("ip", ["netns", "exec", lab.client, process.execPath, PROBE, VIP, "80", "30000"], { stdio: "pipe" })
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
        await start("ip", ["netns", "exec", lab.client, process.execPath, CLIENT, VIP, "80", "1000000", "40000", "2"], {
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
        expect(await (await fetch(`http://127.0.0.1:${lab.listen}/metrics`)).text()).toContain(
          "portico_api_connected 0",
        );
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
          (await (await fetch(`http://127.0.0.1:${lab.listen}/metrics`)).text()).includes("portico_api_connected 1"),
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
        async () => !(await readFile(join(lab.dir, "haproxy.cfg"), "utf8")).includes(`bind ${VIP}:80`),
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
