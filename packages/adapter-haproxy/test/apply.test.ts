import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Plan } from "@portico/core";
import { applyHaproxy, renderHaproxy } from "@portico/adapter-haproxy";
import { emptyPlan, typicalPlan } from "./fixtures.js";

// What apply decides before any HAProxy runs, with a stand-in `haproxy` that logs each call and
// answers as told: no master socket exists here, so a valid new config is written, not reloaded.
// The lab tests (dataplane.test.ts) cover reloads and rollbacks against a real HAProxy.
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-apply-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fakeHaproxy = async (name: string, exit: number): Promise<{ binary: string; calls: () => Promise<number> }> => {
  const binary = join(dir, name);
  const log = join(dir, `${name}.calls`);
  await writeFile(log, "", "utf8");
  const alert = exit === 0 ? "" : `echo "[ALERT]    (1) : config : parsing [$3:12] : stand-in refusal" >&2\n`;
  await writeFile(binary, `#!/bin/sh\necho "$1" >> '${log}'\n${alert}exit ${exit}\n`, "utf8");
  await chmod(binary, 0o755);
  return { binary, calls: async () => (await readFile(log, "utf8")).split("\n").filter((l) => l === "-c").length };
};

const at = (plan: Plan, name: string): Plan => ({
  ...plan,
  settings: { ...plan.settings, haproxy: { configPath: join(dir, name, "haproxy.cfg"), statsSocket: join(dir, name, "admin.sock"), masterSocket: join(dir, name, "master.sock") } },
});

const install = async (plan: Plan): Promise<string> => {
  const text = renderHaproxy(plan, {})._unsafeUnwrap();
  await mkdir(dirname(plan.settings.haproxy.configPath), { recursive: true });
  await writeFile(plan.settings.haproxy.configPath, text, "utf8");
  return text;
};

describe("applyHaproxy before any reload", () => {
  it("does not run haproxy -c when the rendered file is the installed one", async () => {
    const plan = at(typicalPlan(), "same");
    const installed = await install(plan);
    const haproxy = await fakeHaproxy("accepts-same", 0);
    const report = (await applyHaproxy(plan, { binary: haproxy.binary }))._unsafeUnwrap();
    expect(report.action).toBe("unchanged");
    expect(await haproxy.calls()).toBe(0);
    expect(await readFile(plan.settings.haproxy.configPath, "utf8")).toBe(installed);
  });

  it("never installs a config that haproxy -c refuses, nor the server-state file", async () => {
    const plan = at(typicalPlan(), "refused");
    const installed = await install(at(emptyPlan(), "refused"));
    const haproxy = await fakeHaproxy("refuses", 1);
    const e = (await applyHaproxy(plan, { binary: haproxy.binary }))._unsafeUnwrapErr();
    expect(e).toMatchObject({ kind: "validate", adapter: "haproxy" });
    expect(e.message).toContain("stand-in refusal");
    expect(await haproxy.calls()).toBe(1);
    expect(await readFile(plan.settings.haproxy.configPath, "utf8")).toBe(installed);
    await expect(readFile(join(dir, "refused", "portico-server-state"), "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("checks a changed config once and writes it when no haproxy master answers", async () => {
    const plan = at(typicalPlan(), "changed");
    await install(at(emptyPlan(), "changed"));
    const haproxy = await fakeHaproxy("accepts-changed", 0);
    const report = (await applyHaproxy(plan, { binary: haproxy.binary }))._unsafeUnwrap();
    expect(report.action).toBe("written");
    expect(await haproxy.calls()).toBe(1);
    expect(await readFile(plan.settings.haproxy.configPath, "utf8")).toBe(renderHaproxy(plan, {})._unsafeUnwrap());
  });
});
