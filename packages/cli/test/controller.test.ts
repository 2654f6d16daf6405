import { KubeConfig } from "@kubernetes/client-node";
import { parseConfig, type LbNodeName, type Plan } from "@portico/core";
import { aConfig, aNode, aService } from "@portico/core/testing";
import { freePort, KubeApiServer, until } from "@portico/testkit";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Controller, type NodeApplyResult } from "../src/controller.js";

// The run loop against the wire-level API server and the real client; applying is recorded
// here (the HAProxy and keepalived apply paths have their own tests on the real binaries).

let server: KubeApiServer;
const controllers: Controller[] = [];

const controller = async (node: string, applied: Plan[]): Promise<{ c: Controller; port: number }> => {
  const port = await freePort();
  const config = parseConfig({
    ...aConfig(),
    controller: {
      listen: `127.0.0.1:${port}`,
      coalesce: { quietMs: 20, maxDelayMs: 200 },
      lease: { durationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 },
    },
  })._unsafeUnwrap();
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig(node));
  const apply = async (p: Plan): Promise<NodeApplyResult> => {
    applied.push(p);
    return { haproxy: "reload", keepalived: "none", errors: [] };
  };
  const c = new Controller({
    kubeConfig: kc,
    config,
    node: node as LbNodeName,
    apply,
    logger: pino({ level: "silent" }),
    statusRetryMs: 100,
  });
  controllers.push(c);
  await c.start();
  return { c, port };
};
const get = async (port: number, path: string) => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
};

beforeEach(async () => {
  server = await new KubeApiServer().start();
  server.put(aNode("worker-1", "198.18.2.1"));
  server.put(aService({ name: "web" }));
});
afterEach(async () => {
  for (const c of controllers.splice(0)) await c.stop();
  await server.stop();
});

describe("portico run's controller loop", () => {
  it("plans, applies, publishes status as leader, and reports itself", async () => {
    const applied: Plan[] = [];
    const { c, port } = await controller("lb1", applied);
    await until("status published", () =>
      JSON.stringify(server.get("Service", "default", "web")?.["status"] ?? {}).includes("198.18.100.10"),
    );
    expect(applied.at(-1)?.services.map((s) => s.key)).toEqual(["default/web"]);
    expect(c.isLeader()).toBe(true);
    expect(await get(port, "/healthz")).toEqual({ status: 200, text: "ok\n" });
    expect(await get(port, "/readyz")).toEqual({ status: 200, text: "ok\n" });
    const metrics = (await get(port, "/metrics")).text;
    expect(metrics).toMatch(/portico_plans_total \d+/);
    expect(metrics).toContain('portico_applies_total{target="haproxy",kind="reload"}');
    expect(metrics).toContain("portico_leader 1");

    server.put(aService({ name: "api", created: "2026-02-01T00:00:00Z" }));
    await until("second Service applied", () => applied.at(-1)?.services.length === 2);
  });

  it("keeps the last plan while the API server is away, says so, and converges after", async () => {
    const applied: Plan[] = [];
    const { port } = await controller("lb1", applied);
    await until("first apply", () => applied.length > 0);
    const before = applied.length;
    server.setUnreachable(true);
    let ready = await get(port, "/readyz");
    for (let i = 0; i < 250 && ready.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ready = await get(port, "/readyz");
    }
    expect(ready.status).toBe(503);
    expect(ready.text).toContain("API server unreachable");
    await new Promise((r) => setTimeout(r, 500));
    // Nothing was applied while away: never an empty plan from a failed list.
    expect(applied).toHaveLength(before);
    server.put(aService({ name: "api", created: "2026-02-01T00:00:00Z" }));
    server.setUnreachable(false);
    await until("converged", () => applied.at(-1)?.services.length === 2);
    let back = await get(port, "/readyz");
    for (let i = 0; i < 250 && back.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      back = await get(port, "/readyz");
    }
    expect(back.status).toBe(200);
  });

  it("publishes one pass at a time: taking the Lease over during an apply writes nothing twice", async () => {
    // Another node holds the Lease and stops renewing it (it died); this one takes over while a
    // plan is being applied, so the publish on taking over and the one after the apply meet.
    server.put({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "portico-status", namespace: "portico-system" },
      spec: { holderIdentity: "lb1", leaseDurationSeconds: 1 },
    });
    const port = await freePort();
    const config = parseConfig({
      ...aConfig(),
      controller: {
        listen: `127.0.0.1:${port}`,
        coalesce: { quietMs: 20, maxDelayMs: 200 },
        lease: { durationMs: 1000, renewDeadlineMs: 800, retryPeriodMs: 100 },
      },
    })._unsafeUnwrap();
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig("lb2"));
    const applied: Plan[] = [];
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const apply = async (p: Plan): Promise<NodeApplyResult> => {
      applied.push(p);
      if (applied.length > 1) await gate;
      return { haproxy: "reload", keepalived: "none", errors: [] };
    };
    const c = new Controller({
      kubeConfig: kc,
      config,
      node: "lb2" as LbNodeName,
      apply,
      logger: pino({ level: "silent" }),
      statusRetryMs: 100,
    });
    controllers.push(c);
    await c.start();
    await until("the first plan applied", () => applied.length === 1);
    expect(c.isLeader()).toBe(false);
    server.put(aNode("worker-2", "198.18.2.2"));
    await until("the second apply under way", () => applied.length === 2);
    // Slow writes keep the first publish going while the apply finishes and publishes again.
    server.setLatency(60);
    await until("the Lease taken over", () => c.isLeader(), 5_000);
    await new Promise((r) => setTimeout(r, 30));
    open();
    await until(
      "EnsuredLoadBalancer",
      () => server.list("Event").some((e) => e["reason"] === "EnsuredLoadBalancer"),
      5_000,
    );
    await new Promise((r) => setTimeout(r, 800));
    const reasons = server.list("Event").map((e) => e["reason"]);
    expect(reasons.sort()).toEqual(["EnsuredLoadBalancer", "EnsuringLoadBalancer"]);
    const serviceWrites = server.writes().filter((w) => w.path.includes("/services/"));
    expect(serviceWrites.filter((w) => w.status >= 400).map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual([]);
  });

  it("has exactly one status writer among two LB nodes, and the other takes over when it stops", async () => {
    const a = await controller("lb1", []);
    const b = await controller("lb2", []);
    await until("one leader", () => a.c.isLeader() !== b.c.isLeader());
    await until("status published", () =>
      JSON.stringify(server.get("Service", "default", "web")?.["status"] ?? {}).includes("198.18.100.10"),
    );
    const leader = a.c.isLeader() ? a : b;
    const follower = leader === a ? b : a;
    const leaderName = leader === a ? "lb1" : "lb2";
    const followerName = leader === a ? "lb2" : "lb1";
    const statusWriters = () =>
      new Set(
        server
          .writes()
          .filter((w) => w.path.includes("/services/"))
          .map((w) => w.client),
      );
    expect([...statusWriters()]).toEqual([leaderName]);

    await leader.c.stop();
    controllers.splice(controllers.indexOf(leader.c), 1);
    await until("follower leads", () => follower.c.isLeader(), 5_000);
    server.put(aService({ name: "api", created: "2026-02-01T00:00:00Z" }));
    await until("api status", () =>
      JSON.stringify(server.get("Service", "default", "api")?.["status"] ?? {}).includes("198.18.100.11"),
    );
    expect([...statusWriters()].sort()).toEqual([leaderName, followerName].sort());
    // Writes by the old leader all happened before the new one's first.
    const writes = server.writes().filter((w) => w.path.includes("/services/"));
    const firstFollower = writes.findIndex((w) => w.client === followerName);
    expect(writes.slice(firstFollower).every((w) => w.client === followerName)).toBe(true);
  });
});
