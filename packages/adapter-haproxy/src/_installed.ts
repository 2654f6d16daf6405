import { hash8 } from "@portico/core";

/** One server slot as a rendered haproxy.cfg declares it. */
export interface SlotLine {
  readonly backend: string;
  /** `slot<n>`. */
  readonly slot: string;
  /** `address:port` as printed (`[v6]:port` for IPv6). */
  readonly endpoint: string;
  readonly weight: number;
  /** False for an empty slot (`disabled`). */
  readonly enabled: boolean;
  /** The server id after `#`: which node (or pod) fills the slot. */
  readonly id?: string;
  /** `backend/slot<n>` of a Cluster-policy slot that follows a shared check (`track`). */
  readonly track?: string;
}

/** What a haproxy.cfg rendered by Portico says: its slots per backend, and its shape. */
export interface Installed {
  /** Backend id to its slots, in slot order. */
  readonly backends: ReadonlyMap<string, readonly SlotLine[]>;
  /**
   * The file with every slot line reduced to its name and the `description` line dropped: two
   * files with equal skeletons differ only in what the runtime API can change.
   */
  readonly skeleton: string;
  /** A hash of the skeleton ({@link generationOf}); rendered into `description` so a running worker tells its config. */
  readonly generation: string;
}

const BACKEND = /^backend ([a-z0-9_-]{1,63})$/;
/** A server slot line as rendered: name, endpoint, weight, ` disabled` when empty, the tracked check slot, the server id. */
export const SLOT_LINE =
  /^ {4}server (slot[1-9][0-9]{0,3}) (\S+) weight ([0-9]{1,3})( disabled)?( track [a-z0-9_-]{1,63}\/slot[1-9][0-9]{0,3})?(?: # ([a-z0-9_-]{1,63}))?$/;
const DESCRIPTION = /^ {4}description /;

/**
 * Read a haproxy.cfg that Portico rendered. Lines it does not recognise are kept in the skeleton
 * as they are, so a hand-edited file simply compares unequal and is replaced by a reload.
 */
export const readInstalled = (text: string): Installed => {
  const backends = new Map<string, SlotLine[]>();
  const skeleton: string[] = [];
  let backend: string | undefined;
  for (const line of text.split("\n")) {
    // The prefix tests only skip the regexes on lines that cannot match them (big files have
    // hundreds of thousands of server lines).
    if (line.startsWith("    description ") && DESCRIPTION.test(line)) continue;
    const b = line.startsWith("backend ") ? BACKEND.exec(line) : null;
    if (b !== null) backend = b[1];
    else if (!line.startsWith(" ")) backend = undefined;
    const s = line.startsWith("    server slot") ? SLOT_LINE.exec(line) : null;
    if (s !== null && backend !== undefined) {
      const slots = backends.get(backend) ?? [];
      const track = s[5]?.slice(" track ".length);
      slots.push({
        backend,
        slot: s[1]!,
        endpoint: s[2]!,
        weight: Number(s[3]),
        enabled: s[4] === undefined,
        ...(s[6] === undefined ? {} : { id: s[6] }),
        ...(track === undefined ? {} : { track }),
      });
      backends.set(backend, slots);
      // What a slot tracks is fixed for the life of the file: part of its shape.
      skeleton.push(`    server ${s[1]!}${track === undefined ? "" : ` track ${track}`}`);
      continue;
    }
    skeleton.push(line);
  }
  const text2 = skeleton.join("\n");
  return { backends, skeleton: text2, generation: generationOf(skeletonSections(text2).map(hash8)) };
};

/**
 * The sections of a skeleton: the file's `global`, `defaults`, frontends and backends are
 * separated by one blank line, and the file ends with a newline.
 */
export const skeletonSections = (skeleton: string): string[] =>
  (skeleton.endsWith("\n") ? skeleton.slice(0, -1) : skeleton).split("\n\n");

/**
 * The generation of a skeleton from the hashes of its sections, in file order: a hash of hashes,
 * so a renderer that keeps most sections (a big file changed by one Service) hashes only the
 * sections that changed rather than the whole file.
 */
export const generationOf = (sectionHashes: readonly string[]): string => hash8(sectionHashes.join(" "));
