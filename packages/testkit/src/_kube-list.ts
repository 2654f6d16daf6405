import { randomUUID } from "node:crypto";
import { apiVersionOf, statusObject, type Obj, type Resource } from "./_kube-wire.js";

/** The rest of a paginated list: the items as they were when its first page was served. */
interface Page {
  readonly resource: Resource;
  readonly rv: number;
  readonly items: readonly Obj[];
}

/**
 * LIST responses as kube-apiserver gives them: with `limit`, pages of at most that many items
 * and a `continue` token; every page is cut from the one snapshot the first page was served from
 * (its resourceVersion on every page), a token can be used again (it names a place in that
 * snapshot), and a token older than the last compaction is 410 Expired.
 */
export class ListPager {
  readonly #pages = new Map<string, Page>();

  /** The answer to one LIST: `current` gives the items (without kind) at `rv` for a first page. */
  answer(
    resource: Resource,
    query: URLSearchParams,
    current: () => readonly Obj[],
    rv: number,
    compactedRv: number,
  ): { status: number; payload: unknown } {
    const token = query.get("continue");
    let page: Page;
    if (token !== null && token !== "") {
      const rest = this.#pages.get(token);
      if (rest === undefined || rest.resource !== resource) {
        return { status: 400, payload: statusObject(400, "BadRequest", "continue key is not valid") };
      }
      if (rest.rv < compactedRv) {
        const message = "The provided continue parameter is too old to display a consistent list result.";
        return { status: 410, payload: statusObject(410, "Expired", message) };
      }
      page = rest;
    } else page = { resource, rv, items: current() };
    const limit = Number(query.get("limit") ?? "0");
    const more = limit > 0 && page.items.length > limit;
    const metadata: Record<string, unknown> = { resourceVersion: String(page.rv) };
    if (more) {
      const next = randomUUID();
      this.#pages.set(next, { ...page, items: page.items.slice(limit) });
      metadata["continue"] = next;
      metadata["remainingItemCount"] = page.items.length - limit;
    }
    const items = more ? page.items.slice(0, limit) : page.items;
    return {
      status: 200,
      payload: { apiVersion: apiVersionOf(resource), kind: `${resource.kind}List`, metadata, items },
    };
  }
}
