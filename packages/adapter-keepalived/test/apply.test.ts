import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LbNodeName } from "@portico/core";
import { describeWith, must, NetnsLab, program, root } from "@portico/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { applyKeepalived, renderKeepalived, runningKeepalived } from "../src/index.js";
import { processNopreemptPlan, typicalPlan } from "./fixtures.js";

await describeWith(
  [program("keepalived", ["--version"]), program("ip", ["-V"]), root],
  "applyKeepalived on the real keepalived",
  () => {
    const lab = new NetnsLab();
    let ns = "";
    let dir = "";
    const options = () => ({
      configPath: join(dir, "keepalived.conf"),
      pidFile: join(dir, "keepalived.pid"),
      vrrpPidFile: join(dir, "vrrp.pid"),
      netns: ns,
      timeoutMs: 20_000,
    });
    const good = renderKeepalived(processNopreemptPlan(), { node: "lb1" as LbNodeName })._unsafeUnwrap();

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "portico-kaapply-"));
      ns = await lab.add("apply");
      await lab.addInterface(ns, "eth0");
      await must("ip", ["-n", ns, "addr", "add", "198.18.1.1/24", "dev", "eth0"]);
    });

    afterAll(async () => {
      const pid = await runningKeepalived(join(dir, "keepalived.pid"));
      if (pid !== undefined) process.kill(pid, "SIGKILL");
      await lab.destroy();
      await rm(dir, { recursive: true, force: true });
    });

    it("never installs a config that fails validation, and leaves the installed one as it was", async () => {
      await writeFile(join(dir, "keepalived.conf"), "# the config running before\n");
      const broken = good.replace("interface eth0", "interface nosuch0");
      const result = await applyKeepalived(broken, options());
      expect(result._unsafeUnwrapErr()).toMatchObject({ kind: "validate", adapter: "keepalived" });
      expect(await readFile(join(dir, "keepalived.conf"), "utf8")).toBe("# the config running before\n");
      expect(await runningKeepalived(join(dir, "keepalived.pid"))).toBeUndefined();
    });

    it("starts keepalived when none runs, reports unchanged for the same text, and SIGHUPs the same process for a new one", async () => {
      expect((await applyKeepalived(good, options()))._unsafeUnwrap()).toBe("started");
      const pid = await runningKeepalived(join(dir, "keepalived.pid"));
      expect(pid).toBeGreaterThan(1);
      expect(await readFile(join(dir, "keepalived.conf"), "utf8")).toBe(good);
      expect((await applyKeepalived(good, options()))._unsafeUnwrap()).toBe("unchanged");
      const next = renderKeepalived(
        { ...processNopreemptPlan(), vrrpInstances: typicalPlan().vrrpInstances.slice(0, 2) },
        { node: "lb1" as LbNodeName },
      )._unsafeUnwrap();
      expect((await applyKeepalived(next, options()))._unsafeUnwrap()).toBe("reloaded");
      expect(await readFile(join(dir, "keepalived.conf"), "utf8")).toBe(next);
      // Reloaded in place: the same daemon, still alive after the reload.
      await new Promise((r) => setTimeout(r, 300));
      expect(await runningKeepalived(join(dir, "keepalived.pid"))).toBe(pid);
    });

    it("never signals a process that is not keepalived, even if a pid file names it", async () => {
      const other = join(dir, "other.pid");
      await writeFile(other, `${process.pid}\n`);
      expect(await runningKeepalived(other)).toBeUndefined();
      await writeFile(other, "not a pid\n");
      expect(await runningKeepalived(other)).toBeUndefined();
      expect(await runningKeepalived(join(dir, "missing.pid"))).toBeUndefined();
    });
  },
);
