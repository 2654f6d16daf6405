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

describe("portico run", () => {
  it("writes the config for a new Service, publishes its status, serves metrics, and stops cleanly on SIGTERM", async () => {
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
      await until(
        "ready",
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      );
      const created = Date.now();
      server.put(aService({ name: "web", policy: "Local" }));
      await until("status", () =>
        JSON.stringify(server.get("Service", "default", "web")?.["status"] ?? {}).includes("198.18.100.10"),
      );
      process.stdout.write(
        `portico run: Service created -> status published in ${Date.now() - created} ms (config written, no live HAProxy)\n`,
      );
      expect(await readFile(join(dir, "haproxy.cfg"), "utf8")).toContain("bind 198.18.100.10:80 transparent");
      expect((server.get("Service", "default", "web")!["metadata"] as { finalizers: string[] }).finalizers).toEqual([
        "service.kubernetes.io/load-balancer-cleanup",
      ]);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain("portico_leader 1");
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
