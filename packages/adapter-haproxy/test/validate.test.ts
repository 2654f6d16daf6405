import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateHaproxy } from "@portico/adapter-haproxy";

// These need no haproxy: they check what validate does when haproxy is missing, hangs or says
// nothing useful, using small stand-in programs.
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-haproxy-fake-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fake = async (name: string, script: string): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${script}\n`, "utf8");
  await chmod(path, 0o755);
  return path;
};

describe("validateHaproxy without haproxy", () => {
  it("is unavailable, with the install hint, when the program does not exist", async () => {
    const e = (await validateHaproxy("global\n", { binary: join(dir, "no-such-haproxy") }))._unsafeUnwrapErr();
    expect(e).toMatchObject({ kind: "unavailable", adapter: "haproxy" });
    expect(e.hint).toContain("apt-get install -y haproxy");
  });

  it("fails when haproxy does not finish in time", async () => {
    const binary = await fake("slow", "exec sleep 10");
    const e = (await validateHaproxy("global\n", { binary, timeoutMs: 200 }))._unsafeUnwrapErr();
    expect(e).toMatchObject({ kind: "validate" });
    expect(e.message).toContain("did not finish within 200 ms");
  });

  it("shows the output when a failure carries no ALERT", async () => {
    const binary = await fake("crash", 'echo "something odd" >&2; exit 3');
    const e = (await validateHaproxy("global\n", { binary }))._unsafeUnwrapErr();
    expect(e.message).toBe("haproxy -c rejected the configuration:\nexit 3: something odd");
  });

  it("passes the file it wrote as -c -f <file>", async () => {
    const binary = await fake("echo-args", '[ "$1" = -c ] && [ "$2" = -f ] && grep -q "^global$" "$3"');
    expect((await validateHaproxy("global\n", { binary })).isOk()).toBe(true);
  });
});
