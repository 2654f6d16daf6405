import type { Result } from "neverthrow";
import type { AdapterError, Plan } from "@portico/core";
import { renderHaproxyCached, type HaproxyRenderCache, type HaproxyRenderOptions } from "./render.js";

/**
 * Renders plan after plan, each from the cache of the last successful render: what a
 * long-running controller passes to {@link applyHaproxy} so a small change re-renders only the
 * sections it touches. The text is always what `renderHaproxy` gives for the same plan and options.
 */
export class HaproxyRenderer {
  #cache: HaproxyRenderCache | undefined;

  /** Render `plan` as `renderHaproxy` would. */
  render(plan: Plan, options: HaproxyRenderOptions): Result<string, AdapterError> {
    const r = renderHaproxyCached(plan, options, this.#cache);
    if (r.isOk()) this.#cache = r.value.cache;
    return r.map((x) => x.text);
  }
}
