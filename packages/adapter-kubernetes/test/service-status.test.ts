import { KubeConfig } from "@kubernetes/client-node";
import { DEGRADED_CONDITION, EXCLUDE_LABEL, ingest, NO_ELIGIBLE_NODE, plan } from "@portico/core";
import { aNode, aParsedConfig, aService } from "@portico/core/testing";
import { KubeApiServer } from "@portico/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CLEANUP_FINALIZER, publishStatus, reconcileStatus, type ServiceObject } from "../src/index.js";

// Status publishing end to end: reconcile against what the API server holds, write through the
// real client, read back what the server stored.

let server: KubeApiServer;
let kc: KubeConfig;
const config = aParsedConfig();
const always = () => true;

beforeEach(async () => {
  server = await new KubeApiServer().start();
  kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  server.put(aNode("worker-1", "198.18.2.1"));
});
afterEach(async () => {
  await server.stop();
});

/** One control-loop turn: plan from what the server holds, then publish. */
const turn = async (isLeader = always) => {
  const services = server.list("Service");
  const p = plan(ingest([...services, ...server.list("Node")]), config);
  const actions = reconcileStatus(services as ServiceObject[], p, "2026-11-26T00:00:00Z", config);
  return { actions, report: await publishStatus(kc, actions, isLeader) };
};
const svc = (name: string) => server.get("Service", "default", name)!;
const events = (name: string) =>
  server
    .list("Event")
    .filter((e) => (e["involvedObject"] as { name: string }).name === name)
    .map((e) => e["reason"]);

describe("status publishing", () => {
  it("adds the cleanup finalizer, publishes ingress and conditions, records upstream Events", async () => {
    server.put(aService({ name: "web", annotations: { "portico.dev/proxy-protocol": "v2" } }));
    await turn(); // finalizer + status
    const web = svc("web");
    expect((web["metadata"] as { finalizers: string[] }).finalizers).toEqual([CLEANUP_FINALIZER]);
    expect((web["status"] as { loadBalancer: unknown }).loadBalancer).toEqual({
      ingress: [{ ip: "198.18.100.10", ipMode: "Proxy", ports: [{ port: 80, protocol: "TCP" }] }],
    });
    const conditions = (
      web["status"] as {
        conditions: { type: string; status: string; lastTransitionTime: string; observedGeneration: number }[];
      }
    ).conditions;
    expect(conditions.map((c) => [c.type, c.status])).toEqual([
      ["portico.dev/LoadBalancerReady", "True"],
      ["portico.dev/Degraded", "False"],
    ]);
    expect(conditions[0]?.lastTransitionTime).toBe("2026-11-26T00:00:00Z");
    // Services keep no metadata.generation (their registry strategy never sets one), so 0.
    expect(conditions[0]?.observedGeneration ?? 0).toBe(0);
    expect(events("web")).toEqual(["EnsuringLoadBalancer", "EnsuredLoadBalancer"]);
    const statusPatch = server.writes().find((w) => w.path.endsWith("/status"));
    expect(statusPatch?.contentType).toBe("application/strategic-merge-patch+json");
  });

  it("writes nothing when status already says what the plan says", async () => {
    server.put(aService({ name: "web" }));
    await turn();
    const before = server.writes().length;
    const { actions } = await turn();
    expect(actions).toEqual([]);
    expect(server.writes()).toHaveLength(before);
  });

  it("never writes to a foreign-class Service or a non-LoadBalancer Service", async () => {
    server.put(aService({ name: "foreign", loadBalancerClass: "example.com/other" }));
    server.put(aService({ name: "plain", type: "ClusterIP" }));
    server.put(aService({ name: "web" }));
    await turn();
    await turn();
    const written = server.writes().map((w) => w.path);
    expect(written.some((p) => p.includes("/foreign") || p.includes("/plain"))).toBe(false);
    expect(written.some((p) => p.includes("/web"))).toBe(true);
  });

  it("leaves a foreign-class Service alone even when it carries the cleanup finalizer, being deleted or not", async () => {
    // The finalizer name is the upstream one every load-balancer controller uses: on a foreign
    // class it is the other controller's, and so are its status and its deletion.
    const served = { finalizers: [CLEANUP_FINALIZER] };
    const foreign = aService({ name: "foreign", loadBalancerClass: "example.com/other", statusIps: ["198.18.200.7"] });
    server.put({ ...foreign, metadata: { ...(foreign["metadata"] as object), ...served } });
    const leaving = aService({ name: "leaving", loadBalancerClass: "example.com/other", statusIps: ["198.18.200.8"] });
    server.put({ ...leaving, metadata: { ...(leaving["metadata"] as object), ...served } });
    server.delete("Service", "default", "leaving");
    server.put(aService({ name: "web" }));
    const { actions } = await turn();
    expect(actions.filter((a) => a.name !== "web")).toEqual([]);
    expect(
      server
        .writes()
        .filter(
          (w) =>
            !w.path.includes("/web") &&
            (w.body as { involvedObject?: { name?: string } }).involvedObject?.name !== "web",
        ),
    ).toEqual([]);
    expect((svc("foreign")["metadata"] as { finalizers: string[] }).finalizers).toEqual([CLEANUP_FINALIZER]);
    expect(JSON.stringify(svc("foreign")["status"])).toContain("198.18.200.7");
    expect(svc("leaving")["metadata"]).toMatchObject({
      finalizers: [CLEANUP_FINALIZER],
      deletionTimestamp: expect.any(String),
    });
  });

  it("cleans up after a Service of Portico's own class that is deleted, though an unclassed one is not Portico's when handleUnclassed is off", async () => {
    const own = aService({ name: "own", loadBalancerClass: "portico.dev/haproxy", statusIps: ["198.18.100.10"] });
    server.put({ ...own, metadata: { ...(own["metadata"] as object), finalizers: [CLEANUP_FINALIZER] } });
    server.delete("Service", "default", "own");
    const other = aService({ name: "unclassed", statusIps: ["198.18.200.9"] });
    server.put({ ...other, metadata: { ...(other["metadata"] as object), finalizers: [CLEANUP_FINALIZER] } });
    server.delete("Service", "default", "unclassed");
    const services = server.list("Service");
    const classOnly = aParsedConfig({ handleUnclassed: false });
    const p = plan(ingest([...services, ...server.list("Node")]), classOnly);
    const actions = reconcileStatus(services as ServiceObject[], p, "2026-11-26T00:00:00Z", classOnly);
    await publishStatus(kc, actions, always);
    expect(server.get("Service", "default", "own")).toBeUndefined();
    expect(svc("unclassed")["metadata"]).toMatchObject({ finalizers: [CLEANUP_FINALIZER] });
  });

  it("with handleUnclassed off, still cleans up a Service of its class whose type left LoadBalancer (the API server drops the class then)", async () => {
    const classOnly = aParsedConfig({ handleUnclassed: false });
    const pass = async (): Promise<void> => {
      const services = server.list("Service");
      const p = plan(ingest([...services, ...server.list("Node"), ...server.list("EndpointSlice")]), classOnly);
      await publishStatus(
        kc,
        reconcileStatus(services as ServiceObject[], p, "2026-11-26T00:00:00Z", classOnly),
        always,
      );
    };
    server.put(aService({ name: "own", loadBalancerClass: "portico.dev/haproxy" }));
    await pass();
    expect(svc("own")["metadata"]).toMatchObject({ finalizers: [CLEANUP_FINALIZER] });
    const served = svc("own");
    const { loadBalancerClass: _dropped, ...spec } = served["spec"] as Record<string, unknown>;
    server.put({ ...served, spec: { ...spec, type: "ClusterIP" } });
    await pass();
    const own = svc("own");
    expect((own["status"] as { loadBalancer: unknown }).loadBalancer).toEqual({});
    expect((own["metadata"] as { finalizers?: string[] }).finalizers).toBeUndefined();
    expect(events("own").slice(-2)).toEqual(["DeletingLoadBalancer", "DeletedLoadBalancer"]);
  });

  it("clears status and removes the finalizer when the type changes away from LoadBalancer, and lets a deletion finish", async () => {
    server.put(aService({ name: "web" }));
    server.put(aService({ name: "gone" }));
    await turn();
    const changed = svc("web");
    server.put({ ...changed, spec: { ...(changed["spec"] as object), type: "ClusterIP" } });
    server.delete("Service", "default", "gone");
    expect(svc("gone")["metadata"]).toHaveProperty("deletionTimestamp");
    await turn();
    const web = svc("web");
    expect((web["status"] as { loadBalancer: unknown }).loadBalancer).toEqual({});
    expect((web["metadata"] as { finalizers?: string[] }).finalizers).toBeUndefined();
    expect(events("web").slice(-2)).toEqual(["DeletingLoadBalancer", "DeletedLoadBalancer"]);
    expect(server.get("Service", "default", "gone")).toBeUndefined();
    // The released address is free for the next Service.
    server.put(aService({ name: "next", created: "2026-06-01T00:00:00Z" }));
    await turn();
    expect(JSON.stringify(svc("next")["status"])).toContain("198.18.100.10");
  });

  it("stops writing the moment leadership is lost", async () => {
    server.put(aService({ name: "a" }));
    server.put(aService({ name: "b" }));
    let allowed = 1;
    const { report } = await turn(() => allowed-- > 0);
    expect(report.applied).toBe(1);
    expect(server.writes()).toHaveLength(1);
  });

  it("retries a finalizer write that raced with another change (409) on the next turn", async () => {
    server.put(aService({ name: "web" }));
    const services = server.list("Service") as ServiceObject[];
    const p = plan(ingest([...server.list("Service"), ...server.list("Node")]), config);
    const actions = reconcileStatus(services, p, "2026-11-26T00:00:00Z", config);
    // Someone edits the Service between our read and our write.
    server.put({ ...svc("web"), metadata: { ...(svc("web")["metadata"] as object), labels: { edited: "yes" } } });
    const report = await publishStatus(kc, actions, always);
    expect(report.failed.map((f) => f.message)).toContain("HTTP 409");
    await turn();
    expect((svc("web")["metadata"] as { finalizers: string[] }).finalizers).toEqual([CLEANUP_FINALIZER]);
  });

  it("a held Service gets its finalizer but no status, and a deleted one that is held keeps its finalizer", async () => {
    server.put(aService({ name: "web" }));
    const services = server.list("Service");
    const p = plan(ingest([...services, ...server.list("Node")]), config);
    const held = (key: string) => key === "default/web";
    const actions = reconcileStatus(services as ServiceObject[], p, "2026-11-26T00:00:00Z", config, held);
    expect(actions.map((a) => a.kind)).toEqual(["addFinalizer", "event"]);
    await publishStatus(kc, actions, always);
    server.delete("Service", "default", "web");
    const deleting = server.list("Service");
    const after = plan(ingest([...deleting, ...server.list("Node")]), config);
    expect(reconcileStatus(deleting as ServiceObject[], after, "2026-11-26T00:00:00Z", config, held)).toEqual([]);
    expect(
      reconcileStatus(deleting as ServiceObject[], after, "2026-11-26T00:00:00Z", config).map((a) => a.kind),
    ).toContain("removeFinalizer");
  });

  it("sets LoadBalancerPortsError for a UDP port no data plane serves, removes it once fixed, and keeps another controller's conditions", async () => {
    const udp = [
      { port: 80, nodePort: 30080 },
      { port: 53, nodePort: 30053, protocol: "UDP" },
    ];
    // UDP is served by nftables (nat) by default; through the proxy data plane nothing serves it.
    server.put(aService({ name: "dns", ports: udp, annotations: { "portico.dev/data-plane": "proxy" } }));
    const stored = server.get("Service", "default", "dns")!;
    const other = {
      type: "example.com/Healthy",
      status: "True",
      reason: "Fine",
      message: "",
      lastTransitionTime: "2026-11-26T00:00:00Z",
    };
    stored["status"] = { conditions: [other] };
    server.put(stored);
    await turn();
    const types = () =>
      ((svc("dns")["status"] as { conditions: { type: string; reason: string }[] }).conditions ?? []).map(
        (c) => `${c.type} ${c.reason}`,
      );
    expect(types()).toContain("LoadBalancerPortsError LoadBalancerMixedProtocolNotSupported");
    expect(types()).toContain("example.com/Healthy Fine");
    server.put({
      ...svc("dns"),
      spec: {
        ...(svc("dns")["spec"] as object),
        ports: [{ name: "p80", port: 80, nodePort: 30080, protocol: "TCP", targetPort: 80 }],
      },
    });
    await turn();
    expect(types().filter((t) => t.startsWith("LoadBalancerPortsError"))).toEqual([]);
    expect(types()).toContain("example.com/Healthy Fine");
  });

  it("never overwrites a condition another controller wrote after the status was read (a strategic merge of Portico's types only)", async () => {
    server.put(aService({ name: "web" }));
    const services = server.list("Service");
    const p = plan(ingest([...services, ...server.list("Node")]), config);
    const actions = reconcileStatus(services as ServiceObject[], p, "2026-11-26T00:00:00Z", config);
    // Meanwhile another controller adds its own condition.
    const stored = server.get("Service", "default", "web")!;
    const theirs = {
      type: "example.com/Checked",
      status: "True",
      reason: "Ok",
      message: "",
      lastTransitionTime: "2026-11-26T00:00:00Z",
    };
    stored["status"] = { ...(stored["status"] as object), conditions: [theirs] };
    server.put(stored);
    await publishStatus(kc, actions, always);
    const types = ((svc("web")["status"] as { conditions: { type: string }[] }).conditions ?? []).map((c) => c.type);
    expect(types).toEqual(["example.com/Checked", "portico.dev/LoadBalancerReady", "portico.dev/Degraded"]);
    const patches = server.writes().filter((w) => w.path.endsWith("/status"));
    expect(patches.map((w) => w.contentType)).toEqual(["application/strategic-merge-patch+json"]);
  });

  it("on an API server that drops ipMode (before 1.30) the status, once written, is not written again and records no Event again", async () => {
    server.put(aService({ name: "web" }));
    await turn();
    // What a 1.29 kube-apiserver keeps of the ingress: ipMode is an unknown field, pruned.
    const stored = svc("web");
    const status = stored["status"] as { loadBalancer: { ingress: Record<string, unknown>[] } };
    for (const i of status.loadBalancer.ingress) delete i["ipMode"];
    server.put(stored);
    const eventsBefore = events("web").length;
    const { actions } = await turn();
    expect(actions).toEqual([]);
    expect(events("web")).toHaveLength(eventsBefore);
  });

  it("records UnAvailableLoadBalancer once when no node is eligible, again only after nodes came back and left", async () => {
    // The upstream service controller's Warning when its node list is empty; Degraded says why.
    const excluded = aNode("worker-1", "198.18.2.1", { labels: { [EXCLUDE_LABEL]: "true" } });
    server.put(excluded);
    server.put(aService({ name: "web" }));
    await turn();
    await turn();
    await turn();
    const warnings = () =>
      server
        .list("Event")
        .filter((e) => e["reason"] === "UnAvailableLoadBalancer")
        .map((e) => [e["type"], e["message"]]);
    expect(warnings()).toEqual([
      [
        "Warning",
        "There are no available nodes for LoadBalancer: Service default/web: no node may be a backend " +
          "(every node is excluded from external load balancers, tainted for deletion or being deleted)",
      ],
    ]);
    const degraded = () =>
      (svc("web")["status"] as { conditions: { type: string; status: string; reason: string }[] }).conditions.find(
        (c) => c.type === DEGRADED_CONDITION,
      );
    expect(degraded()).toMatchObject({ status: "True", reason: NO_ELIGIBLE_NODE });
    // The load balancer stays meanwhile: its address is published.
    expect(JSON.stringify(svc("web")["status"])).toContain("198.18.100.10");

    server.put(aNode("worker-1", "198.18.2.1"));
    await turn();
    expect(degraded()).toMatchObject({ status: "False" });
    expect(warnings()).toHaveLength(1);
    server.put(excluded);
    await turn();
    await turn();
    expect(warnings()).toHaveLength(2);
  });
});
