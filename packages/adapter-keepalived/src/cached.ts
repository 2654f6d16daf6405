import { ok, type Result } from "neverthrow";
import { sameItems, type AdapterError, type Plan, type VrrpInstance } from "@portico/core";
import { file } from "./_conf.js";
import { headSections, instanceSection } from "./_sections.js";
import { checkInstances, nodeHead, type CheckedInstance, type InstanceView } from "./_view.js";
import type { KeepalivedRenderOptions } from "./render.js";

/** What {@link renderKeepalivedCached} returns. */
export interface RenderedKeepalived {
  readonly text: string;
  /** For the next render. */
  readonly cache: KeepalivedRenderCache;
}

/**
 * What {@link renderKeepalivedCached} keeps between renders: each VRRP instance's checked view and
 * rendered block, keyed by the plan object it came from (the planner keeps the objects of
 * instances that did not change). A value, never shared state: pass the one a render returned to
 * the next render.
 */
export interface KeepalivedRenderCache {
  /** What every instance block depends on besides its instance: the LB node's view, as text. */
  readonly node: string;
  /** The plan's instance list, and its blocks joined, as rendered. */
  readonly list: readonly VrrpInstance[];
  readonly blocks: string;
  readonly instances: ReadonlyMap<VrrpInstance, CachedInstance>;
}

interface CachedInstance extends CheckedInstance {
  readonly block: string;
}

/**
 * `renderKeepalived`, reusing the checks and blocks of a previous render for the VRRP
 * instances whose plan objects it rendered (with the same LB node view). The output is
 * byte-identical to `renderKeepalived`'s, errors included; the returned cache goes to the next call.
 */
export const renderKeepalivedCached = (
  plan: Plan,
  options: KeepalivedRenderOptions,
  cache?: KeepalivedRenderCache,
): Result<RenderedKeepalived, AdapterError> =>
  nodeHead(plan, options.node).andThen((head) => {
    const node = JSON.stringify(head);
    const reuse = cache !== undefined && cache.node === node ? cache : undefined;
    // The instance blocks, joined, are one more section (none without instances).
    const text = (count: number, blocks: string): string =>
      file([...headSections(head, count), ...(count === 0 ? [] : [blocks])]);
    // The same list of the same instances passed every check last time, and would again.
    if (reuse !== undefined && sameItems(reuse.list, plan.vrrpInstances))
      return ok({ text: text(reuse.list.length, reuse.blocks), cache: reuse });
    return checkInstances(plan, head.name, (inst) => reuse?.instances.get(inst)).map(({ instances, checked }) => {
      const next = new Map<VrrpInstance, CachedInstance>();
      const byView = new Map<InstanceView, CachedInstance>();
      for (const [inst, c] of checked) {
        const kept = reuse?.instances.get(inst);
        const entry =
          kept !== undefined && kept.view === c.view ? kept : { ...c, block: instanceSection(head, c.view) };
        next.set(inst, entry);
        byView.set(c.view, entry);
      }
      const blocks = instances.map((v) => byView.get(v)!.block).join("\n\n");
      return {
        text: text(instances.length, blocks),
        cache: { node, list: plan.vrrpInstances, blocks, instances: next },
      };
    });
  });

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
