import { rec, type Json } from "./_json.js";
import { preview } from "./_preview.js";
import { isDns1123Label, isDns1123Subdomain, type Diagnostic, type ObjectRef, type Protocol } from "./model.js";

/** The protocols a Service port may name. */
export const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];

/** Compare two strings by code unit, for sorts that never depend on the locale. */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** An object's name and namespace, checked; undefined (with an error diagnostic) when it cannot be identified. */
export const ingestMeta = (
  object: Json,
  kind: string,
  namespaced: boolean,
  diagnostics: Diagnostic[],
): { namespace: string; name: string; ref: ObjectRef; meta: Json } | undefined => {
  const meta = rec(object["metadata"]);
  const name = meta["name"];
  const namespace = namespaced ? meta["namespace"] : "";
  const nameOk =
    kind === "Node"
      ? isDns1123Subdomain(name)
      : kind === "EndpointSlice"
        ? isDns1123Subdomain(name)
        : isDns1123Label(name);
  const nsOk = !namespaced || isDns1123Label(namespace);
  if (!nameOk || !nsOk) {
    const rule =
      !nameOk && kind !== "Service"
        ? "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253"
        : "a DNS-1123 label: lowercase letters, digits and '-', at most 63";
    diagnostics.push({
      severity: "error",
      reason: "InvalidObject",
      object: { kind },
      field: nameOk ? "metadata.namespace" : "metadata.name",
      message:
        `${kind} with ${nameOk ? `metadata.namespace "${preview(namespace)}"` : `metadata.name "${preview(name)}"`}: ` +
        `not a valid Kubernetes name (${rule}); object ignored`,
    });
    return undefined;
  }
  const ref: ObjectRef = namespaced
    ? { kind, namespace: namespace as string, name: name as string }
    : { kind, name: name as string };
  return { namespace: namespace as string, name: name as string, ref, meta };
};

/** A mapping of strings, sorted by key; other values are left out. */
export const stringMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec(v)).sort(([a], [b]) => cmp(a, b))) {
    if (typeof val === "string") out[k] = val;
  }
  return out;
};
