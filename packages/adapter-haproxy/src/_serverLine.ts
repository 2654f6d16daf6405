import { IDENT_PATTERN as NAME } from "@portico/core";

// The grammar of a haproxy.cfg `server` line as Portico prints it, printed and read in one place:
// `server <name> <endpoint> weight <w>[ disabled][ track <backend>/<server>][ # <id>]`.

/** The parts of a `server` line. */
export interface ServerLine {
  /** The server's name: `slot<n>` on every line Portico renders. */
  readonly slot: string;
  /** `address:port` as printed (`[v6]:port` for IPv6). */
  readonly endpoint: string;
  readonly weight: number;
  /** False for an empty slot (`disabled`). */
  readonly enabled: boolean;
  /** The server id after `#`: which node (or pod) fills the slot. */
  readonly id?: string;
  /** `backend/server` this server follows (`track`). */
  readonly track?: string;
}

/** The indent of every line inside a section. */
export const INDENT = "    ";

const SLOT = "slot[1-9][0-9]{0,3}";
const grammar = (name: string, tracked: string): RegExp =>
  new RegExp(
    `^ {4}server (${name}) (\\S+) weight ([0-9]{1,3})( disabled)?(?: track (${NAME}\\/${tracked}))?(?: # (${NAME}))?$`,
  );
// A slot line: the only server lines a render's slots are read back from.
const SLOT_LINE = grammar(SLOT, SLOT);
// Any server line, slot or named.
const SERVER_LINE = grammar(NAME, NAME);

/** A slot's name: `slot1` to `slot9999`, the slots {@link readSlotLine} reads. */
export const SLOT_NAME = new RegExp(`^${SLOT}$`);

/** The highest slot number {@link readSlotLine} reads. */
export const MAX_READ_SLOT = 9999;

/** A server line without its indent. */
export const printServerLine = (s: ServerLine): string =>
  `server ${s.slot} ${s.endpoint} weight ${s.weight}${s.enabled ? "" : " disabled"}${
    s.track === undefined ? "" : ` track ${s.track}`
  }${s.id === undefined ? "" : ` # ${s.id}`}`;

/** A slot line reduced to what is fixed for the life of the file, its name and what it tracks, without its indent. */
export const printSlotSkeleton = (slot: string, track: string | undefined): string =>
  `server ${slot}${track === undefined ? "" : ` track ${track}`}`;

// Both patterns capture the same groups: name, endpoint, weight, `disabled`, track, id.
const fromMatch = (m: RegExpExecArray): ServerLine => ({
  slot: m[1]!,
  endpoint: m[2]!,
  weight: Number(m[3]),
  enabled: m[4] === undefined,
  ...(m[6] === undefined ? {} : { id: m[6] }),
  ...(m[5] === undefined ? {} : { track: m[5] }),
});

/** An indented slot line of `backend` as rendered (`slot1`..`slot9999`, tracking a slot), or undefined. */
export const readSlotLine = (
  line: string,
  backend: string,
): (ServerLine & { readonly backend: string }) | undefined => {
  const m = SLOT_LINE.exec(line);
  return m === null ? undefined : { backend, ...fromMatch(m) };
};

/** An indented server line of any name, or undefined. */
export const readServerLine = (line: string): ServerLine | undefined => {
  const m = SERVER_LINE.exec(line);
  return m === null ? undefined : fromMatch(m);
};
