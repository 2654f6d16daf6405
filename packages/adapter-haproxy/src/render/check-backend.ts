import { err, ok, safeTry, type Result } from "neverthrow";
import { sameItems, type AdapterError, type CheckBackend, type HealthCheckConfig } from "@portico/core";
import { guardIdent } from "../_guards.js";
import type { SlotLine } from "../_installed.js";
import { layoutSlots, sameId } from "../_slots.js";
import { checkTimeoutLines, renderHttpCheck } from "./_healthCheck.js";
import type { Memo } from "./_memo.js";
import { label, renderError, unique, type Fail } from "./_renderError.js";
import { sectionLines, sectionOf, type Section } from "./_section.js";
import { guardServer, slotServerLines, type CheckSlots } from "./_slotLines.js";

/** A rendered check backend. */
export interface RenderedCheck {
  readonly check: CheckBackend;
  /** The installed slots the layout started from, and the slots it produced. */
  readonly installed: readonly SlotLine[] | undefined;
  readonly slots: readonly SlotLine[];
  /** What the Cluster-policy backends tracking this check backend align with. */
  readonly trackable: CheckSlots;
  readonly section: Section;
}

/**
 * The shared kube-proxy health checks: one slot per node, never the target of a frontend.
 * Cluster-policy backends `track` these slots, so the number of checks does not grow with
 * Services. A node keeps its slot while it stays (by id, whatever its address), and so does every
 * tracking backend's server. `was` is what it rendered last time: its {@link CheckSlots} object
 * is kept while the slots hold the same nodes.
 */
export const renderCheckBackend = (
  c: CheckBackend,
  installed: readonly SlotLine[] | undefined,
  hcConfig: HealthCheckConfig,
  memo: Memo,
  was: RenderedCheck | undefined,
): Result<RenderedCheck, AdapterError> =>
  safeTry(function* () {
    const fail: Fail = (field) => (m) => renderError(`${label("backend", c.id)} ${field}: ${m}`);
    const id = yield* guardIdent(c.id).mapErr(fail("id"));
    const h = yield* renderHttpCheck(c.healthCheck, fail, hcConfig);
    yield* unique(c.servers, `${label("backend", c.id)} server`);
    // They only check: weight 1.
    const weighed = c.servers.map((s) => ({ ...s, weight: 1 }));
    for (const s of weighed) {
      const bad = guardServer(s, fail, undefined, memo);
      if (bad !== undefined) return err(bad);
    }
    const layout = layoutSlots(weighed, installed, sameId);
    // Empty slots wait at the unspecified address of the checks' family (the first node's).
    const family = c.servers[0]?.address.includes(":") === true ? 6 : 4;
    // Only checks connect here, never a client: the connect timeout can be the check's.
    const head = sectionLines(`backend ${id}`, [
      ...checkTimeoutLines(h.timeoutMs, true),
      ...h.lines,
      `default-server check port ${h.port} ${h.timing}`,
    ]).join("\n");
    const servers = yield* slotServerLines(head, id, layout, family, installed, fail, undefined, memo);
    const ids = layout.map((s) => s?.id as string | undefined);
    const kept =
      was !== undefined && was.trackable.backend === id && sameItems(was.trackable.ids, ids)
        ? was.trackable
        : undefined;
    const slotOf = new Map<string, number>();
    ids.forEach((x, i) => x !== undefined && slotOf.set(x, i));
    const trackable: CheckSlots = kept ?? {
      backend: id,
      servers: new Set<string>(c.servers.map((x) => x.id)),
      slots: layout,
      ids,
      slotOf,
    };
    return ok({
      check: c,
      installed,
      slots: servers.slots,
      trackable,
      section: sectionOf(servers.text, head + servers.skeleton, was?.section),
    });
  });
