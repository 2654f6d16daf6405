import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { start } from "../src/start.js";

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("start", () => {
  it("passes arguments as they are and returns before the process ends", async () => {
    const p = (
      await start(
        process.execPath,
        [
          "-e",
          "console.log(JSON.stringify(process.argv.slice(1))); setTimeout(() => {}, 20000)",
          "a b",
          "$(id)",
          "; x",
        ],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap();
    const [line] = (await once(p.stdout!, "data")) as [Buffer];
    expect(JSON.parse(line.toString())).toEqual(["a b", "$(id)", "; x"]);
    expect(alive(p.pid)).toBe(true);
    const exit = await p.stop();
    expect(exit).toEqual({ code: null, signal: "SIGTERM" });
    expect(alive(p.pid)).toBe(false);
  });

  it("reports a missing program as a spawn error with ENOENT", async () => {
    const r = await start("/nonexistent/portico-test-binary", []);
    expect(r._unsafeUnwrapErr()).toMatchObject({
      kind: "spawn",
      code: "ENOENT",
      message: "/nonexistent/portico-test-binary: not found",
    });
  });

  it("resolves exited with the exit code of a process that ends by itself", async () => {
    const p = (await start(process.execPath, ["-e", "process.exit(4)"]))._unsafeUnwrap();
    expect(await p.exited).toEqual({ code: 4, signal: null });
    // Stopping an ended process is harmless and gives the same exit.
    expect(await p.stop()).toEqual({ code: 4, signal: null });
  });

  it("ends the process group, and kills a process that ignores SIGTERM after the grace time", async () => {
    const script =
      "process.on('SIGTERM', () => {}); const c = require('child_process').spawn(process.execPath, ['-e', 'process.on(\"SIGTERM\", () => {}); setTimeout(() => {}, 20000)'], { stdio: 'ignore' }); console.log(c.pid); setTimeout(() => {}, 20000);";
    const p = (await start(process.execPath, ["-e", script], { stdio: "pipe" }))._unsafeUnwrap();
    const [line] = (await once(p.stdout!, "data")) as [Buffer];
    const grandchild = Number(line.toString().trim());
    expect(alive(grandchild)).toBe(true);
    const exit = await p.stop("SIGTERM", 200);
    expect(exit.signal).toBe("SIGKILL");
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it("feeds standard input through the handle", async () => {
    const p = (
      await start(
        process.execPath,
        [
          "-e",
          "process.stdin.once('data', (d) => { process.stdout.write(d.toString().toUpperCase()); process.exit(0); })",
        ],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap();
    p.stdin!.write("ping\n");
    const [out] = (await once(p.stdout!, "data")) as [Buffer];
    expect(out.toString()).toBe("PING\n");
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });
});
