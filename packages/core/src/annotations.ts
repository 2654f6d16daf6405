import { err, ok, type Result } from "neverthrow";
import { preview } from "./ip.js";
import { describeRef } from "./ingest.js";
import type { Diagnostic, Service } from "./model.js";
import type { ProxyProtocol } from "./plan.js";

/** The prefix of every Portico annotation. */
export const ANNOTATION_PREFIX = "portico.dev/";

/**
 * One per-Service option: its annotation key, a closed parser, and the facts the reference docs
 * print. Values are parsed into closed types before anything else sees them.
 */
export interface AnnotationSpec<T> {
  /** The full key, `portico.dev/...`. */
  readonly key: string;
  /** The accepted values as people read them. */
  readonly type: string;
  /** What applies when the annotation is absent. */
  readonly default: T;
  readonly example: string;
  readonly description: string;
  readonly parse: (raw: string) => Result<T, string>;
}

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: string): Result<T, string> =>
    (values as readonly string[]).includes(raw) ? ok(raw as T) : err(`"${preview(raw)}" is not one of ${values.join(", ")}`);

/** The per-Service options Portico understands, by option name. */
export const ANNOTATIONS = {
  proxyProtocol: {
    key: `${ANNOTATION_PREFIX}proxy-protocol`,
    type: "v1 | v2",
    default: "none",
    example: "v2",
    description:
      "Send the PROXY protocol header to the backends so they see the client's address. The Service's pods must expect it; status then reports ipMode: Proxy.",
    parse: oneOf<ProxyProtocol>(["v1", "v2"]),
  },
} as const satisfies Record<string, AnnotationSpec<unknown>>;

/** The parsed per-Service options. */
export interface ServiceOptions {
  readonly proxyProtocol: ProxyProtocol;
}

/**
 * Parse a Service's `portico.dev/` annotations. A bad value or an unknown key is a warning that
 * names the key and the accepted values; the option then takes its default, so the Service still
 * plans.
 */
export const parseServiceOptions = (service: Service): { options: ServiceOptions; diagnostics: Diagnostic[] } => {
  const diagnostics: Diagnostic[] = [];
  const ref = { kind: "Service", namespace: service.namespace, name: service.name };
  const specs = Object.values(ANNOTATIONS) as readonly AnnotationSpec<unknown>[];
  const known = new Set(specs.map((s) => s.key));
  for (const key of Object.keys(service.annotations)) {
    if (key.startsWith(ANNOTATION_PREFIX) && !known.has(key)) {
      const field = `metadata.annotations[${preview(key)}]`;
      diagnostics.push({
        severity: "warning",
        reason: "UnknownAnnotation",
        object: ref,
        field,
        message: `${describeRef(ref)}: annotation ${preview(key)} is not a Portico option; known: ${[...known].sort().join(", ")}`,
      });
    }
  }
  const value = <T>(spec: AnnotationSpec<T>): T => {
    const raw = service.annotations[spec.key];
    if (raw === undefined) return spec.default;
    const parsed = spec.parse(raw.trim());
    if (parsed.isOk()) return parsed.value;
    diagnostics.push({
      severity: "warning",
      reason: "InvalidAnnotation",
      object: ref,
      field: `metadata.annotations[${spec.key}]`,
      message: `${describeRef(ref)}: annotation ${spec.key}: ${parsed.error}; using the default (${String(spec.default)})`,
    });
    return spec.default;
  };
  return { options: { proxyProtocol: value<ProxyProtocol>(ANNOTATIONS.proxyProtocol) }, diagnostics };
};
