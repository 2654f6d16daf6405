import { formatMillis } from "./duration.js";
import { preview } from "./_preview.js";
import { describeRef } from "./diagnostics.js";
import type { Diagnostic, Millis, Service } from "./model.js";
import {
  ANNOTATION_PREFIX,
  ANNOTATIONS,
  formatOptionValue,
  type AnnotationSpec,
  type OptionName,
  type ServiceDefaults,
  type ServiceOptions,
} from "./annotations.js";

// How many unknown annotation keys a diagnostic names.
const UNKNOWN_SHOWN = 3;

/**
 * Parse a Service's `portico.dev/` annotations. A bad value or an unknown key is a warning that
 * names the key and the accepted values; the option then takes its default (the config's, else
 * the built-in one), so the Service still plans.
 */
export const parseServiceOptions = (
  service: Service,
  defaults: ServiceDefaults = {},
): { options: ServiceOptions; diagnostics: Diagnostic[]; invalid: ReadonlySet<OptionName> } => {
  const invalid = new Set<OptionName>();
  const diagnostics: Diagnostic[] = [];
  const ref = { kind: "Service", namespace: service.namespace, name: service.name };
  const specs = Object.values(ANNOTATIONS) as readonly AnnotationSpec<unknown>[];
  const known = new Set(specs.map((s) => s.key));
  // One diagnostic for all unknown keys: a Service may carry thousands, and each must not cost a message.
  const unknown: string[] = [];
  for (const key of Object.keys(service.annotations))
    if (key.startsWith(ANNOTATION_PREFIX) && !known.has(key)) unknown.push(key);
  if (unknown.length > 0) {
    unknown.sort();
    const shown = unknown.slice(0, UNKNOWN_SHOWN).map((k) => preview(k));
    const more = unknown.length > UNKNOWN_SHOWN ? ` and ${unknown.length - UNKNOWN_SHOWN} more` : "";
    diagnostics.push({
      severity: "warning",
      reason: "UnknownAnnotation",
      object: ref,
      field: `metadata.annotations[${preview(unknown[0])}]`,
      message:
        `${describeRef(ref)}: ${unknown.length === 1 ? "annotation" : `${unknown.length} annotations`} ` +
        `${shown.join(", ")}${more} ${unknown.length === 1 ? "is not a Portico option" : "are not Portico options"}; ` +
        `known: ${[...known].sort().join(", ")}`,
    });
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(ANNOTATIONS) as [OptionName, AnnotationSpec<unknown>][]) {
    const fallback = Object.hasOwn(defaults, name) ? defaults[name] : spec.default;
    const raw = service.annotations[spec.key];
    if (raw === undefined) {
      out[name] = fallback;
      continue;
    }
    const parsed = spec.parse(raw.trim());
    if (parsed.isOk()) {
      out[name] = parsed.value;
      continue;
    }
    invalid.add(name);
    diagnostics.push({
      severity: spec.onInvalid === "error" ? "error" : "warning",
      reason: spec.onInvalid === "error" ? "InvalidAddressRequest" : "InvalidAnnotation",
      object: ref,
      field: `metadata.annotations[${spec.key}]`,
      message:
        spec.onInvalid === "error"
          ? `${describeRef(ref)}: annotation ${spec.key}: ${parsed.error}; no address is assigned until it is fixed`
          : `${describeRef(ref)}: annotation ${spec.key}: ${parsed.error}; using the default ` +
            `(${fallback === spec.default ? spec.defaultText : formatOptionValue(fallback)})`,
    });
    out[name] = fallback;
  }
  mapSuperseded(service, out, diagnostics);
  return { options: out as ServiceOptions, diagnostics, invalid };
};

// A TCP connection is a tunnel as soon as both sides are connected, and `timeout tunnel` then
// supersedes `timeout client` and `timeout server` (HAProxy manual 4.2, timeout tunnel): the old
// keys did nothing. Their value is the idle timeout they were meant to be.
const mapSuperseded = (service: Service, out: Record<string, unknown>, diagnostics: Diagnostic[]): void => {
  const ref = { kind: "Service", namespace: service.namespace, name: service.name };
  const tunnel = ANNOTATIONS.timeoutTunnel.key;
  const tunnelSet = service.annotations[tunnel] !== undefined;
  let longest: number | undefined;
  for (const name of ["timeoutClient", "timeoutServer"] as const) {
    const spec = ANNOTATIONS[name];
    const value = out[name] as Millis | undefined;
    if (service.annotations[spec.key] === undefined || value === undefined) continue;
    longest = Math.max(longest ?? 0, value);
    out[name] = undefined;
    diagnostics.push({
      severity: "warning",
      reason: "DeprecatedAnnotation",
      object: ref,
      field: `metadata.annotations[${spec.key}]`,
      message:
        `${describeRef(ref)}: annotation ${spec.key} has no effect on TCP once connected (timeout tunnel ` +
        `supersedes it); ${tunnelSet ? `${tunnel} is set and applies` : `taken as ${tunnel}: ${formatMillis(value)}`}` +
        `; use ${tunnel}`,
    });
  }
  if (longest !== undefined && !tunnelSet) out["timeoutTunnel"] = longest;
};
