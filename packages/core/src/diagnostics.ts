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
