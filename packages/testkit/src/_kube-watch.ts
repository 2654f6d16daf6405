import type { ServerResponse } from "node:http";
import { apiVersionOf, statusObject, type Obj, type Resource } from "./_kube-wire.js";

/** One change, as a watch event and as history a later watch may start from. */
export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly resource: Resource;
  readonly object: Obj;
  readonly rv: number;
}

interface Watcher {
  readonly resource: Resource;
  readonly namespace: string | undefined;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
}

const meta = (o: Obj): Record<string, unknown> => o.metadata ?? {};

/** etcd key order: namespace, then name. */
export const byKey = (a: Obj, b: Obj): number =>
  String(meta(a)["namespace"] ?? "").localeCompare(String(meta(b)["namespace"] ?? "")) ||
  String(meta(a)["name"]).localeCompare(String(meta(b)["name"]));

/** Options for the test API server (`KubeApiServer`). */
export interface KubeApiServerOptions {
  /** How often an open watch that allows them gets a BOOKMARK unasked; default 60 000 (kube-apiserver's watch cache: about a minute). */
  readonly bookmarkEveryMs?: number;
}

/**
 * The watch side of the test API server: the open watches and the history since the last
 * compaction. A watch from a resourceVersion gets every event after it, or, once that version is
 * compacted, a 200 stream with one ERROR event carrying a 410 Expired Status; a watch from "" or
 * "0" starts with a synthetic ADDED for every object there is. BOOKMARKs go only to watches that
 * set `allowWatchBookmarks`: on demand, and as the watch cache sends them on its own, every
 * `bookmarkEveryMs` (kube-apiserver: about a minute) and 2 s before the watch's `timeoutSeconds`
 * deadline; `timeoutSeconds` ends a watch cleanly.
 */
export class WatchHub {
  readonly #history: WatchEvent[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #currentRv: () => number;
  readonly #bookmarkEveryMs: number;
  #compactedRv = 0;

  /** `currentRv` is the server's resourceVersion now, which every BOOKMARK carries. */
  constructor(currentRv: () => number, bookmarkEveryMs: number) {
    this.#currentRv = currentRv;
    this.#bookmarkEveryMs = bookmarkEveryMs;
  }

  /** The version up to which history is forgotten. */
  get compactedRv(): number {
    return this.#compactedRv;
  }

  /** How many watches are open. */
  get open(): number {
    return this.#watchers.size;
  }

  /** Keep `event` for later watches and send it to every open one it concerns. */
  publish(event: WatchEvent): void {
    this.#history.push(event);
    for (const w of this.#watchers) deliver(w, event);
  }

  /** Forget history up to `rv`. */
  compact(rv: number): void {
    this.#compactedRv = rv;
    this.#history.length = 0;
  }

  /** A BOOKMARK at the current resourceVersion to every open watch that allows them. */
  bookmark(): void {
    for (const w of this.#watchers) bookmarkTo(w, this.#currentRv());
  }

  /** Write `line` as it is to every open watch of `resource`: fault injection, not a real server's answer. */
  sendRaw(resource: Resource, line: string): void {
    for (const w of this.#watchers) if (w.resource === resource && !w.res.writableEnded) w.res.write(`${line}\n`);
  }

  /** Cut every open watch, as a lost connection does. */
  cutAll(): void {
    for (const w of this.#watchers) w.res.destroy();
    this.#watchers.clear();
  }

  /** Serve one watch request; `current` gives the objects there are now, at version `rv`. */
  serve(
    resource: Resource,
    namespace: string | undefined,
    query: URLSearchParams,
    res: ServerResponse,
    current: () => readonly Obj[],
    rv: number,
  ): void {
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    // Headers go out now, as a real API server's do: the client waits for them before reading events.
    res.flushHeaders();
    const from = query.get("resourceVersion") ?? "";
    const fromRv = from === "" ? 0 : Number(from);
    if (fromRv !== 0 && fromRv < this.#compactedRv) {
      const message = `too old resource version: ${fromRv} (${this.#compactedRv})`;
      send(res, { type: "ERROR", object: statusObject(410, "Expired", message) });
      res.end();
      return;
    }
    const w: Watcher = { resource, namespace, res, bookmarks: query.get("allowWatchBookmarks") === "true" };
    if (fromRv === 0) {
      for (const object of [...current()].sort(byKey)) deliver(w, { type: "ADDED", resource, object, rv });
    } else for (const e of this.#history) if (e.rv > fromRv) deliver(w, e);
    this.#watchers.add(w);
    const timeoutSeconds = Number(query.get("timeoutSeconds") ?? "0");
    const timers: NodeJS.Timeout[] = [];
    if (timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
    // The watch cache's own bookmarks: periodic, and one just before the deadline so that the
    // client resumes from as recent a version as there is.
    if (w.bookmarks) {
      timers.push(setInterval(() => bookmarkTo(w, this.#currentRv()), this.#bookmarkEveryMs));
      if (timeoutSeconds > 2)
        timers.push(setTimeout(() => bookmarkTo(w, this.#currentRv()), timeoutSeconds * 1000 - 2000));
    }
    for (const t of timers) t.unref();
    res.on("close", () => {
      for (const t of timers) clearTimeout(t);
      this.#watchers.delete(w);
    });
  }
}

const bookmarkTo = (w: Watcher, rv: number): void => {
  if (!w.bookmarks) return;
  const object = {
    kind: w.resource.kind,
    apiVersion: apiVersionOf(w.resource),
    metadata: { resourceVersion: String(rv) },
  };
  send(w.res, { type: "BOOKMARK", object });
};

const deliver = (w: Watcher, e: WatchEvent): void => {
  if (e.resource !== w.resource) return;
  if (w.namespace !== undefined && meta(e.object)["namespace"] !== w.namespace) return;
  send(w.res, { type: e.type, object: e.object });
};

const send = (res: ServerResponse, event: unknown): void => {
  if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify(event)}\n`);
};
