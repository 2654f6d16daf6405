import type { Server } from "../plan/types.js";
import { Ordered, spanOf } from "../_span.js";
import { serverSlotCount } from "../slots.js";
import { byKey, sorted } from "./_lists.js";
import type { ServerChange } from "./types.js";

// Every backend keeps its servers in slots (see serverSlotCount): a change within them goes
// through the runtime API, outgrowing them changes the file's shape. The running file is taken to
// hold as many slots as a fresh render of the running plan (what `portico render` writes); apply
// decides from the installed file itself.
export const overflows = (before: readonly Server[], after: readonly Server[]): boolean =>
  after.length > serverSlotCount(before.length);

// Server changes between two server lists, by node: for each node of either list, its last server
// in each, in node order.
const serverChangesByNode = (backend: string, before: readonly Server[], after: readonly Server[]): ServerChange[] => {
  const out: ServerChange[] = [];
  const oldServers = byKey(before, (s: Server) => s.node);
  const newServers = byKey(after, (s: Server) => s.node);
  for (const node of sorted(new Set([...oldServers.keys(), ...newServers.keys()]))) {
    const change = serverChange(backend, node, oldServers.get(node), newServers.get(node));
    if (change !== undefined) out.push(change);
  }
  return out;
};

const serverChange = (
  backend: string,
  node: string,
  o: Server | undefined,
  n: Server | undefined,
): ServerChange | undefined => {
  if (o === undefined) return { backend, node, change: "added", fields: [] };
  if (n === undefined) return { backend, node, change: "removed", fields: [] };
  const fields = (["address", "port", "weight"] as const).filter((f) => o[f] !== n[f]);
  return fields.length > 0 ? { backend, node, change: "changed", fields } : undefined;
};

// Node-targeted server lists hold one server per node in node order, as the planner makes them.
const serversByNode = new Ordered<Server>((s) => s.node);

/**
 * Server changes between two server lists, by node (see serverChangesByNode). When both lists
 * hold one server per node in node order, the servers they share at either end (by identity)
 * cannot have changed, and only what lies between is compared by node, in one walk: a node
 * leaving costs one identity check per server and one comparison by node per backend, instead of
 * two maps and a sort. Otherwise (pod backends with two endpoints on one node, hand-built lists),
 * every node is compared.
 */
export const serverChanges = (backend: string, before: readonly Server[], after: readonly Server[]): ServerChange[] => {
  if (before === after) return [];
  const span = spanOf(before, after);
  if (!serversByNode.both(before, after, span)) return serverChangesByNode(backend, before, after);
  const out: ServerChange[] = [];
  let i = span.start;
  let j = span.start;
  while (i < span.endBefore || j < span.endAfter) {
    const o = i < span.endBefore ? before[i] : undefined;
    const n = j < span.endAfter ? after[j] : undefined;
    let change: ServerChange | undefined;
    if (o !== undefined && (n === undefined || o.node < n.node)) {
      change = serverChange(backend, o.node, o, undefined);
      i++;
    } else if (n !== undefined && (o === undefined || n.node < o.node)) {
      change = serverChange(backend, n.node, undefined, n);
      j++;
    } else {
      change = serverChange(backend, o!.node, o, n);
      i++;
      j++;
    }
    if (change !== undefined) out.push(change);
  }
  return out;
};
