import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Plan } from "@portico/core";
import { start } from "@portico/host";
import { describeWith, program, waitForLine } from "@portico/testkit";
import { applyHaproxy, renderHaproxy } from "@portico/adapter-haproxy";
import { emptyPlan, typicalPlan } from "./fixtures.js";

// What apply decides before any reload, with the real haproxy behind a wrapper that only records
// each call: no master socket exists here, so a valid new config is written, not reloaded. The
// lab tests (dataplane.test.ts) cover reloads and rollbacks against a running HAProxy.
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-apply-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const recordedHaproxy = async (name: string): Promise<{ binary: string; checks: () => Promise<number> }> => {
  const binary = join(dir, `${name}-haproxy`);
  const log = join(dir, `${name}-haproxy.calls`);
  await writeFile(log, "", "utf8");
  await writeFile(binary, `#!/bin/sh\necho "$1" >> '${log}'\nexec haproxy "$@"\n`, "utf8");
  await chmod(binary, 0o755);
  return { binary, checks: async () => (await readFile(log, "utf8")).split("\n").filter((l) => l === "-c").length };
};

const at = (plan: Plan, name: string): Plan => ({
  ...plan,
  settings: {
    ...plan.settings,
    haproxy: {
      configPath: join(dir, name, "haproxy.cfg"),
      statsSocket: join(dir, name, "admin.sock"),
      masterSocket: join(dir, name, "master.sock"),
    },
  },
});

const install = async (plan: Plan): Promise<string> => {
  const text = renderHaproxy(plan, {})._unsafeUnwrap();
  await mkdir(dirname(plan.settings.haproxy.configPath), { recursive: true });
  await writeFile(plan.settings.haproxy.configPath, text, "utf8");
  return text;
};

await describeWith([program("haproxy", ["-v"])], "applyHaproxy before any reload", () => {
  it("does not run haproxy -c when the rendered file is the installed one", async () => {
    const plan = at(typicalPlan(), "same");
    const installed = await install(plan);
    const haproxy = await recordedHaproxy("same");
    const report = (await applyHaproxy(plan, { binary: haproxy.binary }))._unsafeUnwrap();
    expect(report.action).toBe("unchanged");
    expect(await haproxy.checks()).toBe(0);
    expect(await readFile(plan.settings.haproxy.configPath, "utf8")).toBe(installed);
  });

  it("never installs a config that haproxy -c refuses, nor the server-state file", async () => {
    const installed = await install(at(emptyPlan(), "refused"));
    const plan = at(typicalPlan(), "refused");
    // A stats socket path longer than a Unix socket address can hold: the renderer passes it,
    // `haproxy -c` refuses it. The server-state file would go beside it.
    const socketDir = join(dir, "refused", "x".repeat(120));
    const bad: Plan = {
      ...plan,
      settings: { ...plan.settings, haproxy: { ...plan.settings.haproxy, statsSocket: join(socketDir, "admin.sock") } },
    };
    const haproxy = await recordedHaproxy("refuses");
    const e = (await applyHaproxy(bad, { binary: haproxy.binary }))._unsafeUnwrapErr();
    expect(e).toMatchObject({ kind: "validate", adapter: "haproxy" });
    expect(await haproxy.checks()).toBe(1);
    expect(await readFile(plan.settings.haproxy.configPath, "utf8")).toBe(installed);
    await expect(access(join(socketDir, "portico-server-state"))).rejects.toThrow(/ENOENT/);
  });

  it("checks a changed config once and writes it when no haproxy master answers", async () => {
    const plan = at(typicalPlan(), "changed");
    await install(at(emptyPlan(), "changed"));
    const haproxy = await recordedHaproxy("changed");
    const report = (await applyHaproxy(plan, { binary: haproxy.binary }))._unsafeUnwrap();
    expect(report.action).toBe("written");
    expect(await haproxy.checks()).toBe(1);
    expect(await readFile(plan.settings.haproxy.configPath, "utf8")).toBe(renderHaproxy(plan, {})._unsafeUnwrap());
  });

  it("takes a master socket that refuses connections for an error to retry, not for nothing running", async () => {
    const plan = at(typicalPlan(), "refusing");
    const installed = await install(at(emptyPlan(), "refusing"));
    // A socket file nobody accepts on: its listener was killed without removing it.
    const script = "require('net').createServer().listen(process.argv[1], () => console.log('ready'))";
    const holder = (
      await start(process.execPath, ["-e", script, plan.settings.haproxy.masterSocket], { stdio: "pipe" })
    )._unsafeUnwrap();
    await waitForLine(holder, "ready");
    await holder.stop("SIGKILL");
    const e = (await applyHaproxy(plan))._unsafeUnwrapErr();
    expect(e).toMatchObject({ kind: "apply", adapter: "haproxy" });
    expect(e.message).toContain("ECONNREFUSED");
    expect(await readFile(plan.settings.haproxy.configPath, "utf8")).toBe(installed);
  });

  it("lets applies to one file take turns, in one process and beside another process's lock", async () => {
    const plan = at(typicalPlan(), "turns");
    await install(at(emptyPlan(), "turns"));
    const lock = `${plan.settings.haproxy.configPath}.portico-lock`;
    // Another live process holds the lock for a while; then it is released.
    await writeFile(lock, "1\n");
    const waiting = applyHaproxy(plan);
    await new Promise((r) => setTimeout(r, 300));
    expect(await readFile(plan.settings.haproxy.configPath, "utf8")).toBe(
      renderHaproxy(at(emptyPlan(), "turns"), {})._unsafeUnwrap(),
    );
    await rm(lock);
    const [first, second] = await Promise.all([waiting, applyHaproxy(plan)]);
    expect(first._unsafeUnwrap().action).toBe("written");
    expect(second._unsafeUnwrap().action).toBe("unchanged");
    await expect(access(lock)).rejects.toThrow(/ENOENT/);
    // A lock left by a process that died is taken over.
    await writeFile(lock, "999999999\n");
    expect((await applyHaproxy(at(emptyPlan(), "turns")))._unsafeUnwrap().action).toBe("written");
  });
});
