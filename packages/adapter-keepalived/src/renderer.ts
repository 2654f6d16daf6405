import type { Result } from "neverthrow";
import type { AdapterError, Plan } from "@portico/core";
import { renderKeepalivedCached, type KeepalivedRenderCache, type KeepalivedRenderOptions } from "./render.js";

/**
 * Renders plan after plan, each from the cache of the last successful render: what a
 * long-running controller keeps so a plan whose VRRP instances did not change re-renders none of
 * them. The text is always what `renderKeepalived` gives for the same plan and options.
 */
export class KeepalivedRenderer {
  #cache: KeepalivedRenderCache | undefined;

  /** Render `plan` as `renderKeepalived` would. */
  render(plan: Plan, options: KeepalivedRenderOptions): Result<string, AdapterError> {
    const r = renderKeepalivedCached(plan, options, this.#cache);
    if (r.isOk()) this.#cache = r.value.cache;
    return r.map((x) => x.text);
  }
}
