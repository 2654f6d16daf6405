import { aService, anEndpointSlice } from "@portico/core/testing";
import { describeWith, program, root, settled, until, type RecordedRequest } from "@portico/testkit";
import { afterAll, beforeAll, expect, it, onTestFailed } from "vitest";
import { ingressOf, metaOf, regardingOf, sayer, sleep, type Obj } from "./e2e/harness.js";
import { appliesIn, installedCfg, loopFrom, serverRowsOf, startPortico, trafficFrom, workersOf } from "./e2e/one-lb.js";
import { OneLbRun } from "./e2e/one-lb-run.js";

// What a real kube-apiserver does to `portico run` that a test double can hide: the items of a
// LIST carry no kind (the test API server answers as the real one does), so everything Portico
// knows at start, after a restart and after a watch expired comes from a LIST. The lab is
// e2e/one-lb.ts's: one LB node with a real HAProxy, two fake nodes, a client namespace.
//   web (Cluster policy) and api (Local, its pod on node1) exist before `portico run` starts.

const POOL = ["198.18.100.10", "198.18.100.11", "198.18.100.12"] as const;
const NODES = ["node1", "node2"] as const;
const say = sayer("portico run restart e2e");
/** A safety cap on each wait (a loaded 2-core machine is slow), never a target. */
const CAP = 30_000;

const isLeaseWrite = (w: RecordedRequest): boolean => w.path.includes("/leases");
/** What a Service is as stored: any write to it changes its resourceVersion. */
const versionOf = (o: Obj | undefined): string => String(metaOf(o)["resourceVersion"]);

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), root],
  "portico run across restarts and expired watches (real HAProxy, real traffic)",
  () => {
    const lab = new OneLbRun({ prefix: "portico-restart-e2e-", pool: POOL, nodes: NODES, capMs: CAP });

    const server = () => lab.server();
    const vipOf = (name: string): string | undefined => ingressOf(server().get("Service", "default", name))[0]?.ip;
    const traffic = (vip: string, count: number) => trafficFrom(lab.client, vip, count);
    const ready = async (): Promise<boolean> =>
      (await fetch(`http://127.0.0.1:${lab.listen}/readyz`).catch(() => undefined))?.status === 200;
    /** Writes other than the Lease's (the Lease is renewed every retry period, whatever happens). */
    const serviceWrites = (): RecordedRequest[] =>
      server()
        .writes()
        .filter((w) => !isLeaseWrite(w));
    /** Everything that says what is running: the file, the workers, every server slot. */
    const running = async () => ({
      cfg: await installedCfg(lab.dir),
      workers: await workersOf(`${lab.dir}/master.sock`),
      servers: await serverRowsOf(`${lab.dir}/admin.sock`),
    });
    /** Wait until the controller has stopped reacting to its own writes. */
    const quiet = () =>
      settled(
        "API writes and applies",
        () => [serviceWrites().length, appliesIn(lab.portico!.logs()).length],
        1_000,
        CAP,
      );

    // The cluster as it is before Portico ever runs.
    beforeAll(
      () =>
        lab.start((api) => {
          api.put(aService({ name: "web", created: "2026-01-01T00:00:00Z" }));
          api.put(
            aService({ name: "api", created: "2026-01-02T00:00:00Z", policy: "Local", healthCheckNodePort: 32100 }),
          );
          api.put(anEndpointSlice("default", "api", [{ ip: "10.244.1.5", node: "node1" }]));
        }),
      90_000,
    );
    afterAll(() => lab.stop(), 30_000);

    it("1. Services, Nodes and EndpointSlices that exist before portico run starts are served within seconds of its start", async () => {
      onTestFailed(() => say(`portico logs:\n${lab.logs()}`));
      await until("both Services' status", () => vipOf("web") !== undefined && vipOf("api") !== undefined, CAP);
      const web = vipOf("web")!;
      const apiVip = vipOf("api")!;
      expect([web, apiVip]).toEqual([POOL[0], POOL[1]]);
      await until(
        "both VIPs serving",
        async () => (await traffic(web, 2)).ok === 2 && (await traffic(apiVip, 2)).ok === 2,
        CAP,
      );
      const servedMs = Date.now() - lab.startedAt;
      await until("portico ready", ready, CAP);
      // web is Cluster policy: every listed Node serves it. api is Local: only the node its listed
      // EndpointSlice puts a pod on.
      const w = await traffic(web, 40);
      const a = await traffic(apiVip, 20);
      expect(w.failed, w.errors.join("; ")).toBe(0);
      expect(Object.keys(w.byNode).sort()).toEqual(["node1", "node2"]);
      expect(a).toMatchObject({ failed: 0, byNode: { node1: 20 } });
      say(
        `portico run started -> both pre-existing Services serving on their VIPs: ${servedMs} ms (web ${JSON.stringify(w.byNode)}, api ${JSON.stringify(a.byNode)})`,
      );
    }, 60_000);

    it("2. a restart with the cluster unchanged changes nothing: no reload, no runtime command, no API write, no failed connection", async () => {
      onTestFailed(() => say(`portico logs:\n${lab.logs()}`));
      await quiet();
      const before = await running();
      const services = server().list("Service");
      const events = server().list("Event").length;
      const writes = serviceWrites().length;
      const loops = [await loopFrom(lab.client, POOL[0], 40_000), await loopFrom(lab.client, POOL[1], 40_000)];
      await sleep(500);

      const t0 = Date.now();
      await lab.portico!.proc.stop("SIGTERM", 5_000);
      lab.portico = await startPortico(lab.dir);
      await until("the restarted portico applied its first plan", () => appliesIn(lab.portico!.logs()).length > 0, CAP);
      await until("the restarted portico ready", ready, CAP);
      const restartMs = Date.now() - t0;
      await quiet();
      await sleep(500);
      const summaries = await Promise.all(loops.map((l) => l.stop()));

      // The first plan after the restart is the plan it left: nothing to apply.
      expect(appliesIn(lab.portico!.logs())).toEqual(["none"]);
      expect(await running()).toEqual(before);
      expect(
        serviceWrites()
          .slice(writes)
          .map((w) => `${w.method} ${w.path}`),
      ).toEqual([]);
      expect(server().list("Service").map(versionOf)).toEqual(services.map(versionOf));
      expect(
        server()
          .list("Service")
          .map((s) => ingressOf(s)),
      ).toEqual(services.map((s) => ingressOf(s)));
      expect(server().list("Event")).toHaveLength(events);
      for (const s of summaries) {
        expect(s.failed, s.errors.join("; ")).toBe(0);
        expect(s.ok).toBeGreaterThan(20);
      }
      const ok = summaries.map((s) => s.ok).join(" + ");
      say(
        `restart (SIGTERM, start, first plan applied, ready) in ${restartMs} ms: applies ${JSON.stringify(appliesIn(lab.portico!.logs()))}, worker pids ${before.workers.join(",")} kept, haproxy.cfg and ${before.servers.length} server slots unchanged, 0 API writes but the Lease; ${ok} connections, 0 failed`,
      );
    }, 90_000);

    it("3. a watch that expired (410) relists: what changed meanwhile is served, and nothing that did not change is touched", async () => {
      onTestFailed(() => say(`portico logs:\n${lab.logs()}`));
      await quiet();
      const web = server().get("Service", "default", "web");
      const webServers = (await serverRowsOf(`${lab.dir}/admin.sock`)).filter((r) => r.includes("default_web"));
      expect(webServers.length).toBeGreaterThan(0);
      const lists = () =>
        server().requests.filter(
          (r) => r.method === "GET" && r.path === "/api/v1/services" && !r.query.includes("watch"),
        ).length;
      const listsBefore = lists();
      const writes = serviceWrites().length;
      const loop = await loopFrom(lab.client, POOL[0], 40_000);
      await sleep(300);

      server().setUnreachable(true);
      await sleep(500);
      // While Portico cannot see: api's pod moves to node2, and a new Service comes.
      server().put(anEndpointSlice("default", "api", [{ ip: "10.244.2.7", node: "node2" }]));
      server().put(aService({ name: "late", created: "2026-01-03T00:00:00Z" }));
      server().compact(); // the watches' resourceVersions are gone: 410 Gone when they come back
      server().setUnreachable(false);
      const t0 = Date.now();

      await until("late's status", () => vipOf("late") !== undefined, CAP);
      await until("late serving", async () => (await traffic(POOL[2], 2)).ok === 2, CAP);
      await until(
        "api on node2 only",
        async () => {
          const r = await traffic(POOL[1], 6);
          return r.ok === 6 && r.byNode["node2"] === 6;
        },
        CAP,
      );
      const convergedMs = Date.now() - t0;
      await quiet();
      const summary = await loop.stop();

      expect(lists()).toBeGreaterThan(listsBefore); // it did relist
      expect(vipOf("late")).toBe(POOL[2]);
      // web did not change: not written to, its servers as they were, its clients never refused.
      expect(versionOf(server().get("Service", "default", "web"))).toBe(versionOf(web));
      expect((await serverRowsOf(`${lab.dir}/admin.sock`)).filter((r) => r.includes("default_web"))).toEqual(
        webServers,
      );
      expect(summary.failed, summary.errors.join("; ")).toBe(0);
      const written = serviceWrites().slice(writes);
      const about = (w: RecordedRequest): string =>
        /\/services\/([^/]+)/.exec(w.path)?.[1] ?? regardingOf(w.body as Obj) ?? "?";
      expect([...new Set(written.map(about))]).toEqual(["late"]);
      const reasons = server()
        .list("Event")
        .map((e) => e["reason"]);
      expect(reasons).not.toContain("DeletingLoadBalancer");
      say(
        `watch expired while the API server was away; after it came back: relisted, late served and api's pod followed to node2 in ${convergedMs} ms; writes only about late (${written.length}); web untouched, ${summary.ok} connections to it, 0 failed`,
      );
    }, 90_000);
  },
);
