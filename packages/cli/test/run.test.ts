import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { aNode, aService } from "@portico/core/testing";
import { start } from "@portico/host";
import { freePort, KubeApiServer, until } from "@portico/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// `portico run` as a real process: the real client against the wire-level API server. No HAProxy
// master runs here, so apply writes haproxy.cfg (the data-plane tests cover live reloads).
const bin = join(resolve(import.meta.dirname, "../../.."), "packages/cli/dist/bin.js");

let server: KubeApiServer;
let dir = "";

beforeAll(async () => {
  server = await new KubeApiServer().start();
  dir = await mkdtemp(join(tmpdir(), "portico-run-"));
});
afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("portico run", () => {
  it("with no HAProxy running: writes the config for a new Service and its finalizer, publishes no status, is not ready, and stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    await writeFile(join(dir, "kubeconfig"), server.kubeconfig("lb1"));
    await writeFile(
      join(dir, "portico.yaml"),
      [
        "apiVersion: portico.dev/v1alpha1",
        "kind: PorticoConfig",
        "pools: [{name: default, addresses: [198.18.100.10-198.18.100.50]}]",
        "lbNodes: [{name: lb1, address: 198.18.1.1, interface: eth0}]",
        `haproxy: {configPath: ${dir}/haproxy.cfg, statsSocket: ${dir}/admin.sock, masterSocket: ${dir}/master.sock}`,
        // keepalived is applied by its own tests, in namespaces that have the interface.
        "keepalived: {apply: false}",
        `controller: {listen: "127.0.0.1:${port}", coalesce: {quietMs: 20, maxDelayMs: 200}, lease: {durationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200}}`,
        "",
      ].join("\n"),
    );
    server.put(aNode("worker-1", "198.18.2.1"));
    const proc = (
      await start(
        process.execPath,
        [bin, "run", "--config", join(dir, "portico.yaml"), "--node", "lb1", "--kubeconfig", join(dir, "kubeconfig")],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap();
    let logs = "";
    proc.stdout?.on("data", (b: Buffer) => (logs += b.toString()));
    proc.stderr?.on("data", (b: Buffer) => (logs += b.toString()));
    try {
      // No HAProxy runs here: not ready, and saying why.
      const readyz = async () => {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return r === undefined ? "" : `${r.status} ${await r.text()}`;
      };
      await until("readyz says why", async () => (await readyz()) === "503 no haproxy worker runs on this node\n");
      const created = Date.now();
      server.put(aService({ name: "web", policy: "Local" }));
      const cfg = () => readFile(join(dir, "haproxy.cfg"), "utf8").catch(() => "");
      await until("config written", async () => (await cfg()).includes("bind 198.18.100.10:80 transparent"));
      await until("finalizer", () =>
        JSON.stringify(server.get("Service", "default", "web")?.["metadata"] ?? {}).includes("load-balancer-cleanup"),
      );
      process.stdout.write(
        `portico run: Service created -> config written and finalizer added in ${Date.now() - created} ms (no live HAProxy)\n`,
      );
      // Status waits for a running HAProxy: nothing serves the address yet.
      await sleep(500);
      expect(server.get("Service", "default", "web")?.["status"] ?? {}).not.toHaveProperty("loadBalancer.ingress");
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain("portico_leader 1");
      expect(metrics).toContain("portico_haproxy_running 0");
      expect(metrics).toMatch(/portico_services\{state="ready"\} 1/);
    } finally {
      await proc.stop();
    }
    const exit = await proc.exited;
    expect(exit.code, logs).toBe(0);
    expect(logs).toContain('"msg":"applied plan"');
    // The Lease was released on the way out.
    expect(
      (server.get("Lease", "portico-system", "portico-status")!["spec"] as { holderIdentity: string }).holderIdentity,
    ).toBe("");
  });
});
