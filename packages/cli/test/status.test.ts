import { mkdtemp, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith, NetnsLab, program, root } from "@portico/testkit";
import { startScenario, type Scenario } from "./status/scenario.mjs";
import type { StatusView } from "../src/status-view.js";

// `portico status` against a real HAProxy 2.6 on a simulated LB node: the built binary runs
// inside the scenario's namespace, so it reads the namespace's eth0 and HAProxy's real stats
// socket. worker-1 answers its checks, worker-2 answers 503, cp-1 closes the connection; one slot
// is drained and two in maintenance (one a Cluster-policy slot); two VIPs are held, one client connection on each.

const bin = resolve(import.meta.dirname, "../dist/bin.js");

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), root],
  "portico status on a real HAProxy",
  () => {
    const lab = new NetnsLab();
    let dir = "";
    let scenario: Scenario | undefined;

    beforeAll(async () => {
      dir = await mkdtemp("/tmp/portico-status-");
      scenario = await startScenario(dir);
    }, 60_000);
    afterAll(async () => {
      await scenario?.stop();
      await lab.destroy();
      await rm(dir, { recursive: true, force: true });
    });

    const status = async (...args: string[]) => {
      const t0 = performance.now();
      const r = (
        await lab.exec(scenario!.ns, process.execPath, [
          bin,
          "status",
          "--config",
          scenario!.config,
          "--node",
          "lb1",
          ...args,
        ])
      )._unsafeUnwrap();
      return { ...r, ms: performance.now() - t0 };
    };

    it("shows which VIPs this node holds and every server's state, check and sessions", async () => {
      const r = await status("--output", "json");
      process.stdout.write(
        `portico status on a real HAProxy (4 frontends, 3 VIPs): ${r.ms.toFixed(0)} ms, node start included\n`,
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const view = JSON.parse(r.stdout) as StatusView;
      expect(view.vips.map((v) => [v.vip, v.held, v.vrrp.state])).toEqual([
        ["198.18.100.10", true, "MASTER"],
        ["198.18.100.11", true, "MASTER"],
        // keepalived does not run in the scenario (its pid file is absent).
        ["198.18.100.12", false, "STOPPED"],
      ]);
      const servers = view.vips.flatMap((v) =>
        v.frontends.flatMap((f) => f.servers.map((s) => ({ port: f.port, vip: v.vip, ...s }))),
      );
      const find = (vip: string, port: number, node: string) =>
        servers.find((s) => s.vip === vip && s.port === port && s.target.kind === "node" && s.target.node === node);
      const up = find("198.18.100.10", 80, "worker-1");
      expect(up).toMatchObject({ state: "UP", weight: 1, sessions: 1, check: { status: "L7OK" } });
      // While a check is running HAProxy may not report the code; when it does, it is the 200.
      expect([200, undefined]).toContain(up?.check?.code);
      expect(find("198.18.100.10", 80, "worker-2")).toMatchObject({
        state: "DOWN",
        check: { status: "L7STS", code: 503 },
      });
      expect(find("198.18.100.10", 443, "worker-1")?.state).toBe("DRAIN");
      expect(find("198.18.100.12", 8443, "worker-2")?.state).toBe("MAINT");
      // shop/web (Cluster policy): its slots are the check backend's, named by the node in each.
      const web = servers.filter((s) => s.vip === "198.18.100.11");
      expect(web.map((s) => [s.server, s.target, s.state])).toEqual([
        ["slot1", { kind: "node", node: "cp-1" }, "DOWN"],
        ["slot2", { kind: "node", node: "worker-1" }, "UP"],
        // Put in MAINT by an operator: still a member, shown as MAINT.
        ["slot3", { kind: "node", node: "worker-2" }, "MAINT"],
      ]);
      expect(find("198.18.100.11", 80, "cp-1")).toMatchObject({
        check: { status: "L7RSP", via: expect.stringMatching(/^chk_kube_proxy_[0-9a-f]{16}\/slot1$/) as unknown },
      });
      // Only the live slots: the 8-slot backends show 1 to 3 servers; the empty ones wait in MAINT.
      expect(servers.every((s) => !s.endpoint.startsWith("0.0.0.0"))).toBe(true);
      expect(servers).toHaveLength(8);
    });

    it("prints the same as a table", async () => {
      const r = await status();
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("LB node lb1 (eth0): 3 VIPs, 2 held here");
      // ingress-nginx is Local: its slots are its own check backend's.
      expect(r.stdout).toMatch(
        /slot\d +node worker-1 +198\.18\.2\.11:30718 +UP +1 +L7OK( 200)?( \d+ms)?( \(shared check\))? +1\n/,
      );
    });
  },
);
