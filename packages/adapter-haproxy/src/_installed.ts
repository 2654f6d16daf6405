import { hash8 } from "@portico/core";
import { IDENT_PATTERN } from "@portico/core";
import { INDENT, printSlotSkeleton, readSlotLine, type ServerLine } from "./_serverLine.js";

/** One server slot as a rendered haproxy.cfg declares it. */
export interface SlotLine extends ServerLine {
  readonly backend: string;
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

const BACKEND = new RegExp(`^backend (${IDENT_PATTERN})$`);
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
    const s = backend !== undefined && line.startsWith("    server slot") ? readSlotLine(line, backend) : undefined;
    if (s !== undefined) {
      const slots = backends.get(s.backend) ?? [];
      slots.push(s);
      backends.set(s.backend, slots);
      // What a slot tracks is fixed for the life of the file: part of its shape.
      skeleton.push(`${INDENT}${printSlotSkeleton(s.slot, s.track)}`);
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
