import type { Backend, Server } from "@portico/core";
import type { SlotLine } from "../_installed.js";
import { INDENT } from "../_serverLine.js";
import type { Memo } from "./_memo.js";
import { label, renderError, type Fail } from "./_renderError.js";
import type { Section } from "./_section.js";
import { guardServer, HINT_EVERY, slotLineOf, type CheckSlots } from "./_slotLines.js";
import type { PatchableSlots } from "./backend.js";

/** A backend as the cache keeps it. */
export interface CachedBackend {
  readonly backend: Backend;
  /** The check backend's slot assignment a Cluster-policy backend was aligned with. */
  readonly trackable: CheckSlots | undefined;
  /** The installed slots the layout started from, and the slots it produced. */
  readonly installed: readonly SlotLine[] | undefined;
  readonly slots: readonly SlotLine[];
  readonly section: Section;
  /** What a Cluster-policy backend's slots can be patched from (see {@link patchTracking}). */
  readonly patchable?: PatchableSlots;
}

// Beyond this many servers joining or leaving one backend at once, it is rendered again.
const PATCHED_SERVERS_MAX = 32;

/**
 * The slots whose node changed between two assignments of one check backend's slots, computed
 * once per render for all the backends that track it. Undefined when a patch cannot follow: the
 * slot count changed, or a node moved from one slot to another.
 */
export class SlotChanges {
  readonly #seen = new Map<CheckSlots, Map<CheckSlots, readonly number[] | undefined>>();

  of(before: CheckSlots, after: CheckSlots): readonly number[] | undefined {
    let row = this.#seen.get(before);
    if (row === undefined) this.#seen.set(before, (row = new Map()));
    if (!row.has(after)) row.set(after, changedSlots(before, after));
    return row.get(after);
  }
}

const changedSlots = (a: CheckSlots, b: CheckSlots): readonly number[] | undefined => {
  if (a === b) return [];
  if (a.backend !== b.backend || a.ids.length !== b.ids.length) return undefined;
  const out: number[] = [];
  for (let k = 0; k < a.ids.length; k++) {
    const x = a.ids[k];
    const y = b.ids[k];
    if (x === y) continue;
    if ((x !== undefined && b.servers.has(x)) || (y !== undefined && a.servers.has(y))) return undefined;
    out.push(k);
  }
  return out;
};

// Node order, then id: how the planner sorts a backend's servers.
const byNode = (x: Server, y: Server): number =>
  x.node < y.node ? -1 : x.node > y.node ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;

// A backend's fields apart from its servers are the very same values (the planner keeps their
// objects when it patches a backend's servers). Anything else, equal copies included, is left to
// a full render, which checks it.
const sameSettings = (a: Backend, b: Backend): boolean => {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const k in x)
    if (k !== "servers" && (x[k] !== y[k] || !Object.prototype.hasOwnProperty.call(y, k))) return false;
  for (const k in y) if (!Object.prototype.hasOwnProperty.call(x, k)) return false;
  return true;
};

/**
 * A Cluster-policy backend rendered again by patching the slot lines that changed: when a node
 * joins or leaves, every such backend changes one slot, and rebuilding hundreds of thousands of
 * lines for it would cost far more than the change. Gives exactly the section `renderBackend`
 * would, or undefined when it cannot tell that it does (settings changed, a node moved slots,
 * anything a full render would refuse), and the caller renders the backend in full.
 */
export const patchTracking = (
  was: CachedBackend,
  b: Backend,
  tracked: CheckSlots,
  installed: readonly SlotLine[] | undefined,
  memo: Memo,
  changes: SlotChanges,
): CachedBackend | undefined => {
  const p = was.patchable;
  const before = was.trackable;
  if (p === undefined || before === undefined || !sameSettings(was.backend, b)) return undefined;
  const checkSlots = changes.of(before, tracked);
  if (checkSlots === undefined) return undefined;
  // Which servers left and came, walking both lists in node order (a list in another order shows
  // the same server leaving and coming, and is rendered in full).
  const removed = new Set<Server>();
  const added: Server[] = [];
  const old = was.backend.servers;
  const now = b.servers;
  // The servers that stay are the same objects: skip the common head and tail first.
  let first = 0;
  while (first < old.length && first < now.length && old[first] === now[first]) first++;
  let endOld = old.length;
  let endNow = now.length;
  while (endOld > first && endNow > first && old[endOld - 1] === now[endNow - 1]) {
    endOld--;
    endNow--;
  }
  for (let i = first, j = first; i < endOld || j < endNow;) {
    const x = i < endOld ? old[i] : undefined;
    const y = j < endNow ? now[j] : undefined;
    if (x === y) {
      i++;
      j++;
      continue;
    }
    const order = x === undefined ? 1 : y === undefined ? -1 : byNode(x, y);
    if (order <= 0) removed.add(old[i++]!);
    if (order >= 0) added.push(now[j++]!);
    if (removed.size + added.length > PATCHED_SERVERS_MAX) return undefined;
  }
  if (added.some((x) => removed.has(x))) return undefined;
  const fail: Fail = (field) => (m) => renderError(`${label("backend", b.id)} ${field}: ${m}`, b.service);
  const layout = p.layout.slice();
  const touched = new Set<number>();
  // A slot whose node left the check backend must have lost its server too.
  for (const k of checkSlots) {
    const o = layout[k];
    if (o !== undefined && !removed.has(o)) return undefined;
    layout[k] = undefined;
    touched.add(k);
  }
  for (const r of removed) {
    const k = before.slotOf.get(String(r.track));
    if (k === undefined || p.layout[k] !== r) return undefined;
    layout[k] = undefined;
    touched.add(k);
  }
  // A new server goes to its node's slot, which must be free: one server per node.
  for (const a of added) {
    if (a.id !== a.track || guardServer(a, fail, tracked, memo) !== undefined) return undefined;
    const k = tracked.slotOf.get(a.id);
    if (k === undefined || layout[k] !== undefined) return undefined;
    layout[k] = a;
    touched.add(k);
  }
  // Each slot's line is found by its name (`server slotN ` appears once in a section), searching
  // from the hint before it; the lines between changed slots are shared, not copied.
  const text0 = was.section.text;
  const slots = was.slots.slice();
  const hints = p.hints.slice();
  let text = "";
  let at = 0;
  let shift = 0;
  for (const k of [...touched].sort((x, y) => x - y)) {
    const one = slotLineOf(b.id, k + 1, layout[k], b.family, tracked, memo, fail);
    if (!("line" in one)) return undefined;
    const start = text0.indexOf(
      `\n${INDENT}server slot${k + 1} `,
      Math.max(at, p.hints[Math.floor(k / HINT_EVERY)] ?? 0),
    );
    if (start < 0) return undefined;
    const end = text0.indexOf("\n", start + 1);
    text += text0.slice(at, start) + one.line;
    at = end < 0 ? text0.length : end;
    slots[k] = one.read;
    // The hints after this line move by the change in its length.
    shift += one.line.length - (at - start);
    for (let h = Math.floor(k / HINT_EVERY) + 1; h < hints.length; h++) hints[h] = p.hints[h]! + shift;
  }
  text += text0.slice(at);
  // Only slot contents changed: the skeleton, and so the section's hash, are the same.
  return {
    backend: b,
    trackable: tracked,
    installed,
    slots,
    section: { text, skeleton: was.section.skeleton, hash: was.section.hash },
    patchable: { layout, hints },
  };
};
