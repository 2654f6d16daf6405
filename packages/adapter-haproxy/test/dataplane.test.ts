import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { applyHaproxy, sendCommand, type HaproxyApplyReport } from "@portico/adapter-haproxy";
import { describeWith, program, root } from "@portico/testkit";
import { CLIENT_ADDRESSES, DataplaneLab, EXPORTER, NODES, type LabService } from "./lab/lab.js";

// Real HAProxy, real TCP: fake nodes in their own namespaces, a client namespace connecting to
// the VIP. Figures are printed, not asserted against targets; time bounds are safety caps.

const say = (line: string): void => {
  process.stdout.write(`[dataplane] ${line}\n`);
};
const all: LabService = { servers: { node1: 1, node2: 1, node3: 1 } };

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), root],
  "HAProxy data plane on real traffic",
  () => {
    const lab = new DataplaneLab();
    const apply = async (s: LabService): Promise<HaproxyApplyReport> => {
      const r = await applyHaproxy(lab.plan(s));
      if (r.isErr()) throw new Error(r.error.message);
      return r.value;
    };

    beforeAll(async () => {
      await lab.upServing(all, NODES);
    }, 60_000);
    afterAll(async () => {
      await lab.down();
    }, 30_000);

    it("Local policy: a node whose /healthz says 503 gets no connections after inter x fall, and returns when it says 200", async () => {
      const before = await lab.traffic(90, 10_000);
      expect(before.failed).toBe(0);
      for (const n of NODES) expect(before.byNode[n] ?? 0).toBeGreaterThan(0);

      await lab.health("node2", 503);
      const downMs = await lab.until(async () => !(await lab.serverUp("node2")), 10_000);
      const during = await lab.traffic(90, 10_000);
      expect(during.failed).toBe(0);
      expect(during.byNode["node2"] ?? 0).toBe(0);
      expect((during.byNode["node1"] ?? 0) + (during.byNode["node3"] ?? 0)).toBe(90);

      await lab.health("node2", 200);
      const upMs = await lab.until(async () => lab.serverUp("node2"), 10_000);
      const after = await lab.traffic(90, 10_000);
      expect(after.failed).toBe(0);
      expect(after.byNode["node2"] ?? 0).toBeGreaterThan(0);
      say(
        `Local policy: inter 200ms fall 2 rise 2; marked down ${downMs} ms after /healthz turned 503 (inter x fall = 400 ms), up ${upMs} ms after 200 (inter x rise = 400 ms); connections before/during/after: ${JSON.stringify([before.byNode, during.byNode, after.byNode])}`,
      );
    }, 60_000);

    it("a reload keeps a down node down: its health carries over to the new worker", async () => {
      await apply(all);
      await lab.health("node2", 503);
      try {
        await lab.until(async () => !(await lab.serverUp("node2")), 10_000);
        // The new config also checks slowly: a node that started up in the new worker would keep
        // getting traffic until its first check, seconds later.
        const report = await apply({ ...all, intervalMs: 10_000, extraPorts: [9100] });
        expect(report.action).toBe("reload");
        const r = await lab.traffic(90, 10_000);
        expect(r.failed).toBe(0);
        expect(r.byNode["node2"] ?? 0).toBe(0);
        expect(await lab.serverUp("node2")).toBe(false);
        say(
          `reload while node2 is down (new config checks every 10 s): ${JSON.stringify(r.byNode)} right after the reload (${report.durationMs} ms)`,
        );
      } finally {
        await lab.health("node2", 200);
      }
      await apply(all);
      await lab.until(async () => lab.serverUp("node2"), 10_000);
    }, 60_000);

    for (const proxy of ["v2", "v1"] as const) {
      it(`PROXY ${proxy}: the backend sees the client namespace's own address and port`, async () => {
        const report = await apply({ ...all, proxy });
        expect(report.action).toBe("reload");
        const r = await lab.traffic(20, 10_000, 1);
        expect(r.failed).toBe(0);
        expect(r.samples.length).toBeGreaterThan(0);
        for (const s of r.samples) {
          expect(s.proxy).toBe(proxy);
          expect(s.seen).toBe(s.local);
          expect(s.local.startsWith("198.18.10.2:")).toBe(true);
        }
        say(
          `PROXY ${proxy}: ${r.ok} connections, e.g. client ${r.samples[0]!.local} seen by the backend as ${r.samples[0]!.seen} (reload ${report.durationMs} ms)`,
        );
      }, 30_000);
    }

    it("source ranges: an allowed client connects, a disallowed one is refused, and clearing the ranges admits both", async () => {
      const [allowed, refused] = CLIENT_ADDRESSES;
      // Two ranges, only the first of which holds a client: the ACL lists both.
      const limited = await apply({ ...all, sourceRanges: [`${allowed}/32`, "198.18.50.0/24"] });
      expect(limited.action).toBe("reload");
      const installed = await readFile(lab.configPath, "utf8");
      expect(installed).toContain(`acl src_allowed src ${allowed}/32 198.18.50.0/24`);
      const inRange = await lab.traffic(30, 10_000, 2, 80, allowed);
      const outOfRange = await lab.traffic(30, 10_000, 2, 80, refused);
      expect(inRange.failed, inRange.errors.join("; ")).toBe(0);
      expect(inRange.ok).toBe(30);
      // Refused at accept time: no answer from any node, every attempt fails.
      expect(outOfRange.ok).toBe(0);
      expect(outOfRange.failed).toBe(30);
      expect(outOfRange.byNode).toEqual({});

      const cleared = await apply(all);
      expect(cleared.action).toBe("reload");
      expect(await readFile(lab.configPath, "utf8")).not.toContain("src_allowed");
      const first = await lab.traffic(30, 10_000, 2, 80, allowed);
      const second = await lab.traffic(30, 10_000, 2, 80, refused);
      expect(first.failed, first.errors.join("; ")).toBe(0);
      expect(second.failed, second.errors.join("; ")).toBe(0);
      expect(first.ok + second.ok).toBe(60);
      say(
        `source ranges ${allowed}/32 198.18.50.0/24: ${inRange.ok}/30 connections from ${allowed} served, ${outOfRange.failed}/30 from ${refused} refused (${outOfRange.errors[0] ?? "no error text"}); ranges cleared: ${first.ok}/30 and ${second.ok}/30 served; reloads ${limited.durationMs} ms and ${cleared.durationMs} ms`,
      );
    }, 60_000);

    it("the Prometheus exporter answers GET /metrics on its configured local address, and haproxy.threads sets the thread count", async () => {
      try {
        const report = await apply({ ...all, exporter: true, threads: 2 });
        expect(report.action).toBe("reload");
        const t = await lab.traffic(10, 10_000);
        expect(t.failed).toBe(0);
        const metrics = await lab.httpGetInLb(`http://${EXPORTER}/metrics`);
        if ("error" in metrics) throw new Error(`GET /metrics: ${metrics.error}`);
        expect(metrics.status).toBe(200);
        expect(metrics.body).toMatch(/^haproxy_process_nbthread 2$/m);
        // The Service's frontend and its servers are there, with the traffic just sent.
        const sessions = /^haproxy_frontend_sessions_total\{proxy="fe_lab_web_80_4"\} (\d+)$/m.exec(metrics.body);
        expect(Number(sessions?.[1] ?? -1)).toBeGreaterThanOrEqual(10);
        expect(metrics.body).toContain('haproxy_server_status{proxy="be_lab_web_80_4",server="slot1",state="UP"} 1');
        const other = await lab.httpGetInLb(`http://${EXPORTER}/other`);
        expect(other).toMatchObject({ status: 404 });
        const info = (await sendCommand(`${lab.dir}/admin.sock`, { kind: "show-info" }))._unsafeUnwrap();
        expect(/^Nbthread: (\d+)$/m.exec(info)?.[1]).toBe("2");
        say(
          `exporter: GET http://${EXPORTER}/metrics -> ${metrics.status}, ${metrics.body.length} bytes, ${metrics.body.split("\n").filter((l) => l.startsWith("haproxy_")).length} samples; nbthread 2 (show info Nbthread ${/^Nbthread: (\d+)$/m.exec(info)?.[1] ?? "?"}); frontend sessions_total ${sessions?.[1] ?? "?"}`,
        );
      } finally {
        await apply(all);
      }
      // Without the setting, nothing listens there.
      expect(await lab.httpGetInLb(`http://${EXPORTER}/metrics`)).toHaveProperty("error");
    }, 60_000);

    it("equal load: pods 3/1/2 over three nodes, weighted by pods per node, give each pod an equal share", async () => {
      // The Plan carries server weights today; the planner's pods-per-node weighting (from
      // EndpointSlices) is what fills them in. Here they are set by hand: 3, 1 and 2 pods.
      const pods = { node1: 3, node2: 1, node3: 2 } as const;
      const spread = async (
        servers: LabService["servers"],
      ): Promise<{ ratio: number; share: Record<string, number> }> => {
        await apply({ servers });
        const r = await lab.traffic(3_000, 60_000, 4);
        expect(r.failed, r.errors.join("; ")).toBe(0);
        expect(r.ok).toBe(3_000);
        const share = Object.fromEntries(NODES.map((n) => [n, (r.byNode[n] ?? 0) / pods[n]]));
        const values = Object.values(share);
        return { ratio: Math.max(...values) / Math.min(...values), share };
      };
      const weighted = await spread({ node1: 3, node2: 1, node3: 2 });
      const unweighted = await spread({ node1: 1, node2: 1, node3: 1 });
      const equal = 3_000 / 6;
      for (const n of NODES) expect(Math.abs(weighted.share[n]! - equal) / equal).toBeLessThanOrEqual(0.15);
      expect(unweighted.ratio).toBeGreaterThan(weighted.ratio);
      say(
        `equal load: 3000 connections, pods 3/1/2; per-pod max/min ratio ${weighted.ratio.toFixed(3)} with pods-per-node weights, ${unweighted.ratio.toFixed(3)} without; per-pod connections weighted ${JSON.stringify(weighted.share)}`,
      );
    }, 120_000);

    it("hitless: 50 runtime changes and 5 reloads under a continuous connection loop drop nothing", async () => {
      await apply(all);
      // Bounded by a cap; stopped as soon as the last change is applied.
      const loop = await lab.loop(60_000, 2);
      const weights = [1, 2, 3, 4, 5];
      let runtimeApplies = 0;
      let runtimeOps = 0;
      let reloads = 0;
      const extraPorts: number[] = [];
      const times: number[] = [];
      for (let i = 0; i < 50; i++) {
        // Membership (node3 leaves and comes back) and weights change; the frontends do not.
        const servers = { node1: weights[i % 5]!, node2: weights[(i + 2) % 5]!, ...(i % 4 === 1 ? {} : { node3: 1 }) };
        const r = await apply({ servers, extraPorts });
        expect(r.action).toBe("runtime");
        runtimeApplies += 1;
        runtimeOps += r.runtimeOps;
        times.push(r.durationMs);
        if (i % 10 === 9) {
          extraPorts.push(8000 + reloads);
          const re = await apply({ servers, extraPorts });
          expect(re.action).toBe("reload");
          reloads += 1;
          times.push(re.durationMs);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // Let connections started on the last config finish on it too.
      await new Promise((r) => setTimeout(r, 500));
      const result = await loop.stop();
      expect(result.failed, result.errors.join("; ")).toBe(0);
      expect(result.ok).toBeGreaterThan(100);
      expect(reloads).toBe(5);
      const sorted = [...times].sort((a, b) => a - b);
      say(
        `hitless: ${result.ok} connections, ${result.failed} failed; ${runtimeApplies} runtime applies (${runtimeOps} runtime-API commands), ${reloads} reloads; apply time median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms; per node ${JSON.stringify(result.byNode)}`,
      );
    }, 90_000);

    it("a reload that fails (the new port is taken) is rolled back to the previous file", async () => {
      await apply(all);
      const installed = await readFile(lab.configPath, "utf8");
      // Something else on the LB node holds port 9000: haproxy -c cannot know, the new worker cannot bind.
      const blocker = await lab.occupy(9000);
      try {
        const r = await applyHaproxy(lab.plan({ ...all, extraPorts: [9000] }), { reloadTimeoutMs: 10_000 });
        expect(r.isErr()).toBe(true);
        const e = r._unsafeUnwrapErr();
        expect(e).toMatchObject({ kind: "apply", adapter: "haproxy" });
        expect(e.message).toContain("haproxy reload failed");
        expect(e.message).toContain("rolled back to the previous");
        expect(e.message).not.toContain("failed too");
        expect(await readFile(lab.configPath, "utf8")).toBe(installed);
        const t = await lab.traffic(30, 10_000);
        expect(t.failed).toBe(0);
        say(`failed reload: ${e.message.split("; ")[0]}; rolled back, ${t.ok} connections served afterwards`);
      } finally {
        await blocker.stop();
      }
    }, 60_000);

    it("a plan that fails validation is never installed: the running config and traffic stay", async () => {
      await apply(all);
      const installed = await readFile(lab.configPath, "utf8");
      const info = (await sendCommand(`${lab.dir}/admin.sock`, { kind: "show-info" }))._unsafeUnwrap();
      const good = lab.plan({ servers: { node1: 1 } });
      // A stats socket path longer than a Unix socket address can hold: the renderer passes it,
      // `haproxy -c` refuses it.
      const bad = {
        ...good,
        settings: {
          ...good.settings,
          haproxy: { ...good.settings.haproxy, statsSocket: `/tmp/${"x".repeat(120)}/admin.sock` },
        },
      };
      const r = await applyHaproxy(bad);
      expect(r.isErr()).toBe(true);
      expect(r._unsafeUnwrapErr()).toMatchObject({ kind: "validate", adapter: "haproxy" });
      expect(await readFile(lab.configPath, "utf8")).toBe(installed);
      const after = (await sendCommand(`${lab.dir}/admin.sock`, { kind: "show-info" }))._unsafeUnwrap();
      expect(/^description: .*$/m.exec(after)?.[0]).toBe(/^description: .*$/m.exec(info)?.[0]);
      expect(/^Pid: .*$/m.exec(after)?.[0]).toBe(/^Pid: .*$/m.exec(info)?.[0]);
      const t = await lab.traffic(30, 10_000);
      expect(t.failed).toBe(0);
      for (const n of NODES) expect(t.byNode[n] ?? 0).toBeGreaterThan(0);
      say(
        `bad config: refused by haproxy -c (${r._unsafeUnwrapErr().message.split("\n")[1] ?? ""}); file and worker unchanged; ${t.ok} connections served by all three nodes`,
      );
    }, 30_000);
  },
);
