import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { apiVersionOf, asObject, badMicroTime, clientOf, kubeconfigFor, parseJson, parsePath } from "./_kube-wire.js";
import { generationOf, patched, readBody, RESOURCES, statusObject, timeNow } from "./_kube-wire.js";
import type { Obj, Resource } from "./_kube-wire.js";
import { ListPager } from "./_kube-list.js";
import { byKey, WatchHub, type KubeApiServerOptions, type WatchEvent } from "./_kube-watch.js";

export type { KubeApiServerOptions } from "./_kube-watch.js";

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

type Reply = (status: number, payload: unknown) => void;

const keyOf = (r: Resource, namespace: string | undefined, name: string): string =>
  `${r.group}/${r.plural}/${namespace ?? ""}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);
const meta = (o: Obj): Record<string, unknown> => (o.metadata ??= {});
const finalizersOf = (o: Obj): unknown[] => (meta(o)["finalizers"] as unknown[] | undefined) ?? [];
// Items of a LIST carry no kind and no apiVersion (kubernetes/kubernetes#3030): only the list does.
const asListItem = (o: Obj): Obj => {
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = clone(o);
  return rest;
};
/**
 * A Kubernetes API server at the wire level, for tests: the real @kubernetes/client-node talks to
 * it over HTTP through a kubeconfig. Each behaviour mirrors kube-apiserver's, and
 * `test/kube-api.test.ts` names which: list items without kind/apiVersion, paginated lists
 * (`limit`, `continue`) from one consistent snapshot, one resourceVersion for every resource,
 * watches from a version (410 Gone as an ERROR event once it is compacted, synthetic ADDED events
 * from "" or "0", BOOKMARKs only with `allowWatchBookmarks`, sent every minute and 2 s before
 * the deadline as well as on demand, `timeoutSeconds` ending a watch cleanly), merge and JSON patches, the status subresource changing only status, `generation`
 * growing only with spec, optimistic concurrency (409), finalizers (DELETE sets
 * `deletionTimestamp`), MicroTime fields with exactly six fractional digits, and metav1.Status
 * bodies on errors. It can also be made unreachable or slow. It is not a mock of the client.
 * Not modelled: "Too large resource version" (504, a LIST or GET newer than the watch cache), which
 * Portico cannot meet: it lists without a resourceVersion (a consistent read).
 */
export class KubeApiServer {
  readonly #objects = new Map<string, { resource: Resource; object: Obj }>();
  readonly #watches: WatchHub;
  readonly #sockets = new Set<Socket>();
  readonly #pager = new ListPager();
  readonly requests: RecordedRequest[] = [];
  #rv = 100;
  #unreachable = false;
  #latencyMs = 0;
  #server: Server | undefined;
  #url = "";

  /** With `options` (see {@link KubeApiServerOptions}). */
  constructor(options: KubeApiServerOptions = {}) {
    this.#watches = new WatchHub(() => this.#rv, options.bookmarkEveryMs ?? 60_000);
  }

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
    this.#cutAll();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** The server's base URL. */
  get url(): string {
    return this.#url;
  }

  /** A kubeconfig (YAML text) pointing the real client here. */
  kubeconfig(user = "portico-test"): string {
    return kubeconfigFor(this.#url, user);
  }

  /** While true, every connection is cut at once (open watches included) and new ones are refused. */
  setUnreachable(value: boolean): void {
    this.#unreachable = value;
    if (value) this.#cutAll();
  }

  /** Delay every answer by this long. */
  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  /** Forget history up to now: a watch or a list continued from an older version then gets 410 Gone. */
  compact(): void {
    this.#watches.compact(this.#rv);
  }

  /** Send a BOOKMARK with the current resourceVersion to every open watch that allows them. */
  bookmark(): void {
    this.#watches.bookmark();
  }

  /** How many watches are open now. */
  get openWatches(): number {
    return this.#watches.open;
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
    nm["creationTimestamp"] = existing ? meta(existing)["creationTimestamp"] : (nm["creationTimestamp"] ?? timeNow());
    const generation = generationOf(resource, existing, next);
    if (generation === undefined) delete nm["generation"];
    else nm["generation"] = generation;
    if (existing && next["status"] === undefined) next["status"] = existing["status"];
    return this.#store(resource, key, next, existing === undefined ? "ADDED" : "MODIFIED");
  }

  /** Read an object (test assertions), with its kind and apiVersion as `kubectl get` shows it. */
  get(kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const resource = RESOURCES.find((r) => r.kind === kind && (kind !== "Event" || r.group === ""))!;
    const found = this.#objects.get(keyOf(resource, resource.namespaced ? namespace : undefined, name));
    return found ? clone(found.object) : undefined;
  }

  /** Every object of a kind (test assertions), with kind and apiVersion as `kubectl get -o yaml` shows them. */
  list(kind: string): Obj[] {
    return [...this.#objects.values()].filter((e) => e.resource.kind === kind).map((e) => clone(e.object));
  }

  /** Delete an object as a user would: with finalizers it only gets a deletionTimestamp. */
  delete(kind: string, namespace: string | undefined, name: string): void {
    const resource = RESOURCES.find((r) => r.kind === kind)!;
    this.#delete(resource, keyOf(resource, resource.namespaced ? namespace : undefined, name));
  }

  /**
   * Send `line` as it is on every open watch of `kind`: what a broken or hostile API server (or a
   * proxy between) might send, which kube-apiserver itself never does.
   */
  sendRawWatchLine(kind: string, line: string): void {
    this.#watches.sendRaw(
      RESOURCES.find((r) => r.kind === kind)!,
      line,
    );
  }

  /**
   * Store `object` as it is, under a key of its own, for LISTs of `kind` to serve: an item with
   * no metadata.name, say, which kube-apiserver never serves but a broken one (or a proxy) might.
   */
  putRaw(kind: string, object: Obj): void {
    const resource = RESOURCES.find((r) => r.kind === kind)!;
    this.#rv += 1;
    this.#objects.set(`${keyOf(resource, undefined, "")}raw-${this.#rv}`, { resource, object: clone(object) });
  }

  /** Writes (anything but GET) recorded so far. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== "GET");
  }

  #cutAll(): void {
    this.#watches.cutAll();
    for (const s of this.#sockets) s.destroy();
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
    this.#watches.publish(event);
    return clone(object);
  }

  /** A DELETE: what the server answers with (the object while finalizers hold it). */
  #delete(resource: Resource, key: string): unknown {
    const existing = this.#objects.get(key)?.object;
    if (!existing) return undefined;
    if (finalizersOf(existing).length > 0) {
      if (meta(existing)["deletionTimestamp"] !== undefined) return clone(existing);
      const next = clone(existing);
      const nm = meta(next);
      nm["deletionTimestamp"] = timeNow();
      nm["deletionGracePeriodSeconds"] = 0;
      // Marking an object for deletion grows its generation, where it keeps one.
      if (Number(nm["generation"] ?? 0) > 0) nm["generation"] = Number(nm["generation"]) + 1;
      return this.#store(resource, key, next, "MODIFIED");
    }
    const deleted = this.#store(resource, key, clone(existing), "DELETED");
    if (resource.returnsDeleted === true) return deleted;
    const m = meta(deleted);
    const details = { name: m["name"], group: resource.group, kind: resource.plural, uid: m["uid"] };
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details };
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
    const method = req.method ?? "GET";
    const record = (status: number, recorded: unknown): void => {
      const at = Date.now();
      this.requests.push({
        method,
        path: url.pathname,
        query: url.search,
        contentType,
        body: recorded,
        status,
        client: clientOf(req),
        at,
      });
    };
    const reply: Reply = (status, payload) => {
      record(status, parseJson(body));
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const route = parsePath(url.pathname);
    if (!route) {
      const message = `the server could not find the requested resource (${url.pathname})`;
      return reply(404, statusObject(404, "NotFound", message));
    }
    const { resource, namespace, name, subresource } = route;
    if (name === undefined) {
      const watch = url.searchParams.get("watch");
      if (method === "GET" && (watch === "true" || watch === "1")) {
        record(200, undefined);
        const current = () => [...this.#objects.values()].filter((e) => e.resource === resource).map((e) => e.object);
        return this.#watches.serve(resource, namespace, url.searchParams, res, current, this.#rv);
      }
      if (method === "GET") return this.#list(resource, namespace, url.searchParams, reply);
      if (method === "POST") return this.#create(resource, namespace, parseJson(body), reply);
      return reply(405, statusObject(405, "MethodNotAllowed", `${method} is not allowed on a collection`));
    }
    const key = keyOf(resource, namespace, name);
    const existing = this.#objects.get(key)?.object;
    if (!existing) return reply(404, statusObject(404, "NotFound", `${resource.plural} "${name}" not found`));
    if (method === "GET") return reply(200, existing);
    if (method === "DELETE") return reply(200, this.#delete(resource, key));
    if (method !== "PUT" && method !== "PATCH") {
      return reply(405, statusObject(405, "MethodNotAllowed", `${method} is not allowed`));
    }
    const next = method === "PUT" ? asObject(parseJson(body)) : patched(existing, contentType, parseJson(body));
    if ("error" in next) return reply(next.error.code, next.error);
    this.#update(resource, key, name, existing, next.ok, subresource === "status", reply);
  }

  #list(resource: Resource, namespace: string | undefined, query: URLSearchParams, reply: Reply): void {
    const current = (): Obj[] =>
      [...this.#objects.values()]
        .filter(
          (e) => e.resource === resource && (namespace === undefined || meta(e.object)["namespace"] === namespace),
        )
        .map((e) => asListItem(e.object))
        .sort(byKey);
    const { status, payload } = this.#pager.answer(resource, query, current, this.#rv, this.#watches.compactedRv);
    reply(status, payload);
  }

  #create(resource: Resource, namespace: string | undefined, body: unknown, reply: Reply): void {
    const parsed = asObject(body);
    if ("error" in parsed) return reply(parsed.error.code, parsed.error);
    const obj = parsed.ok;
    const m = meta(obj);
    let objName = typeof m["name"] === "string" ? m["name"] : undefined;
    if (objName === undefined && typeof m["generateName"] === "string") {
      objName = `${m["generateName"]}${randomUUID().slice(0, 5)}`;
    }
    if (objName === undefined) return reply(422, statusObject(422, "Invalid", "metadata.name: Required value"));
    const badTime = badMicroTime(resource, obj);
    if (badTime !== undefined) return reply(400, statusObject(400, "BadRequest", badTime));
    m["name"] = objName;
    const key = keyOf(resource, namespace, objName);
    if (this.#objects.has(key)) {
      return reply(409, statusObject(409, "AlreadyExists", `${resource.plural} "${objName}" already exists`));
    }
    if (namespace !== undefined) m["namespace"] = namespace;
    m["uid"] = randomUUID();
    m["creationTimestamp"] = timeNow();
    const generation = generationOf(resource, undefined, obj);
    if (generation === undefined) delete m["generation"];
    else m["generation"] = generation;
    delete m["deletionTimestamp"];
    if (resource.createClearsStatus === true) delete obj["status"];
    reply(201, this.#store(resource, key, obj, "ADDED"));
  }

  #update(
    resource: Resource,
    key: string,
    name: string,
    existing: Obj,
    next: Obj,
    status: boolean,
    reply: Reply,
  ): void {
    // Optimistic concurrency: a stated resourceVersion must be the current one.
    const stated = meta(next)["resourceVersion"];
    if (stated !== undefined && stated !== meta(existing)["resourceVersion"]) {
      const message =
        `Operation cannot be fulfilled on ${resource.plural} "${name}": the object has been modified; ` +
        "please apply your changes to the latest version and try again";
      return reply(409, statusObject(409, "Conflict", message));
    }
    // The status subresource changes only status; the main resource never changes status.
    let merged = clone(existing);
    if (status) merged["status"] = next["status"];
    else {
      // An update replaces the whole object but for status and the server's own metadata.
      const { status: _status, metadata: _metadata, ...rest } = clone(next);
      merged = {
        ...rest,
        metadata: meta(merged),
        ...(existing["status"] === undefined ? {} : { status: existing["status"] }),
      };
      const mm = meta(merged);
      const nm = meta(next);
      for (const k of ["labels", "annotations", "finalizers", "ownerReferences"]) {
        if (nm[k] === undefined) delete mm[k];
        else mm[k] = nm[k];
      }
      const generation = generationOf(resource, existing, merged);
      if (generation !== undefined) mm["generation"] = generation;
    }
    const mm = meta(merged);
    const badTime = badMicroTime(resource, merged);
    if (badTime !== undefined) return reply(400, statusObject(400, "BadRequest", badTime));
    const finalizers = finalizersOf(merged);
    const terminating = mm["deletionTimestamp"] !== undefined;
    if (terminating && finalizers.some((f) => !finalizersOf(existing).includes(f))) {
      const added = finalizers.filter((f) => !finalizersOf(existing).includes(f));
      const message =
        `${resource.kind} "${name}" is invalid: metadata.finalizers: Forbidden: ` +
        `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`;
      return reply(422, statusObject(422, "Invalid", message));
    }
    // The last finalizer went: the deletion completes, and the DELETED event carries the object as
    // it was last stored (etcd's previous value), finalizers and all.
    if (terminating && finalizers.length === 0)
      return reply(200, this.#store(resource, key, clone(existing), "DELETED"));
    reply(200, this.#store(resource, key, merged, "MODIFIED"));
  }
}
