import {
  CoreV1Api,
  DiscoveryV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  type ObjectCache,
} from "@kubernetes/client-node";

type Cache = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

/** Backoff for restarting a watch after an error: doubles from `initialMs` up to `maxMs`. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** What the cluster watch reports about its connection to the API server. */
export interface WatchHealth {
  /** Every informer has completed its first list. */
  readonly synced: boolean;
  /** No informer is currently failing. */
  readonly connected: boolean;
  readonly lastError?: string;
  /** Informer restarts after errors, since start. */
  readonly restarts: number;
}

/** Options for {@link ClusterWatch}. */
export interface ClusterWatchOptions {
  readonly backoff?: Backoff;
  /** Called on every change of any watched object (after the initial sync too). */
  readonly onChange?: () => void;
  /** Called when health changes (connected, synced, errors). */
  readonly onHealth?: (health: WatchHealth) => void;
}

interface Feed {
  readonly name: string;
  readonly informer: Cache;
  synced: boolean;
  failing: boolean;
  delayMs: number;
  timer?: NodeJS.Timeout;
}

/**
 * Informers for Services, Nodes and discovery.k8s.io/v1 EndpointSlices: list, then watch from
 * the list's resourceVersion; a 410 Gone relists (the client does that itself); any other error
 * restarts the informer with exponential backoff (the client stops there otherwise). Objects
 * are kept as the API sends them (plain JSON), never replaced by an empty list when a list fails.
 */
export class ClusterWatch {
  readonly #feeds: Feed[];
  readonly #options: ClusterWatchOptions;
  #restarts = 0;
  #lastError: string | undefined;
  #stopped = false;

  constructor(kc: KubeConfig, options: ClusterWatchOptions = {}) {
    this.#options = options;
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const backoff = options.backoff ?? { initialMs: 200, maxMs: 10_000 };
    const feed = (name: string, path: string, list: ListPromise<KubernetesObject>): Feed => ({
      name,
      informer: makeInformer(kc, path, list),
      synced: false,
      failing: false,
      delayMs: backoff.initialMs,
    });
    this.#feeds = [
      feed("services", "/api/v1/services", () => core.listServiceForAllNamespaces()),
      feed("nodes", "/api/v1/nodes", () => core.listNode()),
      feed("endpointslices", "/apis/discovery.k8s.io/v1/endpointslices", () =>
        discovery.listEndpointSliceForAllNamespaces(),
      ),
    ];
    for (const f of this.#feeds) {
      const changed = (): void => {
        if (!f.synced) return; // the first list is reported by the connect handler below
        this.#options.onChange?.();
      };
      f.informer.on("add", changed);
      f.informer.on("update", changed);
      f.informer.on("delete", changed);
      f.informer.on("connect", () => {
        // "connect" fires before each list or watch; the list has completed once the informer's
        // resourceVersion is set, which the first change or the next connect observes.
        this.#recover(f, backoff);
      });
      f.informer.on("error", (e: unknown) => {
        f.failing = true;
        this.#lastError = `${f.name}: ${describe(e)}`;
        this.#report();
        if (this.#stopped) return;
        clearTimeout(f.timer);
        f.timer = setTimeout(() => {
          this.#restarts++;
          void f.informer.start().catch(() => undefined);
        }, f.delayMs);
        f.delayMs = Math.min(backoff.maxMs, f.delayMs * 2);
      });
    }
  }

  /** Start every informer; resolves when all have completed their first list. */
  async start(): Promise<void> {
    this.#stopped = false;
    await Promise.all(
      this.#feeds.map(async (f) => {
        // start() resolves after the list and once the watch is opened, or after an error that
        // the error handler above retries; wait until a list has really completed.
        await f.informer.start().catch(() => undefined);
        while (!this.#stopped && !hasListed(f.informer)) await sleep(50);
        f.synced = true;
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
    };
  }

  /** Every cached object, as plain JSON in the API's wire form (what `kubectl get -o json` shows). */
  objects(): unknown[] {
    return this.#feeds.flatMap((f) => f.informer.list().map(toPlain));
  }

  /** The cached Services, as plain JSON. */
  services(): unknown[] {
    return this.#feeds[0]!.informer.list().map(toPlain);
  }

  #recover(f: Feed, backoff: Backoff): void {
    if (f.failing) {
      f.failing = false;
      f.delayMs = backoff.initialMs;
      this.#report();
    }
  }

  #report(): void {
    this.#options.onHealth?.(this.health());
  }
}

// The informer keeps the resourceVersion of its last list or event; set means it has listed.
const hasListed = (informer: Cache): boolean =>
  (informer as unknown as { latestResourceVersion?: () => string }).latestResourceVersion?.() !== "";

// Listed objects arrive as the client's model classes (times as Date), watched ones as plain JSON;
// one JSON round trip gives both the wire form (Dates become RFC 3339 strings).
// The cache replaces an object when it changes, so each cached object is converted once and the
// snapshot reads an unchanged object as the very same one (ingest skips what it read before).
const plain = new WeakMap<KubernetesObject, unknown>();
const toPlain = (o: KubernetesObject): unknown => {
  let p = plain.get(o);
  if (p === undefined) plain.set(o, (p = JSON.parse(JSON.stringify(o)) as unknown));
  return p;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const describe = (e: unknown): string => {
  if (e instanceof Error) {
    const code = (e as { code?: unknown; statusCode?: unknown }).code ?? (e as { statusCode?: unknown }).statusCode;
    return code === undefined ? e.message : `${e.message} (${String(code)})`;
  }
  return String(e);
};
