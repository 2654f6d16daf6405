import { KubeConfig } from "@kubernetes/client-node";
import { readKeepalivedState, renderKeepalived } from "@portico/adapter-keepalived";
import { parseConfig, withoutTakenPorts, type LbNodeName, type Plan, type VrrpState } from "@portico/core";
import { aConfig, aNode, aService } from "@portico/core/testing";
import { freePort, KubeApiServer, settled, until } from "@portico/testkit";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Controller, type NodeApplyResult } from "../src/controller.js";

// The run loop against the wire-level API server and the real client; applying is recorded
// here (the HAProxy and keepalived apply paths have their own tests on the real binaries).

let server: KubeApiServer;
const controllers: Controller[] = [];

const controller = async (
  node: string,
  applied: Plan[],
  initialVrrp?: VrrpState,
  result: (n: number) => NodeApplyResult = () => ({ haproxy: "reload", keepalived: "none", errors: [] }),
): Promise<{ c: Controller; port: number }> => {
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
    return result(applied.length);
  };
  const options = {
    kubeConfig: kc,
    config,
    node: node as LbNodeName,
    apply,
    logger: pino({ level: "silent" }),
    statusRetryMs: 100,
  };
  const c = new Controller(initialVrrp === undefined ? options : { ...options, initialVrrp });
  controllers.push(c);
  await c.start();
  return { c, port };
};
/** lb1's controller, started, with this apply (and prepare); the default lease timings. */
const startLb1 = async (
  apply: (p: Plan) => Promise<NodeApplyResult>,
  prepare?: (p: Plan) => Promise<Plan>,
): Promise<{ c: Controller; port: number }> => {
  const port = await freePort();
  const config = parseConfig({
    ...aConfig(),
    controller: { listen: `127.0.0.1:${port}`, coalesce: { quietMs: 20, maxDelayMs: 200 } },
  })._unsafeUnwrap();
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig("lb1"));
  const options = { kubeConfig: kc, config, node: "lb1" as LbNodeName, apply, logger: pino({ level: "silent" }) };
  const c = new Controller(prepare === undefined ? options : { ...options, prepare });
  controllers.push(c);
  await c.start();
  return { c, port };
};
/** Every write but the Lease's (renewed every retry period, whatever else happens). */
const statusWrites = () => server.writes().filter((w) => !w.path.includes("/leases"));
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

  it("applies the latest snapshot again once a deferred reload may run, with no new event", async () => {
    const applied: Plan[] = [];
    const at: number[] = [];
    // Every reload is deferred: once the status writes' echoes are planned, only the timer applies.
    await controller("lb1", applied, undefined, () => {
      at.push(Date.now());
      return { haproxy: "deferred", keepalived: "none", errors: [], retryInMs: 200 };
    });
    await until("applied again and again after the events stopped", () => applied.length >= 6);
    expect(applied.at(-1)?.services.map((s) => s.key)).toEqual(["default/web"]);
    expect(at.at(-1)! - at.at(-2)!).toBeGreaterThanOrEqual(150);
  });

  it("keeps the last plan while the API server is away, says so, and converges after", async () => {
    const applied: Plan[] = [];
    const { port } = await controller("lb1", applied);
    await until("status published", () =>
      JSON.stringify(server.get("Service", "default", "web")?.["status"] ?? {}).includes("198.18.100.10"),
    );
    // The status write comes back through the watch as a change and is planned once more: cut the
    // API server only once the controller has stopped reacting to its own writes.
    const before = await settled("applies", () => applied.length, 400);
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

  it("reapply applies the last snapshot's plan once more, unchanged, and writes no status for it", async () => {
    const applied: Plan[] = [];
    const { c } = await controller("lb1", applied);
    await until("status published", () =>
      JSON.stringify(server.get("Service", "default", "web")?.["status"] ?? {}).includes("198.18.100.10"),
    );
    // Quiet: no apply for 500 ms (the watch's echo of the status write makes a cycle of its own).
    let seen = -1;
    await until(
      "no apply for 500 ms",
      async () => {
        const n = applied.length;
        await new Promise((r) => setTimeout(r, 500));
        const quiet = n === seen && applied.length === n;
        seen = applied.length;
        return quiet;
      },
      10_000,
    );
    const before = applied.length;
    const writes = statusWrites().length;
    c.reapply();
    await until("applied again", () => applied.length > before);
    expect(JSON.stringify(applied[before])).toBe(JSON.stringify(applied[before - 1]));
    await new Promise((r) => setTimeout(r, 300));
    expect(statusWrites().length).toBe(writes);
  });

  it("reapply while a cycle applies a newer snapshot: the cycles after it apply that snapshot, never an older one", async () => {
    const hasApi = (p: Plan): boolean => p.services.some((x) => x.key === "default/api");
    const applied: Plan[] = [];
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const apply = async (p: Plan): Promise<NodeApplyResult> => {
      applied.push(p);
      if (hasApi(p)) await gate;
      return { haproxy: "reload", keepalived: "none", errors: [] };
    };
    const { c } = await startLb1(apply);
    await until("web applied", () => applied.length > 0);
    server.put(aService({ name: "api", created: "2026-02-01T00:00:00Z" }));
    await until("api's apply under way", () => applied.some(hasApi));
    const first = applied.findIndex(hasApi);
    // The kernel lost the L4 tables while the newer snapshot's cycle runs.
    c.reapply();
    open();
    await until("applied again after it", () => applied.length > first + 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(applied.slice(first).map(hasApi).every(Boolean)).toBe(true);
  });

  it("a reload that fails on a port taken after the look: looks again and applies without it in the same cycle", async () => {
    const hasApi = (p: Plan): boolean => p.frontends.some((f) => f.service === "default/api");
    // Another program binds api's port right after the first look: only the looks after it see it.
    let looks = 0;
    const prepare = async (p: Plan): Promise<Plan> => {
      if (!hasApi(p) || ++looks === 1) return p;
      const f = p.frontends.find((x) => x.service === "default/api")!;
      return withoutTakenPorts(p, [{ port: f.port, address: f.vip, owner: "HAProxy cannot bind it: Address in use" }]);
    };
    const applied: Plan[] = [];
    const apply = async (p: Plan): Promise<NodeApplyResult> => {
      applied.push(p);
      return hasApi(p)
        ? { haproxy: "error", keepalived: "none", errors: ["haproxy: haproxy reload failed; rolled back"] }
        : { haproxy: "reload", keepalived: "none", errors: [] };
    };
    const { port } = await startLb1(apply, prepare);
    await until("web published", () =>
      JSON.stringify(server.get("Service", "default", "web")?.["status"] ?? {}).includes("198.18.100.10"),
    );
    const before = applied.length;
    server.put(aService({ name: "api", created: "2026-02-01T00:00:00Z" }));
    await until("api says PortInUse", () =>
      JSON.stringify(server.get("Service", "default", "api")?.["status"] ?? {}).includes("PortInUse"),
    );
    // The failed apply and the one without api, back to back, before any status was written. A
    // cycle already under way when api arrived (a resync, the Lease) may apply first, without api.
    const first = applied.findIndex((p, i) => i >= before && hasApi(p));
    expect(first).toBeGreaterThanOrEqual(before);
    expect(applied.slice(first, first + 2).map(hasApi)).toEqual([true, false]);
    expect(statusWrites().filter((w) => JSON.stringify(w.body).includes("ApplyFailed"))).toEqual([]);
    await until("a SyncLoadBalancerFailed Event", () =>
      server.list("Event").some((e) => e["reason"] === "SyncLoadBalancerFailed"),
    );
    expect(await get(port, "/readyz")).toEqual({ status: 200, text: "ok\n" });
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

  it("restarted, reaches the plan it left (VIPs, VRIDs and masters from the installed keepalived.conf) and writes nothing", async () => {
    server.put(aService({ name: "api", created: "2026-02-01T00:00:00Z" }));
    server.put(aNode("worker-2", "198.18.2.2"));
    const applied: Plan[] = [];
    const first = await controller("lb1", applied);
    await until("both published", () =>
      server.list("Service").every((s) => JSON.stringify(s["status"] ?? {}).includes("198.18.100.")),
    );
    await settled("applies and writes", () => [applied.length, statusWrites().length], 1_000);
    const left = applied.at(-1)!;
    const keepalivedConf = renderKeepalived(left, { node: "lb1" as LbNodeName })._unsafeUnwrap();
    await first.c.stop();
    controllers.splice(controllers.indexOf(first.c), 1);
    const writes = statusWrites().length;

    const again: Plan[] = [];
    await controller("lb1", again, readKeepalivedState(keepalivedConf));
    await until("the first plan after the restart", () => again.length > 0);
    await settled("applies and writes", () => [again.length, statusWrites().length], 1_000);
    expect(left.vrrpInstances.length).toBeGreaterThan(0);
    expect(JSON.stringify(again[0])).toBe(JSON.stringify(left));
    expect(renderKeepalived(again[0]!, { node: "lb1" as LbNodeName })._unsafeUnwrap()).toBe(keepalivedConf);
    expect(again).toHaveLength(1);
    const after = statusWrites().slice(writes);
    expect(after.map((w) => `${w.method} ${w.path}`)).toEqual([]);
  });
});
