import { hash16 } from "./hash.js";
import type { Ident } from "./model.js";

const MAX = 63;

/**
 * A derived identifier for config files: a readable prefix made of the parts (lowercased, anything
 * outside [a-z0-9] folded to '_', capped) plus a 64-bit hash of the exact parts, so two different inputs
 * never share an identifier in practice even when the readable prefix is cut short (the planner
 * still refuses a Service whose identifiers an older one already uses).
 */
export const ident = (prefix: string, ...parts: readonly (string | number)[]): Ident => {
  const exact = [prefix, ...parts.map(String)].join("\u0000");
  const suffix = `_${hash16(exact)}`;
  const readable = [
    prefix,
    ...parts.map((p) =>
      String(p)
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "_"),
    ),
  ]
    .join("_")
    .replace(/_+/g, "_")
    .slice(0, MAX - suffix.length)
    .replace(/_$/, "");
  return `${readable}${suffix}` as Ident;
};
