import type { KubeConfig, KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import fetch from "node-fetch";

/** How a {@link listAll} reads a collection. */
export interface ListOptions {
  /** Items per page (`limit`); client-go's pager reads 500 at a time. */
  readonly pageSize: number;
  /** A bound on each page's request. */
  readonly pageTimeoutMs: number;
}

/** A LIST failure, with its HTTP status. */
export class ListError extends Error {
  readonly statusCode: number | undefined;
  /** A later page's continue token had expired (410): the list can start over. */
  readonly expiredPage: boolean;
  constructor(message: string, statusCode?: number, expiredPage = false) {
    super(message);
    this.name = "ListError";
    this.statusCode = statusCode;
    this.expiredPage = expiredPage;
  }
}

/** Why an item of a LIST cannot be cached: the informer keys its cache by metadata.name. */
const unusable = (item: unknown): boolean => {
  const metadata = (item as { metadata?: unknown } | null)?.metadata;
  return typeof metadata !== "object" || metadata === null || typeof (metadata as { name?: unknown }).name !== "string";
};

/**
 * Every object of a collection (`/api/v1/services`), read page by page with `limit` and
 * `continue` as client-go's pager does, as the plain JSON the API server sent. The client's typed
 * list methods would turn each item into a model class (times as Date objects, fields the model
 * does not know dropped); a watch event is plain JSON, so both paths give objects of one shape.
 * Items of a LIST carry no `kind`: the caller knows what it listed. Items the informer could not
 * cache (no metadata.name) are left out and counted in `dropped`.
 */
export const listAll = async (
  kc: KubeConfig,
  path: string,
  options: ListOptions,
): Promise<{ list: KubernetesListObject<KubernetesObject>; dropped: number }> => {
  // A continue token older than the last compaction is 410 Expired: start over from the first page,
  // as client-go's pager falls back to a full list (a few times at most).
  for (let attempt = 1; ; attempt++) {
    try {
      return await listPages(kc, path, options);
    } catch (e) {
      if (!(e instanceof ListError && e.expiredPage) || attempt >= 3) throw e;
    }
  }
};

const listPages = async (
  kc: KubeConfig,
  path: string,
  options: ListOptions,
): Promise<{ list: KubernetesListObject<KubernetesObject>; dropped: number }> => {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new ListError("no current cluster in the kubeconfig");
  const items: KubernetesObject[] = [];
  let dropped = 0;
  let token = "";
  let resourceVersion = "";
  do {
    const url = new URL(cluster.server + path);
    url.searchParams.set("limit", String(options.pageSize));
    if (token !== "") url.searchParams.set("continue", token);
    const init = await kc.applyToFetchOptions({});
    const response = await fetch(url, { ...init, method: "GET", timeout: options.pageTimeoutMs });
    const text = await response.text();
    const body = parse(text) as Answer | undefined;
    if (response.status !== 200) {
      const message = typeof body?.message === "string" ? body.message : response.statusText;
      throw new ListError(`list ${path}: ${message}`, response.status, token !== "" && response.status === 410);
    }
    if (body === undefined || !Array.isArray(body.items)) throw new ListError(`list ${path}: the answer is not a list`);
    for (const item of body.items as unknown[]) {
      if (unusable(item)) dropped++;
      else items.push(item as KubernetesObject);
    }
    resourceVersion = typeof body.metadata?.resourceVersion === "string" ? body.metadata.resourceVersion : "";
    token = typeof body.metadata?.continue === "string" ? body.metadata.continue : "";
  } while (token !== "");
  return { list: { metadata: { resourceVersion }, items }, dropped };
};

interface Answer {
  readonly metadata?: { readonly resourceVersion?: unknown; readonly continue?: unknown };
  readonly items?: unknown;
  readonly message?: unknown;
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};
