import { KubeConfig } from "@kubernetes/client-node";
import type { ClusterSnapshot } from "@portico/core";
import { aNode, aService, anEndpointSlice } from "@portico/core/testing";
import { KubeApiServer, until } from "@portico/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ClusterWatch, SnapshotSource } from "../src/index.js";

// The real @kubernetes/client-node against the wire-level test API server.

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: KubeApiServer;
let watch: ClusterWatch | undefined;
let source: SnapshotSource | undefined;
let snapshots: ClusterSnapshot[];

const startWatch = async (): Promise<void> => {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  snapshots = [];
  watch = new ClusterWatch(kc, { backoff: { initialMs: 50, maxMs: 400 }, onChange: () => source?.changed() });
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
  it("publishes the first snapshot only after every initial list, with every object", async () => {
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
});
