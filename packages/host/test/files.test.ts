import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../src/files.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-host-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("replaces a file whole and leaves no temporary file behind", async () => {
    const path = join(dir, "a.cfg");
    await writeFileAtomic(path, "old\n");
    await writeFileAtomic(path, "new\n", { mode: 0o600 });
    expect(await readFile(path, "utf8")).toBe("new\n");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["a.cfg"]);
  });

  it("creates parent directories only when asked", async () => {
    const path = join(dir, "x", "y", "b.cfg");
    const refused = await writeFileAtomic(path, "b\n");
    expect(refused._unsafeUnwrapErr()).toMatchObject({ kind: "io", path });
    (await writeFileAtomic(path, "b\n", { mkdirs: true }))._unsafeUnwrap();
    expect(await readFile(path, "utf8")).toBe("b\n");
  });
});
