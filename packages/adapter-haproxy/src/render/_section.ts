import { hash8 } from "@portico/core";
import { INDENT } from "../_serverLine.js";

/** A rendered section, its skeleton (slot lines reduced to their names, as `readInstalled` reads them) and its hash. */
export interface Section {
  readonly text: string;
  readonly skeleton: string;
  readonly hash: string;
}

/** A section; its hash is kept from `was` when the skeleton did not change (a server moved within its slots). */
export const sectionOf = (text: string, skeleton: string, was: Section | undefined): Section => ({
  text,
  skeleton,
  hash: was !== undefined && was.skeleton === skeleton ? was.hash : hash8(skeleton),
});

/** A section without server slots: its skeleton is its text. */
export const plainSection = (text: string, was?: Section): Section => sectionOf(text, text, was);

/** A section's lines: its title, then the body indented. */
export const sectionLines = (title: string, body: readonly string[]): readonly string[] => [
  title,
  ...body.map((l) => `${INDENT}${l}`),
];
