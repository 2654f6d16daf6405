import type { Plan, ServiceKey } from "@portico/core";

/** One `[ALERT]` from `haproxy -c`, and the proxy section it points at when we can tell. */
export interface Alert {
  /** The alert without its `[ALERT] (pid) :` prefix, the temp file path replaced by `label`. */
  readonly text: string;
  /** `frontend <id>` / `backend <id>` / `global` / `defaults`. */
  readonly section?: { readonly kind: string; readonly name: string };
}

// Section keywords HAProxy recognises at the start of a line; everything else belongs to the
// section above it, whatever its indentation.
const SECTIONS = new Set([
  "global",
  "defaults",
  "frontend",
  "backend",
  "listen",
  "peers",
  "resolvers",
  "userlist",
  "program",
  "ring",
  "cache",
  "mailers",
  "http-errors",
]);
const ALERT_PREFIX = /^\[ALERT\]\s*\(\d+\)\s*:\s*/;
// Alerts raised after parsing carry no line number but name the proxy instead.
const NAMED_PROXY = /(?:Proxy|frontend|backend) '([A-Za-z0-9_.:-]+)'|'server ([A-Za-z0-9_.:-]+)\//;

/**
 * The `[ALERT]` lines of haproxy's output. `file` is the path haproxy was given: line references
 * `[file:LINE]` are matched on it exactly (an IPv6 address in brackets looks alike) and rewritten
 * to `[label:LINE]`, so messages do not carry a random temp path.
 */
export const parseAlerts = (output: string, file: string, label: string, text: string): Alert[] =>
  output
    .split("\n")
    .filter((l) => ALERT_PREFIX.test(l))
    .map((l) => {
      const body = l.replace(ALERT_PREFIX, "").trimEnd();
      const ref = new RegExp(`\\[${escapeRegExp(file)}:(\\d+)\\]`).exec(body);
      const section = ref?.[1] !== undefined ? sectionAt(text, Number(ref[1])) : namedSection(text, body);
      const shown = body.split(file).join(label);
      return section === undefined ? { text: shown } : { text: shown, section };
    });

/** The section that holds 1-based line `line` of `text`. */
export const sectionAt = (text: string, line: number): Alert["section"] => {
  const lines = text.split("\n").slice(0, line);
  for (let i = lines.length - 1; i >= 0; i--) {
    const [kind, name = ""] = (lines[i] ?? "").trim().split(/\s+/);
    if (kind !== undefined && SECTIONS.has(kind)) return { kind, name };
  }
  return undefined;
};

/** The Service behind a `frontend`/`backend` of the plan, if the section is one. */
export const serviceOf = (plan: Plan | undefined, section: Alert["section"]): ServiceKey | undefined => {
  if (plan === undefined || section === undefined) return undefined;
  if (section.kind === "frontend") return plan.frontends.find((f) => f.id === section.name)?.service;
  if (section.kind === "backend") return plan.backends.find((b) => b.id === section.name)?.service;
  return undefined;
};

const namedSection = (text: string, body: string): Alert["section"] => {
  const m = NAMED_PROXY.exec(body);
  const name = m?.[1] ?? m?.[2];
  if (name === undefined) return undefined;
  // Find how the named proxy is declared, so the section kind is right.
  for (const l of text.split("\n")) {
    const [kind, declared] = l.trim().split(/\s+/);
    if (declared === name && (kind === "frontend" || kind === "backend" || kind === "listen")) return { kind, name };
  }
  return undefined;
};

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
