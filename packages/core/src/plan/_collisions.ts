import type { Diagnostic } from "../model.js";
import type { SecondPass } from "./backends.js";
import { sayFor } from "./services.js";

/**
 * The second passes with every Service refused whose derived identifiers (frontends, backends,
 * listeners, checks) an older Service already uses, or that uses one twice: a renderer would refuse the
 * whole config for a name given twice, so the younger Service alone fails, with a condition
 * naming the identifier and its holder. Passes without a collision are returned as they are.
 * `seconds` are oldest first.
 */
export const withoutCollisions = (seconds: readonly SecondPass[]): SecondPass[] => {
  const holders = new Map<string, string>();
  return seconds.map((s) => {
    const { served } = s;
    const ids = [...served.frontends, ...served.backends, ...served.listeners, ...served.checks].map((x) => x.id);
    const clash = firstClash(ids, holders);
    if (clash === undefined) {
      for (const id of ids) holders.set(id, s.first.service.key);
      return s;
    }
    const diag: Diagnostic[] = [...served.diag];
    const holder = holders.get(clash);
    sayFor(s.first.service, diag)(
      "error",
      "IdentifierCollision",
      "metadata.name",
      `the derived identifier ${clash} is already used by ` +
        `${holder === undefined ? "another of its ports" : `the older Service ${holder}`}; ` +
        "not served until one of them is renamed",
    );
    return { ...s, served: { ...served, diag, frontends: [], backends: [], listeners: [], tracked: [], checks: [] } };
  });
};

const firstClash = (ids: readonly string[], holders: ReadonlyMap<string, string>): string | undefined => {
  const mine = new Set<string>();
  for (const id of ids) {
    if (holders.has(id) || mine.has(id)) return id;
    mine.add(id);
  }
  return undefined;
};
