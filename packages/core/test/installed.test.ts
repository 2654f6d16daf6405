import { describe, expect, it } from "vitest";
import { APPLY_FAILED, statusAsInstalled, type InstalledFrontend } from "../src/plan/installed.js";
import { READY_CONDITION } from "../src/plan/status.js";
import type { Ip } from "../src/model.js";
import type { Plan } from "../src/plan/types.js";
import { aNode, aService, planOf } from "../src/testing/index.js";

// Status restated as what an LB node installed: the plan is what should run, the installed
// frontends what does.

const twoServices = (): Plan =>
  planOf([
    aNode("n1", "198.18.2.1"),
    aService({ name: "web", created: "2026-01-01T00:00:00Z" }),
    aService({
      name: "ssh",
      created: "2026-01-02T00:00:00Z",
      ports: [
        { port: 22, nodePort: 30022 },
        { port: 2222, nodePort: 30222 },
      ],
    }),
  ]);
const frontendsOf = (p: Plan, service?: string): InstalledFrontend[] =>
  p.frontends
    .filter((f) => service === undefined || f.service === service)
    .map(({ id, service: s, vip, port }) => ({ id, service: s, vip, port }));
const readyOf = (p: Plan | { services: Plan["services"] }, key: string) =>
  p.services.find((s) => s.key === key)!.status.conditions.find((c) => c.type === READY_CONDITION)!;

describe("status as installed", () => {
  it("a plan installed in full keeps every Service's status as planned", () => {
    const p = twoServices();
    const v = statusAsInstalled(p, { frontends: frontendsOf(p) });
    expect(v.services).toEqual(p.services);
    expect(v).toMatchObject({ pending: [], behind: 0 });
    expect(v.holds("default/web")).toBe(false);
  });

  it("a failed apply: the Service whose frontends are missing is failed with ApplyFailed and no ingress; the installed one is untouched", () => {
    const p = twoServices();
    const v = statusAsInstalled(p, { frontends: frontendsOf(p, "default/web"), applyError: "haproxy: reload failed" });
    const ssh = v.services.find((s) => s.key === "default/ssh")!;
    expect(ssh.state).toBe("failed");
    expect(ssh.status.loadBalancer.ingress).toEqual([]);
    expect(readyOf(v, "default/ssh")).toMatchObject({ status: "False", reason: APPLY_FAILED });
    expect(readyOf(v, "default/ssh").message).toBe(
      "Service default/ssh: not installed on this LB node (198.18.100.11:2222, 198.18.100.11:22): haproxy: reload failed",
    );
    expect(v.services.find((s) => s.key === "default/web")).toEqual(p.services.find((s) => s.key === "default/web"));
    expect(v.behind).toBe(1);
  });

  it("a failed apply that installed some ports of a Service: ingress lists only the ports that serve", () => {
    const p = twoServices();
    const installed = frontendsOf(p).filter((f) => f.port !== 2222);
    const v = statusAsInstalled(p, { frontends: installed, applyError: "haproxy: reload failed" });
    const ssh = v.services.find((s) => s.key === "default/ssh")!;
    expect(ssh.status.loadBalancer.ingress).toEqual([
      { ip: "198.18.100.11", ipMode: "VIP", ports: [{ port: 22, protocol: "TCP" }] },
    ]);
    expect(readyOf(v, "default/ssh").message).toContain("(198.18.100.11:2222)");
  });

  it("a frontend installed on another address or for another Service does not count as installed", () => {
    const p = twoServices();
    const moved = frontendsOf(p).map((f) => (f.service === "default/ssh" ? { ...f, vip: "198.18.100.10" as Ip } : f));
    const v = statusAsInstalled(p, { frontends: moved, applyError: "x" });
    expect(v.services.find((s) => s.key === "default/ssh")!.status.loadBalancer.ingress).toEqual([]);
  });

  it("nothing failed but nothing runs: every Service is pending and held, none is failed", () => {
    const p = twoServices();
    const v = statusAsInstalled(p, { frontends: frontendsOf(p), running: false });
    expect(v.services).toEqual(p.services);
    expect(v.pending).toEqual(["default/web", "default/ssh"].sort());
    expect(v.holds("default/web")).toBe(true);
    expect(v.behind).toBe(2);
  });

  it("a Service that left the plan is held while its frontends are installed, and released once they are gone", () => {
    const before = twoServices();
    const after = planOf([aNode("n1", "198.18.2.1"), aService({ name: "ssh", created: "2026-01-02T00:00:00Z" })]);
    const still = statusAsInstalled(after, { frontends: frontendsOf(before), applyError: "haproxy: reload failed" });
    expect(still.holds("default/web")).toBe(true);
    const gone = statusAsInstalled(after, { frontends: frontendsOf(after) });
    expect(gone.holds("default/web")).toBe(false);
  });

  it("before anything is known to be installed, every Service is held", () => {
    const p = twoServices();
    const v = statusAsInstalled(p, { frontends: undefined, applyError: "haproxy: reload failed" });
    expect(v.services).toEqual(p.services);
    expect(v.holds("default/web")).toBe(true);
    expect(v.holds("default/gone")).toBe(true);
  });
});
