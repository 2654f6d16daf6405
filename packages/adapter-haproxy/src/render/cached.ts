import { ok, safeTry, type Result } from "neverthrow";
import type { AdapterError, Frontend, HealthCheckConfig, Plan } from "@portico/core";
import { readInstalled, type Installed, type SlotLine } from "../_installed.js";
import { Memo } from "./_memo.js";
import { plainSection, type Section } from "./_section.js";
import { patchTracking, SlotChanges, type CachedBackend } from "./_slotPatch.js";
import { renderBackend } from "./backend.js";
import { renderCheckBackend, type RenderedCheck } from "./check-backend.js";
import { renderFrontend } from "./frontend.js";
import type { HaproxyRenderOptions } from "./full.js";
import { renderHead, renderPrometheus, withGeneration } from "./global.js";

/** What {@link renderHaproxyCached} returns. */
export interface RenderedHaproxy {
  /** The file's sections in order: the text is these joined by a blank line, plus a final newline. */
  readonly sections: readonly string[];
  /** The file's text (joined on first use). */
  readonly text: string;
  /** For the next render. */
  readonly cache: HaproxyRenderCache;
}

/**
 * What {@link renderHaproxyCached} keeps between renders: each backend's and frontend's rendered
 * section, keyed by the plan object it came from. The planner reuses the objects of Services it
 * did not re-plan, so a small change re-renders only the sections it touches. A value, never
 * shared state: pass the one a render returned to the next render.
 */
export interface HaproxyRenderCache {
  /** The text this cache's render produced. */
  readonly text: string;
  readonly settings: HealthCheckConfig;
  readonly frontends: ReadonlyMap<string, CachedFrontend>;
  readonly backends: ReadonlyMap<string, CachedBackend>;
  readonly checks: ReadonlyMap<string, RenderedCheck>;
}

interface CachedFrontend {
  readonly frontend: Frontend;
  readonly maxconn: number | undefined;
  readonly section: Section;
}

/**
 * `renderHaproxy`, reusing the sections of a previous render: a backend, frontend or check
 * backend whose plan object is the one `cache` rendered (and whose installed slots and shared
 * checks are unchanged) keeps its text, and a Cluster-policy backend that a node joined or left
 * has only its changed slot lines patched. The output is byte-identical to `renderHaproxy`'s,
 * errors included; the returned cache goes to the next call.
 */
export const renderHaproxyCached = (
  plan: Plan,
  options: HaproxyRenderOptions,
  cache?: HaproxyRenderCache,
): Result<RenderedHaproxy, AdapterError> =>
  safeTry(function* () {
    const header = options.header !== false;
    const hcConfig = plan.settings.healthCheck;
    const reuse = cache !== undefined && cache.settings === hcConfig ? cache : undefined;
    const backendIds = new Set<string>(plan.backends.map((b) => b.id));
    // The cache knows the slots of the text it rendered: when that text is what is installed, it
    // need not be parsed again.
    const fromCache = reuse !== undefined && options.previous !== undefined && options.previous === reuse.text;
    const previous: Installed | undefined =
      options.previous === undefined || fromCache ? undefined : readInstalled(options.previous);
    const installedFor = (id: string): readonly SlotLine[] | undefined =>
      fromCache ? (reuse.backends.get(id) ?? reuse.checks.get(id))?.slots : previous?.backends.get(id);
    const memo = new Memo();
    const head = yield* renderHead(plan, header);
    const sections: Section[] = [...head.sections];
    const nextChecks = new Map<string, RenderedCheck>();
    for (const c of plan.checks ?? []) {
      const installed = installedFor(c.id);
      const was = reuse?.checks.get(c.id);
      nextChecks.set(
        c.id,
        was !== undefined && was.check === c && was.installed === installed
          ? was
          : yield* renderCheckBackend(c, installed, hcConfig, memo, was),
      );
    }
    const nextBackends = new Map<string, CachedBackend>();
    const slotChanges = new SlotChanges();
    for (const b of plan.backends) {
      // A Cluster-policy backend's text follows the slot assignment of the check backend it tracks.
      const tracked = b.healthCheck.kind === "track" ? nextChecks.get(b.healthCheck.backend)?.trackable : undefined;
      const installed = installedFor(b.id);
      const was = reuse?.backends.get(b.id);
      // A Cluster-policy backend's text follows its servers and the check slots alone, not the
      // installed file; a node joining or leaving patches the slot lines that changed.
      const kept =
        was !== undefined &&
        was.backend === b &&
        was.trackable === tracked &&
        (was.installed === installed || tracked !== undefined);
      const patched =
        kept || tracked === undefined || was === undefined
          ? undefined
          : patchTracking(was, b, tracked, installed, memo, slotChanges);
      nextBackends.set(
        b.id,
        kept
          ? was
          : (patched ?? {
              backend: b,
              trackable: tracked,
              installed,
              ...(yield* renderBackend(b, nextChecks, installed, hcConfig, memo, was?.section)),
            }),
      );
    }
    sections.push(...(yield* renderPrometheus(plan.settings.haproxy)));
    const nextFrontends = new Map<string, CachedFrontend>();
    for (const f of plan.frontends) {
      const was = reuse?.frontends.get(f.id);
      const entry =
        was !== undefined && was.frontend === f && was.maxconn === head.maxconn && backendIds.has(f.backend)
          ? was
          : {
              frontend: f,
              maxconn: head.maxconn,
              section: plainSection((yield* renderFrontend(f, backendIds, head.maxconn)).join("\n"), was?.section),
            };
      nextFrontends.set(f.id, entry);
      sections.push(entry.section);
    }
    for (const b of nextBackends.values()) sections.push(b.section);
    for (const c of nextChecks.values()) sections.push(c.section);
    const texts = withGeneration(sections, header);
    // The text of a big file is tens of megabytes: it is joined when first asked for (to write
    // it, or to compare it with the installed file), not as part of rendering.
    let text: string | undefined;
    const textOf = (): string => (text ??= `${texts.join("\n\n")}\n`);
    return ok({
      sections: texts,
      get text() {
        return textOf();
      },
      cache: {
        get text() {
          return textOf();
        },
        settings: hcConfig,
        frontends: nextFrontends,
        backends: nextBackends,
        checks: nextChecks,
      },
    });
  });

/**
 * Renders plan after plan, each from the cache of the last successful render: what a
 * long-running controller passes to `applyHaproxy` so a small change re-renders only the
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
