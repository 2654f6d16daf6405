import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ingest, plan } from "@portico/core";
import { aNode, aParsedConfig, aService, anEndpointSlice } from "@portico/core/testing";
import { KubeApiServer, type RecordedRequest } from "@portico/testkit";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterWatch, LeaderElector, publishStatus, reconcileStatus, type ServiceObject } from "../src/index.js";

// The shipped RBAC grants exactly what the adapter uses: every request it makes is allowed, and
// every grant is used.
const rbacFile = join(resolve(import.meta.dirname, "../../.."), "examples/deploy/rbac.yaml");

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

const verbOf = (r: RecordedRequest): string => {
  if (r.method === "GET")
    return /[?&]watch=(true|1)/.test(r.query)
      ? "watch"
      : /\/(services|nodes|endpointslices|leases|events)$/.test(r.path)
        ? "list"
        : "get";
  return { POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" }[r.method] ?? r.method;
};
const resourceOf = (path: string): { group: string; resource: string; name?: string } => {
  const parts = path.split("/").filter(Boolean);
  const group = parts[0] === "api" ? "" : parts[1]!;
  let rest = parts.slice(parts[0] === "api" ? 2 : 3);
  if (rest[0] === "namespaces") rest = rest.slice(2);
  return {
    group,
    resource: rest[2] === undefined ? rest[0]! : `${rest[0]}/${rest[2]}`,
    ...(rest[1] === undefined ? {} : { name: rest[1] }),
  };
};

let server: KubeApiServer;
const used = new Set<string>();

beforeAll(async () => {
  server = await new KubeApiServer().start();
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  server.put(aNode("worker-1", "198.18.2.1"));
  server.put(aService({ name: "web" }));
  server.put(anEndpointSlice("default", "web", [{ ip: "198.19.0.1", node: "worker-1" }]));
  const watch = new ClusterWatch(kc);
  await watch.start();
  // Timings long enough that leadership cannot lapse on a loaded machine: a lapse would skip the
  // writes this test needs to see (seen under a load average of 30 on 2 cores).
  const elector = new LeaderElector(kc, {
    namespace: "portico-system",
    name: "portico-status",
    identity: "lb1",
    leaseDurationMs: 10_000,
    renewDeadlineMs: 8_000,
    retryPeriodMs: 100,
  });
  elector.start();
  while (!elector.isLeader()) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300)); // a few renewals
  const turn = async () => {
    const services = watch.services() as ServiceObject[];
    const config = aParsedConfig();
    const p = plan(ingest(watch.objects()), config);
    await publishStatus(kc, reconcileStatus(services, p, new Date().toISOString(), config), () => elector.isLeader());
    await new Promise((r) => setTimeout(r, 200));
  };
  await turn();
  const web = server.get("Service", "default", "web")!;
  server.put({ ...web, spec: { ...(web["spec"] as object), type: "ClusterIP" } });
  await new Promise((r) => setTimeout(r, 200));
  await turn(); // cleanup: status cleared, finalizer removed
  elector.abandon();
  await watch.stop();
});
afterAll(async () => {
  await server.stop();
});

describe("examples/deploy/rbac.yaml", () => {
  it("allows every request the adapter makes and grants nothing it does not use", async () => {
    const docs = parseAllDocuments(await readFile(rbacFile, "utf8")).map(
      (d) => d.toJS() as { kind: string; rules?: Rule[] },
    );
    const rules = docs.filter((d) => d.kind === "ClusterRole" || d.kind === "Role").flatMap((d) => d.rules ?? []);
    const requests = server.requests;
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      const { group, resource, name } = resourceOf(r.path);
      const verb = verbOf(r);
      const allowed = rules.some(
        (rule) =>
          rule.apiGroups.includes(group) &&
          rule.resources.includes(resource) &&
          rule.verbs.includes(verb) &&
          (rule.resourceNames === undefined || (name !== undefined && rule.resourceNames.includes(name))),
      );
      expect(allowed, `${r.method} ${r.path} (${group || "core"} ${resource} ${verb})`).toBe(true);
      used.add(`${group}|${resource}|${verb}`);
    }
    for (const rule of rules)
      for (const g of rule.apiGroups)
        for (const res of rule.resources)
          for (const v of rule.verbs) {
            expect(used.has(`${g}|${res}|${v}`), `granted but unused: ${g || "core"} ${res} ${v}`).toBe(true);
          }
  });
});
