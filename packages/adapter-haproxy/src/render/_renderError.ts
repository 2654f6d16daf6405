import { err, ok, type Result } from "neverthrow";
import type { AdapterError, ServiceKey } from "@portico/core";
import { guardIdent, show, showKey } from "../_guards.js";

/** Makes the error for a field of the object being rendered from a guard's message. */
export type Fail = (field: string) => (m: string) => AdapterError;

/** A render error, naming the Service at fault when there is one. */
export const renderError = (message: string, service?: ServiceKey): AdapterError =>
  service === undefined
    ? { kind: "render", adapter: "haproxy", message }
    : { kind: "render", adapter: "haproxy", message: `${showKey(service)}: ${message}`, service };

/** Names an object in a message by its id, unless the id itself is what is wrong. */
export const label = (kind: string, id: unknown): string => (guardIdent(id).isOk() ? `${kind} ${String(id)}` : kind);

/**
 * HAProxy refuses two proxies (or two servers in one backend) with the same name; say so here,
 * naming the Service, rather than later from `haproxy -c`.
 */
export const unique = (
  items: readonly { readonly id: string; readonly service?: ServiceKey }[],
  what: string,
  service?: ServiceKey,
): Result<void, AdapterError> => {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id))
      return err(renderError(`${what} ${show(item.id)} appears more than once`, item.service ?? service));
    seen.add(item.id);
  }
  return ok(undefined);
};
