import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run as runProcess } from "@portico/host";
// The example itself, so a change to @portico/core's API that breaks it fails here (docs/embedding.md).
import { run } from "./plan.mjs";

const example = join(import.meta.dirname, "plan.mjs");

describe("examples/embed: @portico/core in your own controller", () => {
  it("runs as a program and prints the plan and the diff", async () => {
    const r = await runProcess(process.execPath, [example], { timeoutMs: 20_000 });
    expect(r.isOk() ? r.value.stderr : r.error.message).toBe("");
    const out = r._unsafeUnwrap();
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("plan: 3 Services, 3 frontends, 3 VRRP instances");
    expect(lines).toContain("shop/web ready VIP 198.18.100.10 ipMode Proxy");
    expect(lines).toContain(
      "  198.18.100.10:80 -> worker-1=198.18.2.1:30080 worker-2=198.18.2.2:30080; check GET /healthz on :32000 (healthCheckNodePort); PROXY v2",
    );
    expect(lines).toContain("shop/api ready VIP 198.18.100.11 ipMode VIP");
    expect(lines).toContain(
      "  198.18.100.11:443 -> worker-1=198.18.2.1:30443 worker-2=198.18.2.2:30443 worker-3=198.18.2.3:30443; check kube-proxy's health port, one shared check per node; PROXY none",
    );
    expect(lines).toContain(
      '  warning: Service shop/legacy: annotation portico.dev/balance: "fastest" is not one of roundrobin, leastconn, source; using the default (roundrobin)',
    );
    expect(lines).toContain("  shop/web: worker-2 removed, worker-3 added (by runtime)");
    expect(lines.at(-1)).toBe("  HAProxy reload needed: no; runtime API changes: 4; VRRP instances changed: 0");
    // docs/embedding.md shows this output in full: it must be what the program prints.
    const doc = await readFile(join(import.meta.dirname, "../../docs/embedding.md"), "utf8");
    expect(doc).toContain(`\`\`\`\n${out.stdout}\`\`\``);
  });

  it("plans what embedding.md says it plans", () => {
    const { first, second, diff } = run();
    const web = first.backends.find((b) => b.service === "shop/web");
    // Local policy: only the nodes with a ready pod, tracking the Service's own check of its
    // healthCheckNodePort (one per node, whatever the number of ports).
    expect(web?.servers.map((s) => s.node)).toEqual(["worker-1", "worker-2"]);
    expect(web?.healthCheck).toMatchObject({ kind: "track", source: "healthCheckNodePort" });
    const own = first.checks?.find((c) => web?.healthCheck.kind === "track" && c.id === web.healthCheck.backend);
    expect(own?.healthCheck).toMatchObject({
      kind: "http",
      source: "healthCheckNodePort",
      port: 32000,
      path: "/healthz",
    });
    expect(own?.servers.map((s) => s.node)).toEqual(["worker-1", "worker-2"]);
    expect(first.services.find((s) => s.key === "shop/web")).toMatchObject({
      ipMode: "Proxy",
      proxyProtocol: "v2",
      state: "ready",
    });
    // Cluster policy: every node, tracking one shared kube-proxy check per node.
    expect(first.backends.find((b) => b.service === "shop/api")?.healthCheck).toMatchObject({
      kind: "track",
      source: "kubeProxy",
    });
    expect(first.checks?.[0]?.servers.map((s) => s.port)).toEqual([10256, 10256, 10256]);
    // A bad annotation is a warning on that Service only; it still plans, with the default.
    const legacy = first.services.find((s) => s.key === "shop/legacy");
    expect(legacy?.state).toBe("ready");
    expect(legacy?.status.conditions.find((c) => c.type === "portico.dev/Degraded")?.status).toBe("True");
    // The second plan keeps every VRID and master, and the move goes through the runtime API.
    expect(second.vrrpInstances).toEqual(first.vrrpInstances);
    expect(diff.reload).toBe(false);
    expect(diff.services.map((s) => [s.key, s.paths])).toEqual([["shop/web", ["runtime"]]]);
  });

  it("is deterministic: the same input prints the same lines", () => {
    expect(run().lines).toEqual(run().lines);
  });
});
