import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { applyHaproxy, type HaproxyApplyReport } from "@portico/adapter-haproxy";
import { describeWith, program, root } from "@portico/testkit";
import { CHECK_BACKEND, DataplaneLab, type LabService } from "./lab/lab.js";

// Cluster policy on real HAProxy: the lab's fake nodes' health port stands in for kube-proxy's,
// checked once per node in a shared check backend whose slots every Cluster-policy backend
// tracks slot by slot. Membership changes must reach HAProxy through the runtime API alone.
// Figures are printed, not asserted against targets; time bounds are safety caps.

const say = (line: string): void => {
  process.stdout.write(`[cluster] ${line}\n`);
};
const cluster = (servers: LabService["servers"], addresses?: LabService["addresses"]): LabService => ({
  policy: "Cluster",
  servers,
  ...(addresses === undefined ? {} : { addresses }),
});
const NEW_NODE3_ADDRESS = "198.18.23.3";

await describeWith(
  [program("haproxy", ["-v"]), program("ip", ["-V"]), root],
  "Cluster policy: aligned slots on real HAProxy",
  () => {
    const lab = new DataplaneLab();

    beforeAll(async () => {
      await lab.upServing(cluster({ node1: 1, node2: 1 }), ["node1", "node2"]);
    }, 60_000);
    afterAll(async () => {
      await lab.down();
    }, 30_000);

    it("a node joins, a node leaves, a node moves and a node's kube-proxy health fails and recovers under a continuous connection loop: no failed connection, no reload", async () => {
      const before = await lab.workers();
      const reports: HaproxyApplyReport[] = [];
      const applyRuntime = async (s: LabService): Promise<void> => {
        const r = await applyHaproxy(lab.plan(s));
        if (r.isErr()) throw new Error(r.error.message);
        expect(r.value.action, r.value.note).toBe("runtime");
        expect(r.value.runtimeOps).toBeGreaterThan(0);
        reports.push(r.value);
      };
      // Bounded by a cap; stopped as soon as the last step is checked.
      const loop = await lab.loop(90_000, 2);
      let healthFlipped = false;
      let stopped = false;
      try {
        // node3 joins: its check slot is filled and marked down; the tracking slot follows it up
        // once the check has passed, and only then gets connections.
        await applyRuntime(cluster({ node1: 1, node2: 1, node3: 1 }));
        const joinedMs = await lab.until(async () => lab.serverUp("node3"), 10_000);
        const joined = await lab.traffic(60, 10_000);
        expect(joined.failed, joined.errors.join("; ")).toBe(0);
        expect(joined.byNode["node3"] ?? 0).toBeGreaterThan(0);
        const installed = await readFile(lab.configPath, "utf8");
        expect(installed).toMatch(
          new RegExp(`server slot3 198\\.18\\.23\\.2:30080 weight 1 track ${CHECK_BACKEND}/slot3 # node_node3`),
        );
        expect(installed).toContain("server slot3 198.18.23.2:32100 weight 1 # node_node3");

        // node1 leaves: its slots go to maintenance (open connections finish); no new ones reach it.
        await applyRuntime(cluster({ node2: 1, node3: 1 }));
        const left = await lab.traffic(60, 10_000);
        expect(left.failed, left.errors.join("; ")).toBe(0);
        expect(left.byNode["node1"] ?? 0).toBe(0);
        expect((left.byNode["node2"] ?? 0) + (left.byNode["node3"] ?? 0)).toBe(60);

        // node3 changes address: the same slot, given the new address in the check backend and in
        // the Cluster backend, checked again before it takes connections.
        await lab.addNodeAddress("node3", NEW_NODE3_ADDRESS);
        await applyRuntime(cluster({ node2: 1, node3: 1 }, { node3: NEW_NODE3_ADDRESS }));
        const movedMs = await lab.until(async () => lab.serverUp("node3", NEW_NODE3_ADDRESS), 10_000);
        const moved = await lab.traffic(60, 10_000);
        expect(moved.failed, moved.errors.join("; ")).toBe(0);
        expect(moved.byNode["node3"] ?? 0).toBeGreaterThan(0);
        expect(await readFile(lab.configPath, "utf8")).toContain(
          `server slot3 ${NEW_NODE3_ADDRESS}:30080 weight 1 track ${CHECK_BACKEND}/slot3 # node_node3`,
        );

        // node2's kube-proxy health fails: the one shared check marks it down, and the Cluster
        // backend's slot follows; then it recovers.
        await lab.health("node2", 503);
        healthFlipped = true;
        const downMs = await lab.until(async () => !(await lab.serverUp("node2")), 10_000);
        const during = await lab.traffic(60, 10_000);
        expect(during.failed, during.errors.join("; ")).toBe(0);
        expect(during.byNode["node2"] ?? 0).toBe(0);
        expect(during.byNode["node3"] ?? 0).toBe(60);
        await lab.health("node2", 200);
        healthFlipped = false;
        const upMs = await lab.until(async () => lab.serverUp("node2"), 10_000);
        const recovered = await lab.traffic(60, 10_000);
        expect(recovered.failed, recovered.errors.join("; ")).toBe(0);
        expect(recovered.byNode["node2"] ?? 0).toBeGreaterThan(0);

        // Let connections started meanwhile finish.
        await new Promise((r) => setTimeout(r, 300));
        stopped = true;
        const result = await loop.stop();
        expect(result.failed, result.errors.join("; ")).toBe(0);
        expect(result.ok).toBeGreaterThan(100);
        const after = await lab.workers();
        expect(after).toEqual(before);
        const ops = reports.reduce((n, r) => n + r.runtimeOps, 0);
        say(
          `loop: ${result.ok} connections, ${result.failed} failed, per node ${JSON.stringify(result.byNode)}; ${reports.length} applies, all runtime (${reports.map((r) => r.runtimeOps).join("/")} = ${ops} runtime-API commands, ${reports.map((r) => r.durationMs).join("/")} ms); ` +
            `reloads ${after.reloads - before.reloads} (master reload count ${before.reloads} -> ${after.reloads}, worker pids ${before.pids.join(",")} -> ${after.pids.join(",")})`,
        );
        say(
          `node3 joined: up ${joinedMs} ms after apply, then ${JSON.stringify(joined.byNode)}; node1 left: ${JSON.stringify(left.byNode)}; node3 moved to ${NEW_NODE3_ADDRESS}: up ${movedMs} ms after apply, then ${JSON.stringify(moved.byNode)}; ` +
            `node2 /healthz 503: down after ${downMs} ms (inter 200 ms x fall 2), ${JSON.stringify(during.byNode)}; 200 again: up after ${upMs} ms, ${JSON.stringify(recovered.byNode)}`,
        );
      } finally {
        if (healthFlipped) await lab.health("node2", 200);
        // A failed step still ends the loop before the lab goes down.
        if (!stopped) await loop.stop().catch(() => undefined);
      }
    }, 150_000);

    it("a reload keeps a node whose kube-proxy check is down out of every Cluster backend, also when its slot was filled through the runtime API", async () => {
      // As the test above leaves it (node2, and node3 at its new address in slots filled at run time).
      await lab.addNodeAddress("node3", NEW_NODE3_ADDRESS);
      const now = cluster({ node2: 1, node3: 1 }, { node3: NEW_NODE3_ADDRESS });
      expect(["unchanged", "runtime"]).toContain((await applyHaproxy(lab.plan(now)))._unsafeUnwrap().action);
      expect(await readFile(lab.configPath, "utf8")).not.toMatch(/server slot[12] 198\.18\.23\./);
      await lab.until(async () => lab.serverUp("node3", NEW_NODE3_ADDRESS), 10_000);
      await lab.health("node3", 503);
      try {
        await lab.until(async () => !(await lab.serverUp("node3", NEW_NODE3_ADDRESS)), 10_000);
        // The new config checks slowly: a check slot that started up in the new worker would send
        // traffic to node3 for seconds.
        const report = (
          await applyHaproxy(lab.plan({ ...now, intervalMs: 10_000, extraPorts: [9100] }))
        )._unsafeUnwrap();
        expect(report.action).toBe("reload");
        const r = await lab.traffic(60, 10_000);
        expect(r.failed, r.errors.join("; ")).toBe(0);
        expect(r.byNode["node3"] ?? 0).toBe(0);
        expect(r.byNode["node2"] ?? 0).toBe(60);
        expect(await lab.serverUp("node3", NEW_NODE3_ADDRESS)).toBe(false);
        say(
          `reload while node3's check is down (new config checks every 10 s): ${JSON.stringify(r.byNode)} right after the reload (${report.durationMs} ms)`,
        );
      } finally {
        await lab.health("node3", 200);
      }
    }, 60_000);
  },
);
