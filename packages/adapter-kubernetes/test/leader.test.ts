import { KubeConfig } from "@kubernetes/client-node";
import { KubeApiServer, until } from "@portico/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LeaderElector, type LeaseOptions } from "../src/index.js";

let server: KubeApiServer;
const electors: LeaderElector[] = [];
const timing = { leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 100 };

const elector = (identity: string, log: string[] = []): LeaderElector => {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig(identity));
  const options: LeaseOptions = { namespace: "portico-system", name: "portico-status", identity, ...timing };
  const e = new LeaderElector(kc, options, {
    onStartedLeading: () => log.push(`${identity} leads`),
    onStoppedLeading: () => log.push(`${identity} stops`),
  });
  electors.push(e);
  return e;
};

beforeEach(async () => {
  server = await new KubeApiServer().start();
});
afterEach(async () => {
  for (const e of electors.splice(0)) e.abandon();
  await server.stop();
});

describe("Lease leader election", () => {
  it("elects exactly one of two candidates and keeps it while it renews", async () => {
    const a = elector("lb1");
    const b = elector("lb2");
    a.start();
    b.start();
    await until("a leader", () => a.isLeader() || b.isLeader());
    await new Promise((r) => setTimeout(r, 1_500)); // longer than a lease: renewals keep it
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const lease = server.get("Lease", "portico-system", "portico-status")!;
    const spec = lease["spec"] as { holderIdentity: string; renewTime: string; leaseTransitions: number };
    expect(spec.holderIdentity).toBe(a.isLeader() ? "lb1" : "lb2");
    // MicroTime: exactly six fractional digits.
    expect(spec.renewTime).toMatch(/\.\d{6}Z$/);
  });

  it("hands over after the leader dies, only once its lease has expired", async () => {
    const log: string[] = [];
    const a = elector("lb1", log);
    a.start();
    await until("lb1 leads", () => a.isLeader());
    const b = elector("lb2", log);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(b.isLeader()).toBe(false);
    a.abandon(); // killed: no release
    // The lease is valid until its last renewal plus its duration; nobody may lead before that.
    const renewed = Date.parse(
      (server.get("Lease", "portico-system", "portico-status")!["spec"] as { renewTime: string }).renewTime,
    );
    await until("lb2 leads", () => b.isLeader(), 5_000);
    const tookMs = Date.now() - renewed;
    process.stdout.write(
      `leader takeover ${tookMs} ms after the dead leader's last renewal (lease ${timing.leaseDurationMs} ms)\n`,
    );
    expect(tookMs).toBeGreaterThanOrEqual(timing.leaseDurationMs);
    // Whatever flapping a loaded machine causes, lb2 leads only after lb1 has stopped for good.
    expect(log.at(-1)).toBe("lb2 leads");
    expect(log.lastIndexOf("lb1 stops")).toBeLessThan(log.indexOf("lb2 leads"));
    expect(log.filter((l) => l === "lb2 leads")).toHaveLength(1);
    const spec = server.get("Lease", "portico-system", "portico-status")!["spec"] as { leaseTransitions: number };
    expect(spec.leaseTransitions).toBeGreaterThanOrEqual(1);
  });

  it("hands over at once when the leader stops cleanly (it releases the lease)", async () => {
    const a = elector("lb1");
    a.start();
    await until("lb1 leads", () => a.isLeader());
    const b = elector("lb2");
    b.start();
    await a.stop();
    expect(a.isLeader()).toBe(false);
    await until("lb2 leads", () => b.isLeader(), 3_000);
  });

  it("stops acting as leader once it cannot renew for the renew deadline", async () => {
    const a = elector("lb1");
    a.start();
    await until("lb1 leads", () => a.isLeader());
    server.setUnreachable(true);
    const cut = Date.now();
    await until("lb1 steps down", () => !a.isLeader(), 5_000);
    const ms = Date.now() - cut;
    process.stdout.write(
      `leader stepped down ${ms} ms after losing the API server (renew deadline ${timing.renewDeadlineMs} ms)\n`,
    );
    // Before the lease can expire for anyone else: never two leaders.
    expect(ms).toBeLessThan(timing.leaseDurationMs);
  });
});
