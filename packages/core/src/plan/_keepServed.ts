import { keepSame } from "../same.js";
import type { CheckBackend, Frontend, L4Listener, UnservedListener } from "./types.js";

/** The lists of one Service's second pass that a later pass keeps by identity. */
interface Kept {
  readonly frontends: readonly Frontend[];
  readonly listeners: readonly UnservedListener[];
  readonly l4: readonly L4Listener[];
  readonly checks: readonly CheckBackend[];
}

/**
 * keepIdentities is `d` with each frontend, listener and check equal to one of `was`'s (by id) as
 * that very object, so a renderer can compare the two passes by identity.
 */
export const keepIdentities = <T extends Kept>(d: T, was: Kept | undefined): T => {
  // A full plan has no last pass: nothing to keep, and nothing to copy.
  if (was === undefined) return d;
  const wasFrontends = new Map<string, Frontend>((was?.frontends ?? []).map((f) => [f.id, f]));
  const wasListeners = new Map<string, UnservedListener>((was?.listeners ?? []).map((l) => [l.id, l]));
  const wasL4 = new Map<string, L4Listener>((was?.l4 ?? []).map((l) => [l.id, l]));
  const wasChecks = new Map<string, CheckBackend>((was?.checks ?? []).map((c) => [c.id, c]));
  return {
    ...d,
    frontends: d.frontends.map((f) => keepSame(wasFrontends.get(f.id), f)),
    listeners: d.listeners.map((l) => keepSame(wasListeners.get(l.id), l)),
    l4: d.l4.map((l) => keepSame(wasL4.get(l.id), l)),
    checks: d.checks.map((c) => keepSame(wasChecks.get(c.id), c)),
  };
};
