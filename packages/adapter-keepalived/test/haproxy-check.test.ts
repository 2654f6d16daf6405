import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "@portico/host";
import { describeWith, must, NetnsLab, program, root } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";

// The check program of `vrrp.haproxyCheck: {kind: stats}` against a real HAProxy in master-worker
// mode: it passes while a worker answers, fails when the worker is stopped though the master
// lives (which the pgrep check cannot see), and passes again once the worker runs.
const CHECK = join(resolve(import.meta.dirname, "../../.."), "packaging/haproxy-check");

await describeWith(
  [program("haproxy", ["-v"]), program("perl", ["-v"]), program("pgrep", ["-V"]), program("ip", ["-V"]), root],
  "the stats-socket HAProxy check",
  () => {
    const lab = new NetnsLab();
    let ns = "";
    let dir = "";
    const socket = () => join(dir, "admin.sock");
    const check = async (): Promise<number | null> =>
      (await run("perl", [CHECK, socket()], { timeoutMs: 10_000 }))._unsafeUnwrap().code;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "portico-hacheck-"));
      ns = await lab.add("hacheck");
      await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
      await writeFile(
        join(dir, "haproxy.cfg"),
        [
          "global",
          "    master-worker",
          `    stats socket ${socket()} mode 600 level admin`,
          "defaults",
          "    mode tcp",
          "    timeout connect 1s",
          "    timeout client 5s",
          "    timeout server 5s",
          "frontend f",
          "    bind 127.0.0.1:8080",
          "",
        ].join("\n"),
      );
      await must("ip", [
        "netns",
        "exec",
        ns,
        "haproxy",
        "-W",
        "-D",
        "-p",
        join(dir, "haproxy.pid"),
        "-f",
        join(dir, "haproxy.cfg"),
      ]);
      const deadline = Date.now() + 10_000;
      while ((await check()) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    }, 30_000);

    afterAll(async () => {
      const master = Number((await readFile(join(dir, "haproxy.pid"), "utf8").catch(() => "")).trim());
      if (master > 1) process.kill(master, "SIGKILL");
      await lab.destroy();
      await rm(dir, { recursive: true, force: true });
    });

    it("passes while a worker answers, fails while the worker is stopped, passes once it runs again", async () => {
      expect(await check()).toBe(0);
      const master = (await readFile(join(dir, "haproxy.pid"), "utf8")).trim();
      const worker = Number((await must("pgrep", ["-P", master, "haproxy"])).trim());
      process.kill(worker, "SIGSTOP");
      try {
        const t0 = Date.now();
        expect(await check()).toBe(1);
        const failedAfter = Date.now() - t0;
        // The pid check the default renders still passes: the master is alive.
        const pid = (await run("pgrep", ["-F", join(dir, "haproxy.pid"), "-r", "R,S,D"]))._unsafeUnwrap();
        expect(pid.code).toBe(0);
        process.stdout.write(`[haproxy-check] stopped worker: the check failed after ${failedAfter} ms\n`);
        expect(failedAfter).toBeLessThan(5_000);
      } finally {
        process.kill(worker, "SIGCONT");
      }
      expect(await check()).toBe(0);
    }, 30_000);

    it("fails when nothing listens on the socket", async () => {
      expect((await run("perl", [CHECK, join(dir, "missing.sock")]))._unsafeUnwrap().code).toBe(1);
    });
  },
);
