import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LbNodeName } from "@portico/core";
import { start } from "@portico/host";
import { describeWith, must, NetnsLab, program, root } from "@portico/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultSupervisor, KEEPALIVED_UNIT, keepalivedLaunch, renderKeepalived } from "../src/index.js";
import { processNopreemptPlan } from "./fixtures.js";

const files = {
  binary: "/usr/sbin/keepalived",
  configPath: "/etc/keepalived/keepalived.conf",
  pidFile: "/run/keepalived.pid",
  vrrpPidFile: "/run/keepalived_vrrp.pid",
};
const own = ["-P", "-f", files.configPath, "-p", files.pidFile, "-r", files.vrrpPidFile];

describe("keepalivedLaunch", () => {
  it("under systemd, runs keepalived in the foreground in a transient unit of its own, outside portico's cgroup", () => {
    const { command, args } = keepalivedLaunch(files, "systemd");
    expect(command).toBe("systemd-run");
    expect(args).toContain(`--unit=${KEEPALIVED_UNIT}`);
    expect(args).toContain("--collect");
    expect(args).toContain("--property=Restart=on-failure");
    // Everything after the binary is keepalived's own command line.
    expect(args.slice(args.indexOf(files.binary))).toEqual([files.binary, "--dont-fork", ...own]);
  });

  it("starts keepalived directly (it daemonizes) without systemd, and inside a namespace whatever is asked", () => {
    expect(keepalivedLaunch(files, "direct")).toEqual({ command: files.binary, args: own });
    expect(keepalivedLaunch({ ...files, netns: "lab1" }, "systemd")).toEqual({
      command: "ip",
      args: ["netns", "exec", "lab1", files.binary, ...own],
    });
  });

  it("chooses systemd exactly when it is PID 1 (sd_booted: /run/systemd/system exists)", () => {
    expect(defaultSupervisor()).toBe(existsSync("/run/systemd/system") ? "systemd" : "direct");
  });
});

// The unit's command line on the real keepalived: it must stay in the foreground as the process
// systemd started (so systemd sees it exit) and still write its pid files for apply's SIGHUP.
await describeWith(
  [program("keepalived", ["--version"]), program("ip", ["-V"]), root],
  "keepalived as the systemd unit runs it",
  () => {
    const lab = new NetnsLab();
    let ns = "";
    let dir = "";

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "portico-kalaunch-"));
      ns = await lab.add("launch");
      await lab.addInterface(ns, "eth0");
      await must("ip", ["-n", ns, "addr", "add", "198.18.1.1/24", "dev", "eth0"]);
    });

    afterAll(async () => {
      await lab.destroy();
      await rm(dir, { recursive: true, force: true });
    });

    it("stays in the foreground with --dont-fork, writes its pid file, and ends on SIGTERM", async () => {
      const paths = {
        binary: "keepalived",
        configPath: join(dir, "keepalived.conf"),
        pidFile: join(dir, "keepalived.pid"),
        vrrpPidFile: join(dir, "vrrp.pid"),
      };
      await writeFile(
        paths.configPath,
        renderKeepalived(processNopreemptPlan(), { node: "lb1" as LbNodeName })._unsafeUnwrap(),
      );
      const { args } = keepalivedLaunch(paths, "systemd");
      const command = args.slice(args.indexOf(paths.binary));
      const child = (await start("ip", ["netns", "exec", ns, ...command]))._unsafeUnwrap();
      try {
        const deadline = Date.now() + 10_000;
        while (!existsSync(paths.pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const pid = Number((await readFile(paths.pidFile, "utf8")).trim());
        // `ip netns exec` execs keepalived: the process started is keepalived itself, still running.
        expect(pid).toBe(child.pid);
        expect((await readFile(`/proc/${pid}/comm`, "utf8")).trim()).toBe("keepalived");
      } finally {
        const exit = await child.stop("SIGTERM", 10_000);
        expect(exit.code).toBe(0);
      }
    }, 30_000);
  },
);
