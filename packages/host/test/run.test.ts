import { describe, expect, it } from "vitest";
import { run } from "../src/run.js";

describe("run", () => {
  it("passes arguments as they are, never through a shell", async () => {
    const r = (
      await run(process.execPath, [
        "-e",
        "console.log(JSON.stringify(process.argv.slice(1)))",
        "a b",
        "$(id)",
        "; rm -rf /",
        "'\"",
      ])
    )._unsafeUnwrap();
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["a b", "$(id)", "; rm -rf /", "'\""]);
  });

  it("reports a missing program as a spawn error with ENOENT", async () => {
    const r = await run("/nonexistent/portico-test-binary", []);
    expect(r._unsafeUnwrapErr()).toMatchObject({
      kind: "spawn",
      code: "ENOENT",
      message: "/nonexistent/portico-test-binary: not found",
    });
  });

  it("resolves with the exit status of a failing program", async () => {
    const r = (await run(process.execPath, ["-e", "process.stderr.write('bad'); process.exit(3)"]))._unsafeUnwrap();
    expect(r).toMatchObject({ code: 3, stderr: "bad", timedOut: false });
  });

  it("ends the whole process group on timeout, grandchildren holding the pipes included", async () => {
    const started = process.hrtime.bigint();
    const script =
      "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'inherit' }); setTimeout(() => {}, 20000);";
    const r = (await run(process.execPath, ["-e", script], { timeoutMs: 300 }))._unsafeUnwrap();
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(r.timedOut).toBe(true);
    expect(elapsedMs).toBeLessThan(10_000);
  });

  it("feeds standard input", async () => {
    const r = (
      await run(process.execPath, ["-e", "process.stdin.pipe(process.stdout)"], { input: "hello" })
    )._unsafeUnwrap();
    expect(r.stdout).toBe("hello");
  });
});
