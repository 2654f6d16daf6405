// The libraries install like any npm package: `npm pack` of each published workspace gives a
// tarball that installs into a fresh project (its other dependencies from the registry), imports,
// type-checks under the strictest settings, and plans the quickstart exactly as the workspace does.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { decodeDocuments } from "@portico/cli";
import { ingest, parseConfig, plan } from "@portico/core";
import { run } from "@portico/host";
import { describeWith, program } from "@portico/testkit";
import { parse } from "yaml";

const root = resolve(import.meta.dirname, "..");
const LIBRARIES = ["core", "host", "adapter-haproxy", "adapter-keepalived", "adapter-sysfs", "adapter-kubernetes"];

const SCRIPT = `import { readFileSync } from "node:fs";
import { ingest, parseConfig, plan } from "@portico/core";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { renderKeepalived } from "@portico/adapter-keepalived";
import { readTopology } from "@portico/adapter-sysfs";
import { ClusterWatch } from "@portico/adapter-kubernetes";
import { run } from "@portico/host";
const docs = JSON.parse(readFileSync("cluster.json", "utf8"));
const config = parseConfig(JSON.parse(readFileSync("config.json", "utf8")))._unsafeUnwrap();
const p = plan(ingest(docs), config);
const haproxy = renderHaproxy(p, {})._unsafeUnwrap();
for (const f of [readTopology, ClusterWatch, run]) if (typeof f !== "function") throw new Error("missing export");
if (!renderKeepalived(p, { node: config.lbNodes[0].name }).isOk()) throw new Error("keepalived render failed");
process.stdout.write(JSON.stringify({ plan: p, haproxy }));
`;

// Typed use: a wrong field or a missing export fails tsc, so the .d.ts files must be there and right.
const TYPED = `import type { Plan, Config } from "@portico/core";
import { parseConfig, plan, ingest } from "@portico/core";
import { aService, aSnapshot } from "@portico/core/testing";
import { renderHaproxy, type HaproxyRenderOptions } from "@portico/adapter-haproxy";
const config: Config = parseConfig({ apiVersion: "portico.dev/v1alpha1", kind: "PorticoConfig" })._unsafeUnwrap();
const p: Plan = plan(ingest([]), config);
const options: HaproxyRenderOptions = {};
const text: string = renderHaproxy(p, options).unwrapOr("");
const services: number = p.services.length + aSnapshot(aService()).services.length;
export { text, services };
`;

let dir = "";
const npm = (args: string[], cwd: string) =>
  run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, timeoutMs: 240_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-pack-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

await describeWith([program("npm", ["-v"])], "npm pack of the libraries", () => {
  let tarballs: string[] = [];
  let project = "";

  beforeAll(async () => {
    const packed = await npm(
      ["pack", ...LIBRARIES.flatMap((l) => ["--workspace", `packages/${l}`]), "--pack-destination", dir, "--json"],
      root,
    );
    const out = packed._unsafeUnwrap();
    if (out.code !== 0) throw new Error(`npm pack failed: ${out.stderr}`);
    tarballs = (JSON.parse(out.stdout) as { filename: string }[]).map((t) => join(dir, t.filename));
    project = join(dir, "project");
    await mkdir(project);
    await writeFile(join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
    const installed = (
      await npm(["install", "--prefer-offline", ...tarballs, "typescript@5.9.3", "@types/node@20.19.43"], project)
    )._unsafeUnwrap();
    if (installed.code !== 0) throw new Error(`npm install of the tarballs failed: ${installed.stderr}`);
  }, 300_000);

  it("each tarball holds the build and its package.json, not the sources or tests", async () => {
    expect(tarballs.map((t) => t.slice(dir.length + 1)).sort()).toEqual(
      LIBRARIES.map((l) => `portico-${l}-0.1.0.tgz`).sort(),
    );
    const listing = (await run("tar", ["-tzf", tarballs[0]!]))
      ._unsafeUnwrap()
      .stdout.split("\n")
      .filter((l) => l !== "");
    expect(listing).toContain("package/dist/index.js");
    expect(listing).toContain("package/dist/index.d.ts");
    expect(listing.filter((l) => l.startsWith("package/src/") || l.startsWith("package/test/"))).toEqual([]);
  });

  it("the installed core plans the quickstart exactly as the workspace does; the adapters render it", async () => {
    const docs = decodeDocuments(
      await readFile(join(root, "examples/quickstart/cluster.yaml"), "utf8"),
      "cluster.yaml",
    )._unsafeUnwrap();
    const raw = parse(await readFile(join(root, "examples/quickstart/portico.yaml"), "utf8")) as unknown;
    await writeFile(join(project, "cluster.json"), JSON.stringify(docs));
    await writeFile(join(project, "config.json"), JSON.stringify(raw));
    await writeFile(join(project, "plan.mjs"), SCRIPT);
    const r = (await run(process.execPath, ["plan.mjs"], { cwd: project, timeoutMs: 60_000 }))._unsafeUnwrap();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const here = plan(ingest(docs), parseConfig(raw)._unsafeUnwrap());
    const got = JSON.parse(r.stdout) as { plan: unknown; haproxy: string };
    expect(here.services.length).toBe(4);
    expect(JSON.stringify(got.plan)).toBe(JSON.stringify(here));
    expect(got.haproxy).toBe(renderHaproxy(here, {})._unsafeUnwrap());
  });

  it("type-checks against the installed .d.ts files with the strict NodeNext settings", async () => {
    await writeFile(join(project, "typed.ts"), TYPED);
    const tsconfig = {
      compilerOptions: {
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        exactOptionalPropertyTypes: true,
        noEmit: true,
        types: ["node"],
      },
      files: ["typed.ts"],
    };
    await writeFile(join(project, "tsconfig.json"), JSON.stringify(tsconfig));
    const r = (
      await run(process.execPath, [join(project, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], {
        cwd: project,
        timeoutMs: 120_000,
      })
    )._unsafeUnwrap();
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
