import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main, progress, type Io } from "../src/index.js";

// Progress goes to stderr on a terminal only: never to stdout, never with --output json, never
// when stderr is a pipe or a file.

const repo = resolve(import.meta.dirname, "../../..");
const quickstart = join(repo, "examples/quickstart");
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const capture = (stderrTty: boolean) => {
  const out = { stdout: "", stderr: "" };
  const io: Io = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    env: {},
    cwd: repo,
    stderrTty,
  };
  return { io, out };
};

describe("progress", () => {
  it("overwrites one stderr line on a terminal, changes only with the percentage, and clears it when done", () => {
    const { io, out } = capture(true);
    const bar = progress(io);
    bar.step("planning 4000 Services");
    for (let i = 0; i <= 4000; i++) bar.count("writing", i, 4000);
    bar.done();
    const updates = out.stderr.split("\r\u001b[K").filter((s) => s !== "");
    expect(updates[0]).toBe("planning 4000 Services…");
    expect(updates.slice(1)).toHaveLength(101);
    expect(updates.at(-1)).toBe("writing 100% (4000/4000)");
    expect(out.stderr.endsWith("\r\u001b[K")).toBe(true);
    expect(out.stdout).toBe("");
  });

  it("writes nothing when stderr is not a terminal, or when disabled for machine output", () => {
    for (const [tty, enabled] of [
      [false, true],
      [true, false],
    ] as const) {
      const { io, out } = capture(tty);
      const bar = progress(io, enabled);
      bar.step("planning");
      bar.count("writing", 1, 2);
      bar.done();
      expect(out.stderr).toBe("");
    }
  });

  it("shows render's and plan's steps on a terminal and keeps stdout (and JSON) clean", async () => {
    const dir = await mkdtemp(join(tmpdir(), "portico-progress-"));
    dirs.push(dir);
    const cluster = join(quickstart, "cluster.yaml");
    const config = join(quickstart, "portico.yaml");
    const tty = capture(true);
    expect(
      await main(["render", "--cluster", cluster, "--config", config, "--node", "lb1", "--out", dir], tty.io),
    ).toBe(1);
    expect(tty.out.stderr).toContain("planning 5 Services…");
    // haproxy.cfg, keepalived.conf, nftables.conf (shop/api serves UDP), status.json, plan.json.
    expect(tty.out.stderr).toContain("writing files 80% (4/5)");
    expect(tty.out.stdout).not.toContain("\u001b");

    const piped = capture(false);
    await main(["render", "--cluster", cluster, "--config", config, "--node", "lb1", "--out", dir], piped.io);
    expect(piped.out.stderr).toBe("");
    expect(piped.out.stdout).toBe(tty.out.stdout);

    const json = capture(true);
    await main(["plan", "--cluster", cluster, "--config", config, "--output", "json"], json.io);
    expect(json.out.stderr).toBe("");
    expect(() => JSON.parse(json.out.stdout) as unknown).not.toThrow();
    const text = capture(true);
    await main(["plan", "--cluster", cluster, "--config", config], text.io);
    expect(text.out.stderr).toContain("planning 5 Services…");
  });
});
