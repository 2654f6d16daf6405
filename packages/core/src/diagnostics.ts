import type { Diagnostic, ObjectRef, Severity } from "./model.js";

/** describeRef: `Kind namespace/name` for messages. */
export const describeRef = (ref: ObjectRef): string =>
  ref.namespace !== undefined
    ? `${ref.kind} ${ref.namespace}/${ref.name ?? "?"}`
    : ref.name !== undefined
      ? `${ref.kind} ${ref.name}`
      : ref.kind;

/** sortDiagnostics: by object, field, reason and message, so output never depends on input order. */
export const sortDiagnostics = (list: readonly Diagnostic[]): Diagnostic[] =>
  [...list].sort(
    (a, b) =>
      cmp(refKey(a.object), refKey(b.object)) ||
      cmp(a.field ?? "", b.field ?? "") ||
      cmp(a.reason, b.reason) ||
      cmp(a.message, b.message),
  );

/** fieldDiagnostic: a problem with one field of an object, its message prefixed by the object and the field. */
export const fieldDiagnostic = (
  ref: ObjectRef,
  severity: Severity,
  reason: string,
  field: string,
  message: string,
): Diagnostic => ({ severity, reason, object: ref, field, message: `${describeRef(ref)}: ${field}: ${message}` });

const refKey = (r: ObjectRef): string => `${r.kind}\u0000${r.namespace ?? ""}\u0000${r.name ?? ""}`;
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** How many diagnostics the plan keeps about one object; the rest are summarised in one more. */
export const DIAGNOSTICS_PER_OBJECT = 5;

const RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };

/**
 * boundDiagnostics: at most `max` diagnostics per object, the most severe first, plus one
 * `MoreDiagnostics` summary of the rest, so one object cannot make a plan, a status or a log
 * grow without bound. The result is sorted as {@link sortDiagnostics} sorts.
 */
export const boundDiagnostics = (list: readonly Diagnostic[], max = DIAGNOSTICS_PER_OBJECT): Diagnostic[] => {
  // No object can have more than all of them: every Service's own few skip the grouping.
  if (list.length <= max) return sortDiagnostics(list);
  const byObject = new Map<string, Diagnostic[]>();
  for (const d of list) {
    const k = refKey(d.object);
    const mine = byObject.get(k);
    if (mine === undefined) byObject.set(k, [d]);
    else mine.push(d);
  }
  if ([...byObject.values()].every((l) => l.length <= max)) return sortDiagnostics(list);
  const out: Diagnostic[] = [];
  for (const mine of byObject.values()) {
    if (mine.length <= max) {
      out.push(...mine);
      continue;
    }
    const ranked = sortDiagnostics(mine).sort((a, b) => RANK[a.severity] - RANK[b.severity]);
    const kept = ranked.slice(0, max);
    const rest = ranked.slice(max);
    out.push(...kept, {
      severity: rest[0]!.severity,
      reason: "MoreDiagnostics",
      object: rest[0]!.object,
      message:
        `${describeRef(rest[0]!.object)}: ${rest.length} more diagnostic(s) not shown ` +
        `(${[...new Set(rest.map((d) => d.reason))].slice(0, 5).join(", ")})`,
    });
  }
  return sortDiagnostics(out);
};
