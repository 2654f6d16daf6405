import { err, ok, type Result } from "neverthrow";
import type { AdapterError, Backend, Server } from "@portico/core";
import { formatEndpoint } from "../_format.js";
import { guardInt, guardPort, show } from "../_guards.js";
import type { SlotLine } from "../_installed.js";
import { INDENT, MAX_READ_SLOT, printServerLine, printSlotSkeleton } from "../_serverLine.js";
import type { Memo } from "./_memo.js";
import type { Fail } from "./_renderError.js";

/**
 * A check backend as its trackers see it: its server ids and its slot layout. The object is kept
 * while the layout assigns the same server ids to the same slots, so a tracking backend compares
 * it by identity.
 */
export interface CheckSlots {
  readonly backend: string;
  readonly servers: ReadonlySet<string>;
  readonly slots: readonly (Server | undefined)[];
  /** The server id in each slot (undefined for an empty slot). */
  readonly ids: readonly (string | undefined)[];
  /** The slot index of each server id. */
  readonly slotOf: ReadonlyMap<string, number>;
}

/** Every this many slots, where the slot's line starts in a section is kept (so a patch searches a few lines). */
export const HINT_EVERY = 16;

/**
 * A head and its server lines, each preceded by a newline and the indent; `skeleton` (the lines
 * alone) as `readInstalled` reduces them.
 */
export interface ServerLines {
  readonly text: string;
  readonly skeleton: string;
  readonly slots: readonly SlotLine[];
  /** Where every {@link HINT_EVERY}th slot's line starts in `text`. */
  readonly hints: readonly number[];
}

const isInt = (value: unknown, min: number, max: number): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;

/**
 * Guard one server: every server goes through here, hundreds of thousands of them in a big
 * cluster, so guards that repeat across backends (a node's id and address) are answered once per
 * render, and the answer is the error or undefined, with no Result per server.
 */
export const guardServer = (
  s: Server,
  fail: Fail,
  trackIn: CheckSlots | undefined,
  memo: Memo,
): AdapterError | undefined => {
  const idR = memo.ident(s.id);
  if (idR.isErr()) return fail("server id")(idR.error);
  const id = idR.value;
  const addressR = memo.ip(s.address);
  if (addressR.isErr()) return fail(`server ${id} address`)(addressR.error);
  if (!isInt(s.port, 1, 65535)) return fail(`server ${id} port`)(guardPort(s.port)._unsafeUnwrapErr());
  // 0 drains the server: no new connections, existing ones finish.
  if (!isInt(s.weight, 0, 256)) return fail(`server ${id} weight`)(guardInt(s.weight, 0, 256)._unsafeUnwrapErr());
  if (trackIn !== undefined) {
    const targetR = memo.ident(s.track);
    if (targetR.isErr()) return fail(`server ${id} track`)(targetR.error);
    const target = targetR.value;
    if (!trackIn.servers.has(target))
      return fail(`server ${id} track`)(`${show(target)} is not a server of ${trackIn.backend}`);
  }
  return undefined;
};

// An empty slot waits at the unspecified address of the backend's family until the runtime API
// gives it a node, in maintenance (`disabled`), so it is never checked nor chosen.
const emptyEndpoint = (family: Backend["family"]): string => (family === 6 ? "[::]:1" : "0.0.0.0:1");

/**
 * The line of slot `slot` (its server already guarded, or empty), its skeleton, and what
 * `readInstalled` reads back from it, built from the parts rather than parsed again. A tracking
 * slot follows the check backend's slot of the same number.
 */
export const slotLineOf = (
  backend: string,
  slot: number,
  s: Server | undefined,
  family: Backend["family"],
  trackIn: CheckSlots | undefined,
  memo: Memo,
  fail: Fail,
): { readonly line: string; readonly skeleton: string; readonly read: SlotLine } | AdapterError => {
  const track = trackIn === undefined ? undefined : `${trackIn.backend}/slot${slot}`;
  const name = `slot${slot}`;
  const skeleton = `\n${INDENT}${printSlotSkeleton(name, track)}`;
  if (s === undefined) {
    const read: SlotLine = {
      backend,
      slot: name,
      endpoint: emptyEndpoint(family),
      weight: 0,
      enabled: false,
      ...(track === undefined ? {} : { track }),
    };
    return { line: `\n${INDENT}${printServerLine(read)}`, skeleton, read };
  }
  const address = memo.ip(s.address);
  if (address.isErr()) return fail(`server ${String(s.id)} address`)(address.error);
  const read: SlotLine = {
    backend,
    slot: name,
    endpoint: formatEndpoint(address.value, s.port),
    weight: s.weight,
    enabled: true,
    id: s.id,
    ...(track === undefined ? {} : { track }),
  };
  return { line: `\n${INDENT}${printServerLine(read)}`, skeleton, read };
};

/**
 * A section's head and the lines of its slot layout (servers already guarded), the lines'
 * skeleton, what `readInstalled` reads back from them, and the installed slots again when they are
 * the same, so the next render sees them unchanged. The text is joined from its lines in one flat
 * string, which a later patch searches without copying it first. Slots past the ones
 * `readInstalled` reads stay whole in the skeleton.
 */
export const slotServerLines = (
  head: string,
  backend: string,
  layout: readonly (Server | undefined)[],
  family: Backend["family"],
  installed: readonly SlotLine[] | undefined,
  fail: Fail,
  trackIn: CheckSlots | undefined,
  memo: Memo,
): Result<ServerLines, AdapterError> => {
  const text: string[] = [head];
  let length = head.length;
  const hints: number[] = [];
  let skeleton = "";
  const slots: SlotLine[] = [];
  for (const [i, s] of layout.entries()) {
    const slot = i + 1;
    if (i % HINT_EVERY === 0) hints.push(length);
    const one = slotLineOf(backend, slot, s, family, trackIn, memo, fail);
    if (!("line" in one)) return err(one);
    text.push(one.line);
    length += one.line.length;
    if (slot <= MAX_READ_SLOT) {
      skeleton += one.skeleton;
      slots.push(one.read);
    } else skeleton += one.line;
  }
  const same =
    installed !== undefined && installed.length === slots.length && installed.every((x, i) => sameSlot(x, slots[i]!));
  return ok({ text: text.join(""), skeleton, slots: same ? installed : slots, hints });
};

const sameSlot = (a: SlotLine, b: SlotLine): boolean =>
  a.backend === b.backend &&
  a.slot === b.slot &&
  a.endpoint === b.endpoint &&
  a.weight === b.weight &&
  a.enabled === b.enabled &&
  a.id === b.id &&
  a.track === b.track;
