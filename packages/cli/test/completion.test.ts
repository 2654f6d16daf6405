import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "@portico/host";
import { describeWith, program } from "@portico/testkit";
import { main, type Io } from "../src/index.js";

const root = resolve(import.meta.dirname, "../../..");
const bin = join(root, "packages/cli/bin/portico.js");

const portico = async (...argv: string[]) => {
  let stdout = "";
  let stderr = "";
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, cwd: root };
  const code = await main(argv, io);
  return { code, stdout, stderr };
};

let dir = "";
let bashScript = "";
let zshScript = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-completion-"));
  bashScript = join(dir, "portico.bash");
  zshScript = join(dir, "_portico");
  await writeFile(bashScript, (await portico("completion", "bash")).stdout);
  await writeFile(zshScript, (await portico("completion", "zsh")).stdout);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("portico --version and completion", () => {
  it("--version prints the package's version on one line", async () => {
    const r = await portico("--version");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^portico 0\.1\.0 \(commit unknown, workspace\)\n$/);
  });

  it("npm links portico into node_modules/.bin from the committed bin file, which exists before any build", async () => {
    expect(await realpath(join(root, "node_modules/.bin/portico"))).toBe(await realpath(bin));
  });

  it("the linked bin runs the build and answers --version", async () => {
    const r = await run(process.execPath, [bin, "--version"], { timeoutMs: 15_000 });
    expect(r._unsafeUnwrap().stdout).toMatch(/^portico 0\.1\.0 /);
  });

  it("completion without a known shell is a usage error, exit 2", async () => {
    for (const argv of [["completion"], ["completion", "fish"], ["completion", "bash", "zsh"]]) {
      const r = await portico(...argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe("portico: completion takes one shell: bash or zsh (see portico --help)\n");
    }
  });
});

/** What bash offers for the words typed so far (the last one is being completed). */
const bashOffers = async (...words: string[]): Promise<string[]> => {
  const cword = words.length - 1;
  const line = words.map((w) => `'${w}'`).join(" ");
  const complete = `COMP_WORDS=(${line}); COMP_CWORD=${cword}; _portico; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const script = `source '${bashScript}'; ${complete}`;
  const r = await run("bash", ["--norc", "-c", script], { timeoutMs: 10_000, cwd: dir });
  return r
    ._unsafeUnwrap()
    .stdout.split("\n")
    .filter((w) => w !== "");
};

await describeWith([program("bash", ["--version"])], "bash completion", () => {
  it("offers the commands, then each command's own flags", async () => {
    expect(await bashOffers("portico", "")).toEqual(
      expect.arrayContaining(["plan", "render", "apply", "run", "completion", "--version"]),
    );
    expect(await bashOffers("portico", "re")).toEqual(["render"]);
    expect(await bashOffers("portico", "plan", "--")).toEqual([
      "--cluster",
      "--config",
      "--output",
      "--against",
      "--help",
    ]);
    expect(await bashOffers("portico", "tune", "--d")).toEqual(["--dry-run"]);
    expect(await bashOffers("portico", "completion", "")).toEqual(["bash", "zsh"]);
  });

  it("offers text and json after --output, files after --cluster, nothing after --node", async () => {
    expect(await bashOffers("portico", "plan", "--output", "")).toEqual(["text", "json"]);
    expect(await bashOffers("portico", "plan", "--cluster", "portico.b")).toEqual(["portico.bash"]);
    expect(await bashOffers("portico", "render", "--node", "")).toEqual([]);
  });
});

await describeWith([program("zsh", ["--version"])], "zsh completion", () => {
  it("parses, and registers _portico for portico once compinit has run", async () => {
    expect((await run("zsh", ["-n", zshScript], { timeoutMs: 10_000 }))._unsafeUnwrap().code).toBe(0);
    const script = `autoload -U compinit; compinit -u -D; source '${zshScript}'; print -r -- $_comps[portico]`;
    const r = (await run("zsh", ["-f", "-c", script], { timeoutMs: 10_000, cwd: dir }))._unsafeUnwrap();
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("_portico\n");
  });
});
