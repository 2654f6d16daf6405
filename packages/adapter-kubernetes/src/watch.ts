import { ListWatch, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { BackoffState, DEFAULT_BACKOFF, type Backoff } from "./backoff.js";
import { BoundedWatch } from "./_boundedWatch.js";
import { listAll } from "./_list.js";

/** What the cluster watch reports about its connection to the API server. */
export interface WatchHealth {
  /** Every informer has completed its first list. */
  readonly synced: boolean;
  /** No informer is currently failing. */
  readonly connected: boolean;
  /** The error that ended the connection, while it is not connected. */
  readonly lastError?: string;
  /** Informer restarts after errors, since start. */
  readonly restarts: number;
  /** List items left out because they had no metadata.name, since start. */
  readonly dropped: number;
}

/** Options for {@link ClusterWatch}. */
export interface ClusterWatchOptions {
  readonly backoff?: Backoff;
  /** Called on every change of any watched object (after the initial sync too). */
  readonly onChange?: () => void;
  /** Called when `synced` or `connected` changes: once as an outage starts, once as it ends. */
  readonly onHealth?: (health: WatchHealth) => void;
  /**
   * The shortest watch the API server is asked for (`timeoutSeconds`); each watch asks for a
   * random length up to twice this, as client-go's reflector does (5 minutes). Default 300.
   */
  readonly minWatchSeconds?: number;
  /** Items per LIST page (`limit`); default 500, as client-go's pager. */
  readonly pageSize?: number;
  /** Told what was dropped: list items and watch events that cannot be cached. */
  readonly onDropped?: (what: string) => void;
}

/** One informer: what it lists and watches, and where it is in its backoff. */
interface Feed {
  readonly name: string;
  readonly kind: string;
  readonly apiVersion: string;
  readonly informer: ListWatch<KubernetesObject>;
  readonly backoff: BackoffState;
  synced: boolean;
  failing: boolean;
  timer?: NodeJS.Timeout;
}

// The three collections Portico reads, by where they live; a LIST names the kind only once, on the
// list itself, so each object is tagged with the kind of the feed that delivered it.
const FEEDS = [
  { name: "services", kind: "Service", apiVersion: "v1", path: "/api/v1/services" },
  { name: "nodes", kind: "Node", apiVersion: "v1", path: "/api/v1/nodes" },
  {
    name: "endpointslices",
    kind: "EndpointSlice",
    apiVersion: "discovery.k8s.io/v1",
    path: "/apis/discovery.k8s.io/v1/endpointslices",
  },
] as const;

/**
 * Informers for Services, Nodes and discovery.k8s.io/v1 EndpointSlices: a paged list, then a
 * watch from the list's resourceVersion (with bookmarks and a bounded length, re-opened from where
 * it was when the server ends it); a 410 Gone relists (the client does that itself); any other
 * error restarts the informer with a jittered exponential backoff (the client stops there
 * otherwise). Objects are kept as the API sends them (plain JSON) with the kind of the informer
 * that delivered them, and never replaced by an empty list when a list fails.
 */
export class ClusterWatch {
  readonly #feeds: Feed[];
  readonly #options: ClusterWatchOptions;
  #restarts = 0;
  #dropped = 0;
  #lastError: string | undefined;
  #reported: { synced: boolean; connected: boolean } = { synced: false, connected: true };
  #stopped = false;

  constructor(kc: KubeConfig, options: ClusterWatchOptions = {}) {
    this.#options = options;
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    const minWatchSeconds = options.minWatchSeconds ?? 300;
    const pageSize = options.pageSize ?? 500;
    this.#feeds = FEEDS.map((spec) => {
      const healthy = (): void => this.#healthy(feed);
      const list = async () => {
        const { list, dropped } = await listAll(kc, spec.path, { pageSize, pageTimeoutMs: 60_000 });
        // The client would open a watch after a list that ended after stop(): refuse it.
        if (this.#stopped) throw new Error("stopped");
        this.#dropped += dropped;
        if (dropped > 0) options.onDropped?.(`${spec.path}: dropped ${dropped} list items with no metadata.name`);
        healthy();
        return list;
      };
      const watch = new BoundedWatch(kc, {
        minWatchSeconds,
        shortWatchMs: 1_000,
        onOpen: healthy,
        stopped: () => this.#stopped,
        onMalformed: (what) => {
          this.#dropped++;
          options.onDropped?.(what);
        },
      });
      const informer = new ListWatch(spec.path, watch, list, false);
      const feed: Feed = { ...spec, informer, backoff: new BackoffState(backoff), synced: false, failing: false };
      return feed;
    });
    for (const f of this.#feeds) {
      const changed = (): void => {
        if (f.synced) this.#options.onChange?.(); // the first list is reported by start()
      };
      f.informer.on("add", changed);
      f.informer.on("update", changed);
      f.informer.on("delete", changed);
      f.informer.on("error", (e: unknown) => this.#failed(f, e));
    }
  }

  /** Start every informer; resolves when all have completed their first list. */
  async start(): Promise<void> {
    this.#stopped = false;
    await Promise.all(
      this.#feeds.map(async (f) => {
        // start() resolves after the list and once the watch is opened, or after an error that
        // the error handler retries; wait until a list has really completed.
        await f.informer.start().catch(() => undefined);
        while (!this.#stopped && f.informer.latestResourceVersion() === "") await sleep(50);
        if (f.informer.latestResourceVersion() !== "") f.synced = true;
      }),
    );
    this.#report();
    this.#options.onChange?.();
  }

  /** Stop every informer and retry timer. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const f of this.#feeds) {
      clearTimeout(f.timer);
      await f.informer.stop();
    }
  }

  /** The current health of the watch. */
  health(): WatchHealth {
    return {
      synced: this.#feeds.every((f) => f.synced),
      connected: this.#feeds.every((f) => !f.failing),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
      restarts: this.#restarts,
      dropped: this.#dropped,
    };
  }

  /** Every cached object, as plain JSON in the API's wire form with its kind and apiVersion. */
  objects(): unknown[] {
    return this.#feeds.flatMap((f) => f.informer.list().map((o) => tagged(f, o)));
  }

  /** The cached Services, as plain JSON. */
  services(): unknown[] {
    const services = this.#feeds[0]!;
    return services.informer.list().map((o) => tagged(services, o));
  }

  #healthy(f: Feed): void {
    f.backoff.healthy(Date.now());
    if (!f.failing) return;
    f.failing = false;
    if (this.#feeds.every((x) => !x.failing)) this.#lastError = undefined;
    this.#report();
  }

  #failed(f: Feed, e: unknown): void {
    // Stopping aborts the open watches; that is no outage.
    if (this.#stopped) return;
    f.failing = true;
    this.#lastError = `${f.name}: ${describe(e)}`;
    this.#report();
    clearTimeout(f.timer);
    f.timer = setTimeout(
      () => {
        this.#restarts++;
        void f.informer.start().catch(() => undefined);
      },
      f.backoff.failed(Date.now(), Math.random()),
    );
  }

  // Health is reported as it changes, not per attempt: one line as an outage starts, one as it ends.
  #report(): void {
    const { synced, connected } = this.health();
    if (synced === this.#reported.synced && connected === this.#reported.connected) return;
    this.#reported = { synced, connected };
    this.#options.onHealth?.(this.health());
  }
}

// The cache replaces an object when it changes, so each cached object is tagged once and the
// snapshot reads an unchanged object as the very same one (ingest skips what it read before).
const tags = new WeakMap<KubernetesObject, unknown>();
const tagged = (f: Feed, o: KubernetesObject): unknown => {
  let t = tags.get(o);
  if (t === undefined) tags.set(o, (t = { ...o, apiVersion: f.apiVersion, kind: f.kind }));
  return t;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const describe = (e: unknown): string => {
  if (e instanceof Error) {
    const code = (e as { code?: unknown; statusCode?: unknown }).code ?? (e as { statusCode?: unknown }).statusCode;
    return code === undefined ? e.message : `${e.message} (${String(code)})`;
  }
  return String(e);
};
