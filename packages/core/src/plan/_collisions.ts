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
    const lists = [served.frontends, served.backends, served.listeners, served.checks];
    const clash = firstClash(lists, holders);
    if (clash === undefined) {
      for (const list of lists) for (const x of list) holders.set(x.id, s.first.service.key);
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

// The lists are walked as they are: at thousands of Services, copying their ids costs more than the check.
const firstClash = (
  lists: readonly (readonly { readonly id: string }[])[],
  holders: ReadonlyMap<string, string>,
): string | undefined => {
  const mine = new Set<string>();
  for (const list of lists)
    for (const { id } of list) {
      if (holders.has(id) || mine.has(id)) return id;
      mine.add(id);
    }
  return undefined;
};
