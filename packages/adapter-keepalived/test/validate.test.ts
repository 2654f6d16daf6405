import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateKeepalived } from "../src/index.js";

// These need no keepalived, no ip and no root; keepalived-t.test.ts runs the real thing.
describe("validateKeepalived without the tools", () => {
  it("reports a missing keepalived as unavailable, with the package to install", async () => {
    const error = (await validateKeepalived("", { binary: "/nonexistent/keepalived" }))._unsafeUnwrapErr();
    expect(error).toMatchObject({ kind: "unavailable", adapter: "keepalived", hint: "apt-get install -y keepalived" });
  });

  it("refuses a namespace name that ip would read as an option", async () => {
    const error = (await validateKeepalived("", { netns: "-all" }))._unsafeUnwrapErr();
    expect(error.kind).toBe("validate");
  });

  it("removes its temporary directory even when the check cannot run", async () => {
    // A private TMPDIR (this file runs in its own process) so other test files cannot interfere.
    const saved = process.env["TMPDIR"];
    const dir = await mkdtemp(join(tmpdir(), "portico-keepalived-test-"));
    process.env["TMPDIR"] = dir;
    try {
      expect((await validateKeepalived("global_defs {\n}\n", { binary: "/nonexistent/keepalived" })).isErr()).toBe(
        true,
      );
      expect(await readdir(dir)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env["TMPDIR"];
      else process.env["TMPDIR"] = saved;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
