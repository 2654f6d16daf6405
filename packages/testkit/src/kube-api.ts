import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

type Obj = Record<string, unknown> & { metadata?: Record<string, unknown> };

/** A resource the server knows, addressed as the real API server addresses it. */
interface Resource {
  readonly group: string; // "" for the core group
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

const RESOURCES: readonly Resource[] = [
  { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true },
  { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false },
  { group: "", version: "v1", plural: "events", kind: "Event", namespaced: true },
  { group: "discovery.k8s.io", version: "v1", plural: "endpointslices", kind: "EndpointSlice", namespaced: true },
  { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true },
  { group: "events.k8s.io", version: "v1", plural: "events", kind: "Event", namespaced: true },
];

/** One request the server answered; tests assert on writes with this. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** The query string, e.g. `?watch=true&resourceVersion=105`. */
  readonly query: string;
  readonly contentType: string;
  readonly body: unknown;
  readonly status: number;
  /** Which client sent it: the bearer token of its kubeconfig (`kubeconfig(user)` sets `token-<user>`). */
  readonly client: string;
  /** When it was answered (epoch ms): orders writes of different clients in time. */
  readonly at: number;
}

interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly resource: Resource;
  readonly object: Obj;
  readonly rv: number;
}

interface Watcher {
  readonly resource: Resource;
  readonly namespace: string | undefined;
  readonly res: ServerResponse;
}

const apiVersionOf = (r: Resource): string => (r.group === "" ? r.version : `${r.group}/${r.version}`);
const keyOf = (r: Resource, namespace: string | undefined, name: string): string =>
  `${r.group}/${r.plural}/${namespace ?? ""}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);
const meta = (o: Obj): Record<string, unknown> => (o.metadata ??= {});

/**
 * A Kubernetes API server at the wire level, for tests: the real @kubernetes/client-node talks to
 * it over HTTP through a kubeconfig. It keeps objects with resourceVersions, serves lists and
 * chunked watch streams (ADDED/MODIFIED/DELETED/BOOKMARK), answers a watch from a compacted
 * resourceVersion with 410 Gone, applies merge and JSON patches to objects and their `status`
 * subresource, enforces optimistic concurrency (409), honours finalizers on delete, and can be
 * made unreachable or slow. It is not a mock of the client.
 */
export class KubeApiServer {
  readonly #objects = new Map<string, { resource: Resource; object: Obj }>();
  readonly #history: WatchEvent[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #sockets = new Set<Socket>();
  readonly requests: RecordedRequest[] = [];
  #rv = 100;
  #compactedRv = 0;
  #unreachable = false;
  #latencyMs = 0;
  #server: Server | undefined;
  #url = "";

  /** Start listening on 127.0.0.1 (a free port). */
  async start(): Promise<this> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on("connection", (socket) => {
      if (this.#unreachable) {
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** Stop listening and cut every connection. */
  async stop(): Promise<void> {
    for (const w of this.#watchers) w.res.destroy();
    this.#watchers.clear();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** The server's base URL. */
  get url(): string {
    return this.#url;
  }

  /** A kubeconfig (YAML text) pointing the real client here. */
  kubeconfig(user = "portico-test"): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: test",
      "  cluster:",
      `    server: ${this.#url}`,
      // client-node refuses a plain http:// server unless TLS verification is explicitly off.
      "    insecure-skip-tls-verify: true",
      "users:",
      `- name: ${user}`,
      "  user:",
      `    token: token-${user}`,
      "contexts:",
      "- name: test",
      "  context:",
      "    cluster: test",
      `    user: ${user}`,
      "current-context: test",
      "",
    ].join("\n");
  }

  /** While true, every connection is cut at once (open watches included) and new ones are refused. */
  setUnreachable(value: boolean): void {
    this.#unreachable = value;
    if (value) {
      for (const w of this.#watchers) w.res.destroy();
      this.#watchers.clear();
      for (const s of this.#sockets) s.destroy();
    }
  }

  /** Delay every answer by this long. */
  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  /** Forget history up to now: a watch from an older resourceVersion then gets 410 Gone. */
  compact(): void {
    this.#compactedRv = this.#rv;
    this.#history.length = 0;
  }

  /** Send a BOOKMARK with the current resourceVersion to every open watch. */
  bookmark(): void {
    for (const w of this.#watchers) {
      this.#send(w.res, {
        type: "BOOKMARK",
        object: {
          kind: w.resource.kind,
          apiVersion: apiVersionOf(w.resource),
          metadata: { resourceVersion: String(this.#rv) },
        },
      });
    }
  }

  /** The current resourceVersion. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** Create or replace an object directly (test set-up), as if a user had applied it. */
  put(object: Obj): Obj {
    const resource = this.#resourceOfObject(object);
    const m = meta(object);
    const name = String(m["name"]);
    const namespace = resource.namespaced ? String(m["namespace"] ?? "default") : undefined;
    const key = keyOf(resource, namespace, name);
    const existing = this.#objects.get(key)?.object;
    const next = clone(object);
    const nm = meta(next);
    if (namespace !== undefined) nm["namespace"] = namespace;
    nm["uid"] = existing ? meta(existing)["uid"] : (nm["uid"] ?? randomUUID());
    nm["creationTimestamp"] = existing
      ? meta(existing)["creationTimestamp"]
      : (nm["creationTimestamp"] ?? new Date().toISOString().replace(/\.\d+Z$/, "Z"));
    const specChanged = existing === undefined || JSON.stringify(existing["spec"]) !== JSON.stringify(next["spec"]);
    nm["generation"] = existing === undefined ? 1 : Number(meta(existing)["generation"] ?? 1) + (specChanged ? 1 : 0);
    if (existing && next["status"] === undefined) next["status"] = existing["status"];
    return this.#store(resource, key, next, existing === undefined ? "ADDED" : "MODIFIED");
  }

  /** Read an object (test assertions). */
  get(kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const resource = RESOURCES.find((r) => r.kind === kind && (kind !== "Event" || r.group === ""))!;
    const found = this.#objects.get(keyOf(resource, resource.namespaced ? namespace : undefined, name));
    return found ? clone(found.object) : undefined;
  }

  /** Every object of a kind (test assertions). */
  list(kind: string): Obj[] {
    return [...this.#objects.values()].filter((e) => e.resource.kind === kind).map((e) => clone(e.object));
  }

  /** Delete an object as a user would: with finalizers it only gets a deletionTimestamp. */
  delete(kind: string, namespace: string | undefined, name: string): void {
    const resource = RESOURCES.find((r) => r.kind === kind)!;
    this.#delete(resource, keyOf(resource, resource.namespaced ? namespace : undefined, name));
  }

  /** Writes (anything but GET) recorded so far. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== "GET");
  }

  #resourceOfObject(object: Obj): Resource {
    const apiVersion = String(object["apiVersion"] ?? "v1");
    const kind = String(object["kind"]);
    const r = RESOURCES.find((x) => x.kind === kind && apiVersionOf(x) === apiVersion);
    if (!r) throw new Error(`the test API server does not serve ${apiVersion} ${kind}`);
    return r;
  }

  #store(resource: Resource, key: string, object: Obj, type: WatchEvent["type"]): Obj {
    this.#rv += 1;
    object["apiVersion"] = apiVersionOf(resource);
    object["kind"] = resource.kind;
    meta(object)["resourceVersion"] = String(this.#rv);
    if (type === "DELETED") this.#objects.delete(key);
    else this.#objects.set(key, { resource, object });
    const event: WatchEvent = { type, resource, object: clone(object), rv: this.#rv };
    this.#history.push(event);
    for (const w of this.#watchers) this.#deliver(w, event);
    return clone(object);
  }

  #delete(resource: Resource, key: string): Obj | undefined {
    const existing = this.#objects.get(key)?.object;
    if (!existing) return undefined;
    const finalizers = (meta(existing)["finalizers"] as unknown[] | undefined) ?? [];
    if (finalizers.length > 0) {
      if (meta(existing)["deletionTimestamp"] !== undefined) return clone(existing);
      const next = clone(existing);
      meta(next)["deletionTimestamp"] = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      return this.#store(resource, key, next, "MODIFIED");
    }
    return this.#store(resource, key, clone(existing), "DELETED");
  }

  #deliver(w: Watcher, e: WatchEvent): void {
    if (e.resource !== w.resource) return;
    if (w.namespace !== undefined && meta(e.object)["namespace"] !== w.namespace) return;
    this.#send(w.res, { type: e.type, object: e.object });
  }

  #send(res: ServerResponse, event: unknown): void {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(event)}\n`);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#unreachable) {
      res.destroy();
      return;
    }
    if (this.#latencyMs > 0) await new Promise((r) => setTimeout(r, this.#latencyMs));
    const url = new URL(req.url ?? "/", "http://x");
    const body = await readBody(req);
    const contentType = String(req.headers["content-type"] ?? "")
      .split(";")[0]!
      .trim();
    const reply = (status: number, payload: unknown): void => {
      this.requests.push({
        method: req.method ?? "",
        path: url.pathname,
        query: url.search,
        contentType,
        body: parseJson(body),
        status,
        client: clientOf(req),
        at: Date.now(),
      });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const route = parsePath(url.pathname);
    if (!route)
      return reply(
        404,
        statusObject(404, "NotFound", `the server could not find the requested resource (${url.pathname})`),
      );
    const { resource, namespace, name, subresource } = route;
    const method = req.method ?? "GET";

    if (name === undefined) {
      if (method === "GET" && (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1")) {
        this.requests.push({
          method,
          path: url.pathname,
          query: url.search,
          contentType,
          body: undefined,
          status: 200,
          client: clientOf(req),
          at: Date.now(),
        });
        return this.#watch(resource, namespace, Number(url.searchParams.get("resourceVersion") ?? "0"), res);
      }
      if (method === "GET") {
        const items = [...this.#objects.values()]
          .filter(
            (e) => e.resource === resource && (namespace === undefined || meta(e.object)["namespace"] === namespace),
          )
          .map((e) => e.object)
          .sort((a, b) => String(meta(a)["name"]).localeCompare(String(meta(b)["name"])));
        return reply(200, {
          apiVersion: apiVersionOf(resource),
          kind: `${resource.kind}List`,
          metadata: { resourceVersion: String(this.#rv) },
          items,
        });
      }
      if (method === "POST") {
        const obj = parseJson(body) as Obj | undefined;
        if (!obj || typeof obj !== "object")
          return reply(400, statusObject(400, "BadRequest", "body is not a JSON object"));
        const m = meta(obj);
        let objName = typeof m["name"] === "string" ? m["name"] : undefined;
        if (objName === undefined && typeof m["generateName"] === "string")
          objName = `${m["generateName"]}${randomUUID().slice(0, 5)}`;
        if (objName === undefined) return reply(422, statusObject(422, "Invalid", "metadata.name: Required value"));
        m["name"] = objName;
        const key = keyOf(resource, namespace, objName);
        if (this.#objects.has(key))
          return reply(409, statusObject(409, "AlreadyExists", `${resource.plural} "${objName}" already exists`));
        if (namespace !== undefined) m["namespace"] = namespace;
        m["uid"] = randomUUID();
        m["creationTimestamp"] = new Date().toISOString().replace(/\.\d+Z$/, "Z");
        m["generation"] = 1;
        return reply(201, this.#store(resource, key, obj, "ADDED"));
      }
      return reply(405, statusObject(405, "MethodNotAllowed", `${method} is not allowed on a collection`));
    }

    const key = keyOf(resource, namespace, name);
    const existing = this.#objects.get(key)?.object;
    if (!existing) return reply(404, statusObject(404, "NotFound", `${resource.plural} "${name}" not found`));
    if (method === "GET") return reply(200, existing);
    if (method === "DELETE") return reply(200, this.#delete(resource, key));
    if (method !== "PUT" && method !== "PATCH")
      return reply(405, statusObject(405, "MethodNotAllowed", `${method} is not allowed`));

    let next: Obj;
    if (method === "PUT") {
      const obj = parseJson(body) as Obj | undefined;
      if (!obj || typeof obj !== "object")
        return reply(400, statusObject(400, "BadRequest", "body is not a JSON object"));
      next = obj;
    } else {
      const patch = parseJson(body);
      if (contentType === "application/merge-patch+json") next = mergePatch(clone(existing), patch) as Obj;
      else if (contentType === "application/json-patch+json") {
        const applied = jsonPatch(clone(existing), patch);
        if (typeof applied === "string")
          return reply(
            applied.startsWith("test") ? 409 : 422,
            statusObject(
              applied.startsWith("test") ? 409 : 422,
              applied.startsWith("test") ? "Conflict" : "Invalid",
              applied,
            ),
          );
        next = applied as Obj;
      } else
        return reply(
          415,
          statusObject(415, "UnsupportedMediaType", `the body of the request was in an unknown format: ${contentType}`),
        );
    }
    // Optimistic concurrency: a stated resourceVersion must be the current one.
    const stated = meta(next)["resourceVersion"];
    if (stated !== undefined && stated !== meta(existing)["resourceVersion"]) {
      return reply(
        409,
        statusObject(
          409,
          "Conflict",
          `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        ),
      );
    }
    // The status subresource changes only status; the main resource never changes status.
    const merged = clone(existing);
    if (subresource === "status") merged["status"] = next["status"];
    else {
      for (const [k, v] of Object.entries(next)) if (k !== "status" && k !== "metadata") merged[k] = v;
      const nm = meta(next);
      const mm = meta(merged);
      for (const k of ["labels", "annotations", "finalizers"]) {
        if (nm[k] === undefined) delete mm[k];
        else mm[k] = nm[k];
      }
      if (JSON.stringify(existing["spec"]) !== JSON.stringify(merged["spec"]))
        mm["generation"] = Number(mm["generation"] ?? 1) + 1;
    }
    const mm = meta(merged);
    const finalizers = (mm["finalizers"] as unknown[] | undefined) ?? [];
    if (mm["deletionTimestamp"] !== undefined && finalizers.length === 0) {
      // The last finalizer went: the deletion completes.
      return reply(200, this.#store(resource, key, merged, "DELETED"));
    }
    return reply(200, this.#store(resource, key, merged, "MODIFIED"));
  }

  #watch(resource: Resource, namespace: string | undefined, fromRv: number, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    // Headers go out now, as a real API server's do: the client waits for them before reading events.
    res.flushHeaders();
    if (fromRv !== 0 && fromRv < this.#compactedRv) {
      // As the real API server does: a 200 stream carrying one ERROR event with a 410 Status.
      this.#send(res, {
        type: "ERROR",
        object: statusObject(410, "Expired", `too old resource version: ${fromRv} (${this.#compactedRv})`),
      });
      res.end();
      return;
    }
    const w: Watcher = { resource, namespace, res };
    for (const e of this.#history) if (e.rv > fromRv) this.#deliver(w, e);
    this.#watchers.add(w);
    res.on("close", () => this.#watchers.delete(w));
  }
}

const clientOf = (req: IncomingMessage): string =>
  String(req.headers["authorization"] ?? "").replace(/^Bearer token-/, "");

const statusObject = (code: number, reason: string, message: string) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  code,
});

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(""));
  });

const parseJson = (text: string): unknown => {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

const parsePath = (
  path: string,
): { resource: Resource; namespace?: string; name?: string; subresource?: string } | undefined => {
  const parts = path.split("/").filter((p) => p !== "");
  let group = "";
  let rest: string[];
  if (parts[0] === "api" && parts[1] === "v1") rest = parts.slice(2);
  else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1]!;
    rest = parts.slice(3);
  } else return undefined;
  const version = parts[0] === "api" ? "v1" : parts[2]!;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === rest[0]);
  if (!resource || (namespace !== undefined && !resource.namespaced)) return undefined;
  return {
    resource,
    ...(namespace === undefined ? {} : { namespace }),
    ...(rest[1] === undefined ? {} : { name: rest[1] }),
    ...(rest[2] === undefined ? {} : { subresource: rest[2] }),
  };
};

/** RFC 7386 JSON merge patch. */
const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
};

/** RFC 6902 JSON patch (add, remove, replace, test); returns an error string on failure. */
const jsonPatch = (doc: unknown, ops: unknown): unknown => {
  if (!Array.isArray(ops)) return "a JSON patch must be a list of operations";
  let root = doc;
  for (const op of ops as { op: string; path: string; value?: unknown }[]) {
    const segments = op.path
      .split("/")
      .slice(1)
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = segments.pop();
    if (last === undefined) {
      if (op.op === "replace" || op.op === "add") root = op.value;
      continue;
    }
    let parent: unknown = root;
    for (const s of segments)
      parent = Array.isArray(parent) ? parent[Number(s)] : (parent as Record<string, unknown> | undefined)?.[s];
    if (typeof parent !== "object" || parent === null) return `${op.op} ${op.path}: the parent does not exist`;
    const current = Array.isArray(parent)
      ? parent[last === "-" ? parent.length : Number(last)]
      : (parent as Record<string, unknown>)[last];
    switch (op.op) {
      case "test":
        if (JSON.stringify(current) !== JSON.stringify(op.value)) return `test ${op.path} failed`;
        break;
      case "add":
        if (Array.isArray(parent)) parent.splice(last === "-" ? parent.length : Number(last), 0, op.value);
        else (parent as Record<string, unknown>)[last] = op.value;
        break;
      case "replace":
        if (current === undefined) return `replace ${op.path}: no such value`;
        if (Array.isArray(parent)) parent[Number(last)] = op.value;
        else (parent as Record<string, unknown>)[last] = op.value;
        break;
      case "remove":
        if (current === undefined) return `remove ${op.path}: no such value`;
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete (parent as Record<string, unknown>)[last];
        break;
      default:
        return `operation ${op.op} is not supported`;
    }
  }
  return root;
};
