// `portico run` from the .deb's single executable, with no environment: the bundled Kubernetes
// client, pino and prom-client must work there as they do in the workspace. Against the
// wire-level test API server, as packages/cli/test/run.test.ts runs the workspace build.
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { aNode, aService } from "@portico/core/testing";
import { run, start } from "@portico/host";
import { describeWith, freePort, KubeApiServer, program, until, type Requirement } from "@portico/testkit";

const repo = resolve(import.meta.dirname, "..");
const version = (JSON.parse(await readFile(join(repo, "packages/cli/package.json"), "utf8")) as { version: string })
  .version;
const deb = join(repo, "dist", `portico_${version}_amd64.deb`);
const built: Requirement = {
  name: deb,
  check: async () =>
    (await access(deb).then(
      () => true,
      () => false,
    ))
      ? undefined
      : `${deb} is missing (npm run package)`,
};

let server: KubeApiServer;
let dir = "";
beforeAll(async () => {
  server = await new KubeApiServer().start();
  dir = await mkdtemp(join(tmpdir(), "portico-package-run-"));
});
afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

await describeWith([built, program("dpkg-deb", ["--version"])], "portico run from the Debian package", () => {
  it("watches, applies, adds the finalizer, holds status and readiness with no HAProxy running, serves metrics, logs JSON and stops on SIGTERM", async () => {
    (await run("dpkg-deb", ["-x", deb, join(dir, "root")]))._unsafeUnwrap();
    const port = await freePort();
    await writeFile(join(dir, "kubeconfig"), server.kubeconfig("lb1"));
    const controller = `{listen: "127.0.0.1:${port}", coalesce: {quietMs: 20, maxDelayMs: 200}}`;
    const config = [
      "apiVersion: portico.dev/v1alpha1",
      "kind: PorticoConfig",
      "pools: [{name: default, addresses: [198.18.100.10-198.18.100.50]}]",
      "lbNodes: [{name: lb1, address: 198.18.1.1, interface: eth0}]",
      `haproxy: {configPath: ${dir}/haproxy.cfg, statsSocket: ${dir}/admin.sock, masterSocket: ${dir}/master.sock}`,
      "keepalived: {apply: false}",
      `controller: ${controller}`,
      "",
    ];
    await writeFile(join(dir, "portico.yaml"), config.join("\n"));
    server.put(aNode("worker-1", "198.18.2.1"));
    const args = [
      "run",
      "--config",
      join(dir, "portico.yaml"),
      "--node",
      "lb1",
      "--kubeconfig",
      join(dir, "kubeconfig"),
    ];
    // haproxy -c validates before apply writes; give it the PATH an LB node has, and nothing else.
    const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
    const proc = (await start(join(dir, "root/usr/bin/portico"), args, { stdio: "pipe", env }))._unsafeUnwrap();
    let logs = "";
    proc.stdout?.on("data", (b: Buffer) => (logs += b.toString()));
    proc.stderr?.on("data", (b: Buffer) => (logs += b.toString()));
    try {
      // No HAProxy runs here: not ready, saying why; the config is written and the finalizer added,
      // and status waits for a running HAProxy.
      const readyz = async () => {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return r === undefined ? "" : `${r.status} ${await r.text()}`;
      };
      await until("readyz says why", async () => (await readyz()) === "503 no haproxy worker runs on this node\n");
      server.put(aService({ name: "web", policy: "Local" }));
      const cfg = () => readFile(join(dir, "haproxy.cfg"), "utf8").catch(() => "");
      await until("config written", async () => (await cfg()).includes("bind 198.18.100.10:80 transparent"));
      const meta = () => JSON.stringify(server.get("Service", "default", "web")?.["metadata"] ?? {});
      await until("finalizer", () => meta().includes("load-balancer-cleanup"));
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/portico_services\{state="ready"\} 1/);
      expect(metrics).toContain("portico_haproxy_running 0");
    } finally {
      await proc.stop();
    }
    const exit = await proc.exited;
    expect(exit.code, logs).toBe(0);
    expect(logs).toContain('"msg":"applied plan"');
    expect(logs).not.toContain("single-executable");
  });
});
