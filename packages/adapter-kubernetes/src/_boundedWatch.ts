import { Watch, type KubeConfig } from "@kubernetes/client-node";

/** How a {@link BoundedWatch} opens and judges each watch. */
export interface BoundedWatchOptions {
  /** The shortest watch asked for (`timeoutSeconds`); each asks for a random length up to twice this. */
  readonly minWatchSeconds: number;
  /** A watch that ends by itself sooner than this, having delivered nothing, counts as failed. */
  readonly shortWatchMs: number;
  /** Called once a watch is open (the server answered 200). */
  readonly onOpen: () => void;
  /** True once the owner stopped: no watch is opened then. */
  readonly stopped: () => boolean;
  /** Told what was dropped when an event is malformed; the watch then ends with an error (and restarts). */
  readonly onMalformed?: (what: string) => void;
}

const PHASES = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/**
 * Why a watch event cannot be given to client-node's cache (which reads `object.metadata` of
 * every event in an async handler, so a bad one is an unhandled rejection), or `undefined`.
 */
export const malformedEvent = (phase: unknown, object: unknown): string | undefined => {
  if (typeof phase !== "string" || !PHASES.has(phase)) return `an event of type ${JSON.stringify(phase)?.slice(0, 40)}`;
  if (typeof object !== "object" || object === null || Array.isArray(object)) return `a ${phase} event with no object`;
  if (phase === "ERROR" || phase === "BOOKMARK") return undefined;
  const metadata = (object as { metadata?: unknown }).metadata;
  if (typeof metadata !== "object" || metadata === null || typeof (metadata as { name?: unknown }).name !== "string")
    return `a ${phase} event whose object has no metadata.name`;
  return undefined;
};

const aborted = (): AbortController => {
  const c = new AbortController();
  c.abort();
  return c;
};

/**
 * client-node's Watch, as client-go's reflector watches: with bookmarks and a random
 * `timeoutSeconds`, a client-side deadline past it (a connection that died silently ends too), a
 * watch that ends at once with nothing delivered reported as an error (so it is retried with
 * backoff, not in a tight loop), and every failure to open reported through `done`, never thrown
 * (the client opens watches from callbacks nobody awaits).
 */
export class BoundedWatch extends Watch {
  readonly #o: BoundedWatchOptions;

  constructor(kc: KubeConfig, options: BoundedWatchOptions) {
    super(kc);
    this.#o = options;
  }

  override async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    if (this.#o.stopped()) return aborted();
    const timeoutSeconds = Math.floor(this.#o.minWatchSeconds * (1 + Math.random()));
    const opened = Date.now();
    let events = 0;
    let finished = false;
    let controller: AbortController | undefined;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      const short = (err === null || err === undefined) && events === 0 && Date.now() - opened < this.#o.shortWatchMs;
      done(short ? new Error(`the watch of ${path} ended as soon as it opened`) : err);
    };
    const deadline = setTimeout(
      () => {
        finish(new Error(`the watch of ${path} was not ended by the server ${timeoutSeconds + 30} s after it opened`));
        controller?.abort();
      },
      (timeoutSeconds + 30) * 1000,
    );
    const counted = (phase: string, apiObj: unknown, watchObj?: unknown): void => {
      const bad = malformedEvent(phase, apiObj);
      if (bad !== undefined) {
        // A dropped event leaves the cache behind: end this watch so the informer restarts.
        this.#o.onMalformed?.(`${path}: dropped ${bad}`);
        finish(new Error(`the watch of ${path} sent ${bad}`));
        controller?.abort();
        return;
      }
      events++;
      // The client's handler is async: a rejection it makes ends the watch rather than the process.
      const r = callback(phase, apiObj, watchObj) as unknown;
      if (r instanceof Promise)
        r.catch((e: unknown) => {
          finish(e);
          controller?.abort();
        });
    };
    try {
      controller = await super.watch(path, { ...query, allowWatchBookmarks: true, timeoutSeconds }, counted, finish);
    } catch (e) {
      finish(e);
      return aborted();
    }
    if (!finished) this.#o.onOpen();
    return controller;
  }
}
