import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeApiServer } from "../src/index.js";

// The test API server must answer as kube-apiserver does, or the tests built on it prove nothing
// about a real cluster. Each test names the kube-apiserver behaviour it mirrors; they speak HTTP
// directly, as the wire is what is being held to the real server.

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: KubeApiServer;
const SERVICES = "/api/v1/namespaces/default/services";

const aService = (name: string, namespace = "default"): Json => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { type: "LoadBalancer", ports: [{ port: 80, protocol: "TCP" }] },
});
const aNode = (name: string): Json => ({ apiVersion: "v1", kind: "Node", metadata: { name }, status: {} });

const call = async (method: string, path: string, body?: unknown, contentType = "application/json") => {
  const init: RequestInit = { method, headers: { "content-type": contentType } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const r = await fetch(`${server.url}${path}`, init);
  return { status: r.status, body: (await r.json()) as Json };
};
const merge = (path: string, patch: unknown) => call("PATCH", path, patch, "application/merge-patch+json");

/** The events of a watch until `count` have come or the stream ends; `capMs` is a safety cap. */
const watch = async (query: string, count: number, capMs = 5_000): Promise<{ events: Json[]; ended: boolean }> => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), capMs);
  const events: Json[] = [];
  let ended = false;
  try {
    const r = await fetch(`${server.url}/api/v1/services?watch=true&${query}`, { signal: controller.signal });
    expect(r.status).toBe(200);
    const reader = r.body!.getReader();
    let text = "";
    while (events.length < count) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      text += Buffer.from(value).toString();
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const l of lines) if (l !== "") events.push(JSON.parse(l) as Json);
    }
    await reader.cancel().catch(() => undefined);
  } catch (e) {
    if (!controller.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
  }
  return { events, ended };
};

beforeEach(async () => {
  server = await new KubeApiServer().start();
});
afterEach(async () => {
  await server.stop();
});

describe("the test API server answers as kube-apiserver does", () => {
  it("a LIST names the kind once, on the list: its items carry no kind and no apiVersion (kubernetes/kubernetes#3030)", async () => {
    server.put(aService("web"));
    const { status, body } = await call("GET", "/api/v1/services");
    expect(status).toBe(200);
    expect(body).toMatchObject({ kind: "ServiceList", apiVersion: "v1" });
    expect(body["items"]).toHaveLength(1);
    expect(body["items"][0]).not.toHaveProperty("kind");
    expect(body["items"][0]).not.toHaveProperty("apiVersion");
    expect(body["items"][0].metadata.name).toBe("web");
    // A GET of one object and a watch event carry both.
    expect((await call("GET", `${SERVICES}/web`)).body).toMatchObject({ kind: "Service", apiVersion: "v1" });
  });

  it("items come in etcd key order (namespace, then name), and one resourceVersion counts writes to every resource", async () => {
    server.put(aService("b", "zz"));
    server.put(aNode("n1"));
    server.put(aService("a", "zz"));
    server.put(aService("c", "aa"));
    const list = (await call("GET", "/api/v1/services")).body;
    expect(list["items"].map((i: Json) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual([
      "aa/c",
      "zz/a",
      "zz/b",
    ]);
    const versions = list["items"].map((i: Json) => Number(i.metadata.resourceVersion));
    const node = (await call("GET", "/api/v1/nodes/n1")).body;
    // The node's write came between the two Services in zz: versions are global, not per kind.
    expect(Number(node["metadata"].resourceVersion)).toBeGreaterThan(versions[2]);
    expect(Number(node["metadata"].resourceVersion)).toBeLessThan(versions[1]);
    expect(list["metadata"].resourceVersion).toBe(String(server.resourceVersion));
    expect((await call("GET", "/api/v1/nodes")).body["metadata"].resourceVersion).toBe(String(server.resourceVersion));
  });

  it("a paginated LIST (limit, continue) is cut from one snapshot at one resourceVersion; an expired token is 410", async () => {
    for (const n of ["a", "b", "c"]) server.put(aService(n));
    const first = (await call("GET", "/api/v1/services?limit=2")).body;
    expect(first["items"].map((i: Json) => i.metadata.name)).toEqual(["a", "b"]);
    expect(first["metadata"].remainingItemCount).toBe(1);
    server.put(aService("d")); // not in the snapshot the first page came from
    const second = (await call("GET", `/api/v1/services?limit=2&continue=${first["metadata"].continue}`)).body;
    expect(second["items"].map((i: Json) => i.metadata.name)).toEqual(["c"]);
    expect(second["metadata"].resourceVersion).toBe(first["metadata"].resourceVersion);
    expect(second["metadata"]).not.toHaveProperty("continue");
    // A token names a place in the snapshot: asking again gives the same page.
    const again2 = (await call("GET", `/api/v1/services?limit=2&continue=${first["metadata"].continue}`)).body;
    expect(again2["items"].map((i: Json) => i.metadata.name)).toEqual(["c"]);

    const again = (await call("GET", "/api/v1/services?limit=1")).body;
    server.put(aService("e"));
    server.compact(); // etcd compacted past the version the token's snapshot was read at
    const expired = await call("GET", `/api/v1/services?limit=1&continue=${again["metadata"].continue}`);
    expect(expired).toMatchObject({ status: 410, body: { kind: "Status", code: 410, reason: "Expired" } });
  });

  it("a watch from a compacted resourceVersion is a 200 stream with one ERROR event carrying a 410 Expired Status, then ends", async () => {
    server.put(aService("web"));
    const old = server.resourceVersion;
    server.put(aService("api"));
    server.compact();
    const { events, ended } = await watch(`resourceVersion=${old}`, 2);
    expect(ended).toBe(true);
    expect(events).toEqual([
      {
        type: "ERROR",
        object: expect.objectContaining({
          kind: "Status",
          apiVersion: "v1",
          code: 410,
          reason: "Expired",
          status: "Failure",
        }),
      },
    ]);
  });

  it('a watch from "" or "0" begins with a synthetic ADDED per existing object; from a version, with what came after it', async () => {
    server.put(aService("web"));
    const rv = server.resourceVersion;
    server.put(aService("api"));
    server.delete("Service", "default", "web");
    for (const from of ["", "0"]) {
      const { events } = await watch(`resourceVersion=${from}`, 1);
      expect(events.map((e) => `${e["type"]} ${e["object"].metadata.name}`)).toEqual(["ADDED api"]);
      expect(events[0]!["object"]).toMatchObject({ kind: "Service", apiVersion: "v1" });
    }
    const { events } = await watch(`resourceVersion=${rv}`, 2);
    expect(events.map((e) => `${e["type"]} ${e["object"].metadata.name}`)).toEqual(["ADDED api", "DELETED web"]);
  });

  it("BOOKMARK events go only to watches that asked for them (allowWatchBookmarks), with the current resourceVersion", async () => {
    const rv = server.resourceVersion;
    const withBookmarks = watch(`resourceVersion=${rv}&allowWatchBookmarks=true`, 2, 5_000);
    const without = watch(`resourceVersion=${rv}`, 1, 5_000);
    for (let i = 0; i < 400 && server.openWatches < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.openWatches).toBe(2);
    server.bookmark();
    server.put(aService("web"));
    const a = await withBookmarks;
    const b = await without;
    expect(a.events.map((e) => e["type"])).toEqual(["BOOKMARK", "ADDED"]);
    expect(a.events[0]!["object"]).toEqual({
      kind: "Service",
      apiVersion: "v1",
      metadata: { resourceVersion: String(rv) },
    });
    expect(b.events.map((e) => e["type"])).toEqual(["ADDED"]);
  });

  it("the watch cache sends BOOKMARKs unasked, at the current resourceVersion: every bookmarkEveryMs and 2 s before the timeoutSeconds deadline (kube-apiserver cacheWatcher.nextBookmarkTime: about every minute, and deadline - 2 s)", async () => {
    // Periodic: a server whose watch cache bookmarks every 300 ms.
    const often = await new KubeApiServer({ bookmarkEveryMs: 300 }).start();
    try {
      often.put(aService("web"));
      const rv = often.resourceVersion;
      const r = await fetch(`${often.url}/api/v1/services?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
      const reader = r.body!.getReader();
      const t0 = Date.now();
      const { value } = await reader.read();
      const first = JSON.parse(Buffer.from(value!).toString().split("\n")[0]!) as Json;
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(first).toEqual({
        type: "BOOKMARK",
        object: { kind: "Service", apiVersion: "v1", metadata: { resourceVersion: String(rv) } },
      });
      await reader.cancel();
    } finally {
      await often.stop();
    }
    // Before the deadline: a 3 s watch gets its BOOKMARK about 1 s in, then ends cleanly.
    const t0 = Date.now();
    const { events, ended } = await watch(
      `resourceVersion=${server.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=3`,
      2,
      6_000,
    );
    expect(events.map((e) => e["type"])).toEqual(["BOOKMARK"]);
    expect(ended).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_900);
  });

  it("timeoutSeconds ends a watch cleanly: the stream ends without an ERROR event", async () => {
    const t0 = Date.now();
    const { events, ended } = await watch(`resourceVersion=${server.resourceVersion}&timeoutSeconds=1`, 1, 5_000);
    expect(ended).toBe(true);
    expect(events).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it("a strategic merge patch of a Service's status merges conditions by type and deletes with $patch: delete, and replaces the atomic ingress list (kube-apiserver: ServiceStatus.conditions is patchStrategy=merge, patchMergeKey=type; LoadBalancerStatus.ingress is listType=atomic)", async () => {
    server.put(aService("web"));
    const c = (type: string, reason: string) => ({
      type,
      status: "True",
      reason,
      message: "",
      lastTransitionTime: "2026-12-01T00:00:00Z",
    });
    const smp = (patch: unknown) =>
      call("PATCH", `${SERVICES}/web/status`, patch, "application/strategic-merge-patch+json");
    await smp({
      status: {
        conditions: [c("other.io/A", "theirs"), c("portico.dev/R", "one")],
        loadBalancer: { ingress: [{ ip: "198.18.100.10" }, { ip: "198.18.100.11" }] },
      },
    });
    const after = await smp({
      status: {
        conditions: [c("portico.dev/R", "two"), { type: "portico.dev/Gone", $patch: "delete" }],
        loadBalancer: { ingress: [{ ip: "198.18.100.12" }] },
      },
    });
    expect(after.status).toBe(200);
    const status = after.body["status"] as { conditions: { type: string; reason: string }[]; loadBalancer: unknown };
    expect(status.conditions.map((x) => `${x.type} ${x.reason}`)).toEqual(["other.io/A theirs", "portico.dev/R two"]);
    expect(status.loadBalancer).toEqual({ ingress: [{ ip: "198.18.100.12" }] });
    const removed = await smp({
      status: { conditions: [{ type: "portico.dev/R", $patch: "delete" }], loadBalancer: { ingress: null } },
    });
    expect((removed.body["status"] as { conditions: { type: string }[] }).conditions.map((x) => x.type)).toEqual([
      "other.io/A",
    ]);
    expect((removed.body["status"] as { loadBalancer: unknown }).loadBalancer).toEqual({});
  });

  it("the status subresource changes only status, and the main resource never does", async () => {
    server.put(aService("web"));
    const ip = { loadBalancer: { ingress: [{ ip: "198.18.100.10" }] } };
    const viaStatus = await merge(`${SERVICES}/web/status`, {
      spec: { type: "ClusterIP" },
      metadata: { labels: { a: "b" } },
      status: ip,
    });
    expect(viaStatus.body).toMatchObject({ spec: { type: "LoadBalancer" }, status: ip });
    expect(viaStatus.body["metadata"]).not.toHaveProperty("labels");
    const viaMain = await merge(`${SERVICES}/web`, {
      status: { loadBalancer: {} },
      metadata: { annotations: { x: "y" } },
    });
    expect(viaMain.body).toMatchObject({ status: ip, metadata: { annotations: { x: "y" } } });
  });

  it("an update (PUT) replaces the object but for status and the server's metadata; a create clears a Service's status", async () => {
    const created = await call("POST", SERVICES, {
      ...aService("web"),
      status: { loadBalancer: { ingress: [{ ip: "198.18.0.1" }] } },
    });
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty("status");
    const put = await call("PUT", `${SERVICES}/web`, { apiVersion: "v1", kind: "Service", metadata: { name: "web" } });
    expect(put.body).not.toHaveProperty("spec");
    expect(put.body["metadata"]).toMatchObject({
      uid: created.body["metadata"].uid,
      creationTimestamp: expect.any(String),
    });
  });

  it("generation: Services and Nodes keep none; an EndpointSlice's grows when its endpoints change, not its labels", async () => {
    server.put(aService("web"));
    server.put(aNode("n1"));
    expect(server.get("Service", "default", "web")!["metadata"]).not.toHaveProperty("generation");
    expect(server.get("Node", undefined, "n1")!["metadata"]).not.toHaveProperty("generation");
    const slices = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
    const slice = {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "web-1" },
      addressType: "IPv4",
      endpoints: [],
    };
    expect((await call("POST", slices, slice)).body["metadata"].generation).toBe(1);
    expect((await merge(`${slices}/web-1`, { metadata: { labels: { a: "b" } } })).body["metadata"].generation).toBe(1);
    const moved = await merge(`${slices}/web-1`, { endpoints: [{ addresses: ["198.19.0.1"] }] });
    expect(moved.body["metadata"].generation).toBe(2);
  });

  it("optimistic concurrency: a write that states a stale resourceVersion is 409 Conflict", async () => {
    const created = server.put(aService("web"));
    await merge(`${SERVICES}/web`, { metadata: { labels: { a: "1" } } });
    const stale = await merge(`${SERVICES}/web`, {
      metadata: { resourceVersion: (created["metadata"] as Json)["resourceVersion"], labels: { a: "2" } },
    });
    expect(stale).toMatchObject({ status: 409, body: { kind: "Status", reason: "Conflict", code: 409 } });
  });

  it("DELETE with finalizers sets deletionTimestamp and keeps the object; no finalizer may be added then; removing the last deletes it", async () => {
    server.put({
      ...aService("web"),
      metadata: { name: "web", namespace: "default", finalizers: ["example.com/hold"] },
    });
    const deleted = await call("DELETE", `${SERVICES}/web`);
    expect(deleted.status).toBe(200);
    expect(deleted.body["metadata"].deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await call("GET", `${SERVICES}/web`)).status).toBe(200);
    const added = await merge(`${SERVICES}/web`, {
      metadata: { finalizers: ["example.com/hold", "example.com/more"] },
    });
    expect(added).toMatchObject({ status: 422, body: { kind: "Status", reason: "Invalid" } });
    expect(added.body["message"]).toContain("no new finalizers can be added if the object is being deleted");
    const events = watch(`resourceVersion=${server.resourceVersion}`, 1);
    for (let i = 0; i < 400 && server.openWatches < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await merge(`${SERVICES}/web`, { metadata: { finalizers: [] } })).status).toBe(200);
    // The DELETED event carries the object as it was last stored, finalizer and all.
    const deletedEvent = (await events).events[0]!;
    expect(deletedEvent["type"]).toBe("DELETED");
    expect(deletedEvent["object"].metadata.finalizers).toEqual(["example.com/hold"]);
    expect(await call("GET", `${SERVICES}/web`)).toMatchObject({
      status: 404,
      body: { kind: "Status", reason: "NotFound", code: 404 },
    });
  });

  it("DELETE answers with the deleted Service (ReturnDeletedObject), and with a Success Status for kinds such as Nodes", async () => {
    server.put(aService("web"));
    server.put(aNode("n1"));
    expect((await call("DELETE", `${SERVICES}/web`)).body).toMatchObject({
      kind: "Service",
      metadata: { name: "web" },
    });
    const node = await call("DELETE", "/api/v1/nodes/n1");
    expect(node).toMatchObject({
      status: 200,
      body: { kind: "Status", status: "Success", details: { name: "n1", kind: "nodes" } },
    });
  });

  it("MicroTime fields (Lease renewTime, Event eventTime) take exactly six fractional digits; anything else is 400", async () => {
    const lease = (renewTime: string) => ({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "l" },
      spec: { holderIdentity: "lb1", renewTime },
    });
    const leases = "/apis/coordination.k8s.io/v1/namespaces/portico-system/leases";
    const bad = await call("POST", leases, lease("2026-12-01T00:00:00.123Z"));
    expect(bad).toMatchObject({ status: 400, body: { kind: "Status", reason: "BadRequest", code: 400 } });
    expect(bad.body["message"]).toContain('as "2006-01-02T15:04:05.000000Z07:00"');
    expect((await call("POST", leases, lease("2026-12-01T00:00:00Z"))).status).toBe(400);
    expect((await call("POST", leases, lease("2026-12-01T00:00:00.123456Z"))).status).toBe(201);
    const event = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "e" },
      eventTime: "2026-12-01T00:00:00.1Z",
    };
    expect((await call("POST", "/apis/events.k8s.io/v1/namespaces/default/events", event)).status).toBe(400);
  });

  it("errors are metav1.Status bodies: unknown paths, missing objects, names taken, patches it cannot take", async () => {
    server.put(aService("web"));
    const status = (code: number, reason: string) => ({
      status: code,
      body: expect.objectContaining({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason }),
    });
    expect(await call("GET", "/api/v1/widgets")).toEqual(status(404, "NotFound"));
    expect(await call("GET", `${SERVICES}/nope`)).toEqual(status(404, "NotFound"));
    expect(await call("POST", SERVICES, aService("web"))).toEqual(status(409, "AlreadyExists"));
    server.put(aNode("n1"));
    expect(await call("PATCH", "/api/v1/nodes/n1", {}, "application/strategic-merge-patch+json")).toEqual(
      status(415, "UnsupportedMediaType"),
    );
    // A JSON patch whose `test` fails is a patch that cannot be applied: 422, not 409.
    const test = [{ op: "test", path: "/metadata/finalizers", value: ["x"] }];
    expect(await call("PATCH", `${SERVICES}/web`, test, "application/json-patch+json")).toEqual(status(422, "Invalid"));
  });
});
