import type { ReadFn } from "@portico/core";
import { IDENT_PATTERN } from "@portico/core";
import { readServerLine } from "./_serverLine.js";

/** A server line of a haproxy.cfg Portico rendered: a slot (of a backend or of a shared check backend), or a named server. */
export interface LayoutServer {
  /** The name HAProxy knows it by: `slot<n>`, or the server's id for named servers. */
  readonly name: string;
  /**
   * The plan's server id (`node_...`, `pod_...`): the slot's comment, or the name itself when the
   * line has none (a tracking slot without one belongs to the node of the check slot it tracks).
   */
  readonly id: string;
  /** `address:port` as written (`[v6]:port` for IPv6). */
  readonly endpoint: string;
  readonly weight: number;
  /** False for an empty slot (`disabled`). */
  readonly enabled: boolean;
  /** `backend/server` this server follows (`track`). */
  readonly tracks?: string;
}

/** A frontend: where it listens and the backend it sends to. */
export interface LayoutFrontend {
  readonly id: string;
  /** The bind address (no brackets) and port. */
  readonly binds: readonly { readonly address: string; readonly port: number }[];
  readonly backend?: string;
}

/** What a rendered haproxy.cfg declares: frontends and backends, in file order. */
export interface HaproxyLayout {
  readonly frontends: readonly LayoutFrontend[];
  readonly backends: ReadonlyMap<string, readonly LayoutServer[]>;
}

const SECTION = new RegExp(`^(frontend|backend) (${IDENT_PATTERN})$`);
const BIND = /^ {4}bind (?:\[([0-9a-f:.]+)\]|([0-9.]+)):([0-9]{1,5})\b/;
const DEFAULT_BACKEND = new RegExp(`^ {4}default_backend (${IDENT_PATTERN})$`);
/**
 * Read the frontends and backends of a haproxy.cfg that Portico rendered. Lines it does not
 * recognise are skipped: this is a view of the file for `portico status`, never a parser of
 * arbitrary HAProxy configuration.
 */
export const readLayout: ReadFn<HaproxyLayout> = (text) => {
  const frontends: { id: string; binds: { address: string; port: number }[]; backend?: string }[] = [];
  const backends = new Map<string, LayoutServer[]>();
  let section: { kind: string; id: string } | undefined;
  for (const line of text.split("\n")) {
    const s = SECTION.exec(line);
    if (s !== null) {
      section = { kind: s[1]!, id: s[2]! };
      if (section.kind === "frontend") frontends.push({ id: section.id, binds: [] });
      else backends.set(section.id, []);
      continue;
    }
    if (!line.startsWith(" ")) section = undefined;
    if (section === undefined) continue;
    if (section.kind === "frontend") {
      const fe = frontends[frontends.length - 1]!;
      const b = BIND.exec(line);
      if (b !== null) fe.binds.push({ address: (b[1] ?? b[2])!, port: Number(b[3]) });
      const d = DEFAULT_BACKEND.exec(line);
      if (d !== null) fe.backend = d[1]!;
      continue;
    }
    const m = readServerLine(line);
    if (m === undefined) continue;
    backends.get(section.id)!.push({
      name: m.slot,
      id: m.id ?? m.slot,
      endpoint: m.endpoint,
      weight: m.weight,
      enabled: m.enabled,
      ...(m.track === undefined ? {} : { tracks: m.track }),
    });
  }
  return { frontends, backends };
};
