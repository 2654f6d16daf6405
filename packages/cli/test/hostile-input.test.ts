import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type Io } from "../src/index.js";

// Input built to hurt: each gives a clear, short answer, never an uncaught exception (exit 70)
// and never a message the size of the input.
const root = resolve(import.meta.dirname, "../../..");
const config = join(root, "examples/quickstart/portico.yaml");

const plan = async (file: string) => {
  let stdout = "";
  let stderr = "";
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, cwd: root };
  const code = await main(["plan", "--cluster", file, "--config", config], io);
  return { code, stdout, stderr };
};

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "portico-hostile-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("portico plan of hostile input", () => {
  it("refuses a YAML alias bomb as bad input", async () => {
    const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 12; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(", ")}]`,
      );
    lines.push("kind: List", "items: [*a11]");
    const file = join(dir, "bomb.yaml");
    await writeFile(file, `${lines.join("\n")}\n`);
    const r = await plan(file);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`portico: ${file}: not usable YAML: too many aliases (a resource exhaustion attack?)\n`);
  });

  it("refuses 20,000 nested lists in YAML, and ignores Lists nested 20,000 deep in JSON with one diagnostic", async () => {
    const yaml = join(dir, "nested.yaml");
    await writeFile(yaml, `kind: List\nitems:\n- ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`);
    const y = await plan(yaml);
    expect(y.code).toBe(2);
    expect(y.stderr.length).toBeLessThan(300);
    const json = join(dir, "nested.json");
    await writeFile(json, `${'{"kind":"List","items":['.repeat(20_000)}${"]}".repeat(20_000)}`);
    const j = await plan(json);
    expect(j.code).toBe(0);
    expect(j.stdout).toContain("InputTooDeep");
    expect(j.stdout.length).toBeLessThan(2000);
  });

  it("answers a 50 KB port object with a short message naming the field", async () => {
    const big = "y".repeat(50_000);
    const svc = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "a", namespace: "d" },
      spec: { type: "LoadBalancer", ports: [{ name: big, port: { x: big }, protocol: big, nodePort: 30000 }] },
    };
    const file = join(dir, "port.json");
    await writeFile(file, JSON.stringify({ apiVersion: "v1", kind: "List", items: [svc] }));
    const r = await plan(file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("InvalidPort: spec.ports[0].protocol");
    expect(r.stdout.length).toBeLessThan(2000);
  });
});
