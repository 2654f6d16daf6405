import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "@portico/host";
import { describeWith, program, root, traffic as clientRun, type ClientSummary } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";

// `npm run lab` as a user runs it (the same script, as a child process), under a per-run prefix
// and state directory so it never meets a lab someone has running. Traffic is bounded: a few
// dozen connections per step, each step under a safety cap far above what it takes.

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const LAB = fileURLToPath(new URL("./lab.mjs", import.meta.url));
const CAP_MS = 180_000;

interface Recorded {
  readonly namespaces: readonly string[];
  readonly client: { readonly ns: string; readonly address: string; readonly address6: string };
  readonly lbNodes: readonly {
    readonly name: string;
    readonly address: string;
    readonly address6: string;
    readonly dir: string;
  }[];
  readonly nodes: readonly { readonly name: string; readonly dir: string }[];
  readonly services: readonly {
    readonly service: string;
    readonly vip: string;
    readonly port: number;
    readonly proxy: string;
    readonly nodes: readonly string[];
  }[];
}

await describeWith(
  [program("haproxy", ["-v"]), program("keepalived", ["--version"]), program("ip", ["-V"]), root],
  "npm run lab: the one-command lab starts, serves, and leaves nothing behind",
  () => {
    const prefix = `pt${process.pid.toString(36)}${randomBytes(2).toString("hex")}l-`;
    const stateDir = `/tmp/${prefix}state`;
    let lab: Recorded;
    const figures: string[] = [];

    const labCommand = async (args: readonly string[], timeoutMs = 60_000) => {
      const r = await run(process.execPath, [LAB, ...args, "--prefix", prefix, "--state-dir", stateDir], {
        timeoutMs,
        cwd: REPO,
      });
      if (r.isErr()) throw new Error(r.error.message);
      return r.value;
    };

    /** The lab's client: `count` connections, which node answered each and what it saw. */
    const traffic = (vip: string, port: number, count: number): Promise<ClientSummary> =>
      clientRun(lab.client.ns, vip, port, { count, maxMs: 15_000, parallel: 2 });

    /** Every process whose command line names the lab's state directory (HAProxy, keepalived, the fake nodes). */
    const labProcesses = async (): Promise<number[]> => {
      const found: number[] = [];
      for (const entry of await readdir("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
        if (cmdline.split("\0").some((a) => a.startsWith(stateDir))) found.push(Number(entry));
      }
      return found;
    };

    const namespaces = async (): Promise<string[]> => {
      const r = await run("ip", ["netns", "list"]);
      return r.isOk()
        ? r.value.stdout
            .split("\n")
            .map((l) => l.split(" ")[0] ?? "")
            .filter((n) => n.startsWith(prefix))
        : [];
    };

    const elapsed = async (what: () => Promise<boolean>, capMs: number): Promise<number> => {
      const t0 = Date.now();
      while (Date.now() - t0 < capMs) {
        if (await what()) return Date.now() - t0;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`not within ${capMs} ms`);
    };

    beforeAll(async () => {
      const t0 = Date.now();
      const up = await labCommand([], CAP_MS);
      process.stdout.write(`[lab] npm run lab (exit ${up.code}, ${Date.now() - t0} ms):\n${up.stdout}${up.stderr}`);
      if (up.code !== 0) throw new Error(`lab did not start (exit ${up.code}): ${up.stderr}`);
      figures.push(`start: ${Date.now() - t0} ms`);
      lab = JSON.parse(await readFile(join(stateDir, "lab.json"), "utf8")) as Recorded;
    }, CAP_MS + 30_000);

    // Runs even when a test above failed midway: the lab must not outlive the run.
    afterAll(async () => {
      await labCommand(["down"]).catch(() => undefined);
      if (figures.length > 0) process.stdout.write(`[lab] figures\n${figures.join("\n")}\n`);
    }, 90_000);

    /** The address part of `198.18.0.11:40000` or `[2001:db8::11]:40000`. */
    const addressOf = (hostPort: string | null): string | undefined =>
      hostPort?.replace(/^\[/, "").replace(/\]?:\d+$/, "");

    it("serves every Service's VIP (IPv4 and IPv6) to the client namespace, from that Service's own nodes, with PROXY v2 where asked", async () => {
      expect([...new Set(lab.services.map((s) => s.service))].sort()).toEqual(["lab/api", "lab/proxied", "lab/web"]);
      // lab/web is dual-stack: one VIP per family.
      expect(lab.services.filter((s) => s.service === "lab/web").map((s) => s.vip.includes(":"))).toEqual([
        false,
        true,
      ]);
      const lbAddresses = lab.lbNodes.flatMap((n) => [n.address, n.address6]);
      for (const s of lab.services) {
        const t0 = Date.now();
        const r = await traffic(s.vip, s.port, 20);
        figures.push(
          `${s.service} ${s.vip} port ${s.port}: ${r.ok}/20 connections in ${Date.now() - t0} ms, by node ${JSON.stringify(r.byNode)}`,
        );
        expect(r.failed, `${s.service}: ${r.errors.join("; ")}`).toBe(0);
        expect(r.ok).toBe(20);
        // Only the Service's planned nodes answer (lab/web has no endpoints on node-c), spread by roundrobin.
        for (const node of Object.keys(r.byNode)) expect(s.nodes).toContain(node);
        expect(Object.keys(r.byNode).length).toBe(s.nodes.length);
        for (const sample of r.samples) {
          if (s.proxy === "v2") {
            expect(sample.proxy).toBe("v2");
            // The node sees the client's own address, not the LB node's.
            expect(sample.seen).toBe(sample.local);
            expect(sample.seen?.startsWith(`${lab.client.address}:`)).toBe(true);
          } else {
            expect(sample.proxy).toBe("none");
            // Without PROXY the node sees the LB node's own address, of the VIP's family.
            expect(lbAddresses).toContain(addressOf(sample.seen));
            expect(addressOf(sample.seen)?.includes(":")).toBe(s.vip.includes(":"));
          }
        }
      }
    }, 120_000);

    it("refuses a second `npm run lab` on the same prefix and state directory, and leaves the running lab alone", async () => {
      const again = await labCommand([]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/a lab already runs with state in/);
      expect((await namespaces()).sort()).toEqual([...lab.namespaces].sort());
      const web = lab.services.find((s) => s.service === "lab/web")!;
      expect((await traffic(web.vip, web.port, 4)).ok).toBe(4);
    }, 60_000);

    it("`fail node-b` takes node-b out of rotation and `heal node-b` brings it back", async () => {
      const web = lab.services.find((s) => s.service === "lab/web")!;
      expect(web.nodes).toContain("node-b");
      expect((await labCommand(["fail", "node-b"])).code).toBe(0);
      const out = await elapsed(
        async () => (await traffic(web.vip, web.port, 6)).byNode["node-b"] === undefined,
        30_000,
      );
      // Out of rotation means every connection now goes elsewhere, and none fails.
      const after = await traffic(web.vip, web.port, 10);
      expect(after.failed).toBe(0);
      expect(after.byNode["node-b"]).toBeUndefined();
      expect((await labCommand(["heal", "node-b"])).code).toBe(0);
      const back = await elapsed(async () => ((await traffic(web.vip, web.port, 6)).byNode["node-b"] ?? 0) > 0, 30_000);
      figures.push(`fail node-b: out of rotation within ${out} ms; heal: back within ${back} ms`);
    }, 120_000);

    /** The VIPs (a /32 or /128 on eth0) an LB node's namespace holds now. */
    const heldBy = async (lbNode: string): Promise<string[]> => {
      const r = await run("ip", ["-n", `${prefix}${lbNode}`, "-o", "addr", "show", "dev", "eth0"]);
      if (r.isErr()) throw new Error(r.error.message);
      return [...r.value.stdout.matchAll(/inet6? ([0-9a-f.:]+)\/(?:32|128) /g)].map((m) => m[1]!).sort();
    };

    it("when lb1's keepalived stops its VIPs move to lb2 and keep serving; `restore lb1` takes them back", async () => {
      const lb1 = lab.lbNodes.find((n) => n.name === "lb1")!;
      const own = lab.services.filter((s) => s.holder === "lb1");
      const vips = [...new Set(own.map((s) => s.vip))].sort();
      expect(vips.length).toBeGreaterThan(0);
      expect(await heldBy("lb1")).toEqual(vips);
      process.kill(Number((await readFile(join(lb1.dir, "keepalived.pid"), "utf8")).trim()), "SIGTERM");
      const moved = await elapsed(async () => {
        const [on1, on2] = [await heldBy("lb1"), await heldBy("lb2")];
        return on1.length === 0 && vips.every((v) => on2.includes(v));
      }, 30_000);
      for (const s of own) expect((await traffic(s.vip, s.port, 4)).ok).toBe(4);
      const restored = await labCommand(["restore", "lb1"]);
      expect(restored.code, restored.stderr).toBe(0);
      const back = await elapsed(async () => (await heldBy("lb1")).join() === vips.join(), 30_000);
      figures.push(
        `lb1's keepalived stopped: its ${vips.length} VIPs held by lb2 within ${moved} ms; VIPs back on lb1 ${back} ms after restore lb1 returned`,
      );
    }, 120_000);

    it("`down` removes every namespace, process and file the lab made, and is safe to run twice", async () => {
      const before = await labProcesses();
      // 2 x (HAProxy master + worker, keepalived + its VRRP child) and 3 fake nodes at least.
      expect(before.length).toBeGreaterThanOrEqual(2 * 3 + 3);
      expect((await namespaces()).sort()).toEqual([...lab.namespaces].sort());

      const first = await labCommand(["down"]);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/^Lab down: stopped \d+ processes, removed 7 namespaces and /m);
      expect(await namespaces()).toEqual([]);
      expect(await labProcesses()).toEqual([]);
      expect(existsSync(stateDir)).toBe(false);

      const second = await labCommand(["down"]);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/^Nothing to remove/);
    }, 90_000);
  },
);
