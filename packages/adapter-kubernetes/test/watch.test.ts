import { KubeConfig } from "@kubernetes/client-node";
import type { ClusterSnapshot } from "@portico/core";
import { aNode, aService, anEndpointSlice } from "@portico/core/testing";
import { KubeApiServer, until, type RecordedRequest } from "@portico/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ClusterWatch, SnapshotSource, type ClusterWatchOptions, type WatchHealth } from "../src/index.js";

// The real @kubernetes/client-node against the wire-level test API server.

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: KubeApiServer;
let watch: ClusterWatch | undefined;
let source: SnapshotSource | undefined;
let snapshots: ClusterSnapshot[];

let healthReports: WatchHealth[];

const startWatch = async (options: Partial<ClusterWatchOptions> = {}): Promise<void> => {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  snapshots = [];
  healthReports = [];
  watch = new ClusterWatch(kc, {
    backoff: { initialMs: 50, maxMs: 400, jitter: 0 },
    onChange: () => source?.changed(),
    onHealth: (h) => healthReports.push(h),
    ...options,
  });
  source = new SnapshotSource(watch, { quietMs: 30, maxDelayMs: 300 }, (s) => snapshots.push(s));
  await watch.start();
};
const last = () => snapshots[snapshots.length - 1]!;
const serviceKeys = (): string[] => last().services.map((s) => String(s.key));

beforeEach(async () => {
  server = await new KubeApiServer().start();
  server.put(aNode("worker-1", "198.18.2.1"));
  server.put(aNode("worker-2", "198.18.2.2"));
  server.put(aService({ name: "web" }));
  server.put(anEndpointSlice("default", "web", [{ ip: "198.19.0.1", node: "worker-1" }]));
});
afterEach(async () => {
  source?.stop();
  await watch?.stop();
  await server.stop();
});

describe("ClusterWatch and SnapshotSource", () => {
  it("publishes the first snapshot only after every initial list, with every object, though LIST items carry no kind", async () => {
    await startWatch();
    await until("first snapshot", () => snapshots.length > 0);
    expect(serviceKeys()).toEqual(["default/web"]);
    expect(last().nodes.map((n) => n.name)).toEqual(["worker-1", "worker-2"]);
    expect(last().endpointSlices.map((e) => e.service)).toEqual(["default/web"]);
    expect(last().services[0]?.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(watch!.health()).toMatchObject({ synced: true, connected: true });
  });

  it("turns a burst of events into one snapshot that holds all of them", async () => {
    await startWatch();
    await until("first snapshot", () => snapshots.length === 1);
    for (let i = 0; i < 20; i++) server.put(aService({ name: `burst-${i}` }));
    await until("burst snapshot", () => last().services.length === 21);
    await pause(200);
    expect(snapshots).toHaveLength(2);
  });

  it("publishes nothing when only fields Portico does not read change", async () => {
    await startWatch();
    await until("first snapshot", () => snapshots.length === 1);
    const node = server.get("Node", undefined, "worker-1")!;
    server.put({
      ...node,
      status: {
        ...(node["status"] as object),
        conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: "2026-11-26T00:00:00Z" }],
      },
    });
    await pause(400);
    expect(snapshots).toHaveLength(1);
    server.put(aNode("worker-3", "198.18.2.3"));
    await until("node snapshot", () => snapshots.length === 2);
    expect(last().nodes.map((n) => n.name)).toContain("worker-3");
  });

  it("relists after 410 Gone and loses no change made while it was away", async () => {
    await startWatch();
    await until("first snapshot", () => snapshots.length === 1);
    server.setUnreachable(true);
    server.put(aService({ name: "made-while-away" }));
    server.delete("Service", "default", "web");
    server.compact(); // the watch's resourceVersion is now too old: 410 on reconnect
    server.setUnreachable(false);
    await until("converged snapshot", () => serviceKeys().join() === "default/made-while-away");
    expect(watch!.health().connected).toBe(true);
  });

  it("keeps the last snapshot while the API server is unreachable, reports it, and converges after", async () => {
    await startWatch();
    await until("first snapshot", () => snapshots.length === 1);
    server.setUnreachable(true);
    await until("disconnected", () => !watch!.health().connected, 5_000);
    expect(watch!.health().lastError).toBeDefined();
    await pause(500);
    // Never an empty plan because a list failed: nothing new was published while away.
    expect(snapshots).toHaveLength(1);
    expect(watch!.objects().length).toBeGreaterThan(0);
    server.put(aService({ name: "later" }));
    server.setUnreachable(false);
    await until("converged", () => serviceKeys().includes("default/later"));
    await until("reconnected", () => watch!.health().connected);
    expect(watch!.health().restarts).toBeGreaterThan(0);
  });

  it("asks for bookmarks and a bounded watch, and reopens a watch the server ended from where it was, without a relist", async () => {
    await startWatch({ minWatchSeconds: 1 });
    await until("first snapshot", () => snapshots.length === 1);
    const serviceRequests = () => server.requests.filter((r) => r.path === "/api/v1/services");
    await until(
      "a second services watch",
      () => serviceRequests().filter((r) => r.query.includes("watch=true")).length >= 2,
      10_000,
    );
    const watches = serviceRequests().filter((r) => r.query.includes("watch=true"));
    for (const w of watches) {
      const q = new URLSearchParams(w.query);
      expect(q.get("allowWatchBookmarks")).toBe("true");
      expect(Number(q.get("timeoutSeconds"))).toBeGreaterThanOrEqual(1);
      expect(Number(q.get("timeoutSeconds"))).toBeLessThan(2);
      expect(Number(q.get("resourceVersion"))).toBeGreaterThan(0);
    }
    // One list, with a page size; every later request is a watch from a version.
    const lists = serviceRequests().filter((r) => !r.query.includes("watch=true"));
    expect(lists.map((r) => new URLSearchParams(r.query).get("limit"))).toEqual(["500"]);
    server.put(aService({ name: "after-reopen" }));
    await until("the change seen through the reopened watch", () => serviceKeys().includes("default/after-reopen"));
    expect(healthReports.filter((h) => !h.connected)).toEqual([]);
  });

  it("backs off during an outage instead of retrying at its first delay, and reports it once as it starts and once as it ends", async () => {
    await startWatch();
    await until("first snapshot", () => snapshots.length === 1);
    const reportsBefore = healthReports.length;
    server.setUnreachable(true);
    await pause(3_000);
    const restarts = watch!.health().restarts;
    server.setUnreachable(false);
    await until("reconnected", () => watch!.health().connected, 10_000);
    // Waits of 50, 100, 200 and then 400 ms for each of three informers: at most about ten
    // attempts each in 3 s (a first delay repeated would be some sixty each).
    expect(restarts).toBeGreaterThanOrEqual(3);
    expect(restarts).toBeLessThanOrEqual(3 * 12);
    expect(healthReports.slice(reportsBefore).map((h) => h.connected)).toEqual([false, true]);
  });

  it("reads a LIST page by page, and starts over when a later page's continue token expired (410), with no outage", async () => {
    for (let i = 0; i < 5; i++) server.put(aService({ name: `paged-${i}` }));
    // Each answer waits 100 ms; the history is compacted as soon as the first page has been served,
    // while the second page's request waits.
    server.setLatency(100);
    const started = startWatch({ pageSize: 2 });
    const firstPage = (r: RecordedRequest): boolean =>
      r.path === "/api/v1/services" && r.query.includes("limit=2") && !r.query.includes("continue=");
    await until("the first page served", () => server.requests.some(firstPage), 10_000);
    server.put(aService({ name: "paged-late" }));
    server.compact();
    await started;
    server.setLatency(0);
    await until("first snapshot", () => snapshots.length > 0);
    await until("every Service", () => serviceKeys().length === 7);
    const pages = server.requests.filter((r) => r.path === "/api/v1/services" && !r.query.includes("watch=true"));
    expect(pages.some((r) => r.status === 410 && r.query.includes("continue="))).toBe(true);
    expect(pages.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(4);
    expect(healthReports.filter((h) => !h.connected)).toEqual([]);
  });

  it.each([
    ["an ADDED event with a null object", '{"type":"ADDED","object":null}'],
    ["a MODIFIED event whose object has no metadata", '{"type":"MODIFIED","object":{"kind":"Service"}}'],
    ["an event of an unknown type", '{"type":"EXPLODED","object":{"metadata":{"name":"x"}}}'],
  ])(
    "a hostile API server's %s: no unhandled rejection; what was dropped is told, the informer restarts and loses no later change",
    async (_, line) => {
      const dropped: string[] = [];
      await startWatch({ onDropped: (what) => dropped.push(what) });
      await until("first snapshot", () => snapshots.length === 1);
      const restarts = watch!.health().restarts;
      server.sendRawWatchLine("Service", line);
      await until("the drop told", () => dropped.length > 0);
      expect(dropped[0]).toMatch(/^\/api\/v1\/services: dropped /);
      await until("the informer restarted", () => watch!.health().restarts > restarts);
      server.put(aService({ name: "after" }));
      await until("the change after it seen", () => serviceKeys().includes("default/after"));
      expect(watch!.health()).toMatchObject({ connected: true, dropped: 1 });
    },
  );

  it("drops a LIST item it cannot cache (no metadata.name), logs it, and serves the rest of the list", async () => {
    // Without the drop, client-node's informer throws on the nameless item and never syncs.
    server.putRaw("Service", { metadata: { namespace: "default" }, spec: { type: "LoadBalancer" } });
    server.put(aService({ name: "zz-after" }));
    const dropped: string[] = [];
    await startWatch({ onDropped: (what) => dropped.push(what) });
    await until("first snapshot", () => snapshots.length > 0);
    expect(serviceKeys()).toEqual(["default/web", "default/zz-after"]);
    expect(dropped).toEqual(["/api/v1/services: dropped 1 list items with no metadata.name"]);
    expect(watch!.health()).toMatchObject({ synced: true, dropped: 1 });
    // The watch after the list still delivers.
    server.put(aService({ name: "later" }));
    await until("later", () => serviceKeys().includes("default/later"));
  });

  it("stops quietly: no outage reported, no watch left open", async () => {
    await startWatch();
    await until("first snapshot", () => snapshots.length === 1);
    await until("three watches open", () => server.openWatches === 3);
    const reports = healthReports.length;
    source?.stop();
    await watch!.stop();
    await pause(300);
    expect(healthReports.slice(reports)).toEqual([]);
    expect(server.openWatches).toBe(0);
  });
});
