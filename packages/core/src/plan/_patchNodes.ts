import type { IpFamily } from "../ip.js";
import type { EndpointSlice, NodeName, Node, Port } from "../model.js";
import { same, sameItems } from "../same.js";
import { endpointsByNode, type NodeEndpoints } from "../servers.js";
import { NO_ELIGIBLE_NODE, type SecondContext, type SecondPass } from "./backends.js";
import { keeper, nodeAddress, nodePlace } from "./_nodeServers.js";
import { localChecksOf } from "./checks.js";
import type { Backend, Server } from "./types.js";

/** The eligible nodes that left (by name) and joined since the last plan; a changed node does both. */
export interface NodeDelta {
  readonly left: ReadonlySet<NodeName>;
  readonly joined: readonly Node[];
}

export const nodeDelta = (before: readonly Node[], after: readonly Node[]): NodeDelta => {
  const was = new Map(before.map((n) => [n.name, n]));
  const now = new Map(after.map((n) => [n.name, n]));
  const left = new Set<NodeName>(before.filter((n) => now.get(n.name) !== n).map((n) => n.name));
  return { left, joined: after.filter((n) => was.get(n.name) !== n) };
};

// Beyond this many nodes changing at once, a Service's backends are simply built again.
const PATCHED_NODES_MAX = 16;

/**
 * The second pass of a Service whose only changed input is the eligible nodes: its last second
 * pass with the servers of the nodes that left taken out of each node-targeted backend and those
 * of the nodes that joined put in, in the order `secondPass` gives. A node joining or leaving a
 * big cluster touches every Service's backends, and this costs the few nodes that changed rather
 * than every server again. Undefined when the Service reads the nodes in a way this does not
 * follow (a node selector, a subset of nodes, listeners it does not serve); the caller then runs
 * `secondPass`, which the property tests hold this to.
 */
export const patchNodes = (
  was: SecondPass,
  slices: readonly EndpointSlice[],
  ctx: SecondContext,
  delta: NodeDelta,
): SecondPass | undefined => {
  const { config, nodes, idOf } = ctx;
  const { service, options } = was.first;
  const tooMany = delta.left.size + delta.joined.length > PATCHED_NODES_MAX;
  const readsNodesOtherwise =
    options.nodeSelector !== undefined || was.served.listeners.length + was.served.l4.length > 0;
  if (tooMany || readsNodesOtherwise || subsetsNodes(config.maxBackendsPerService, nodes, was.nodes)) return undefined;
  // Whether some family has no node to send to (a warning of secondPass's) may change with the nodes.
  const familyGap = (n: readonly Node[], list: (f: IpFamily) => readonly unknown[]) =>
    n.length === 0 || was.served.vips.some((v) => list(v.family).length === 0);
  if (
    familyGap(nodes, ctx.addressedOf) ||
    was.served.diag.some((d) => d.reason === "NoNodeOfFamily" || d.reason === NO_ELIGIBLE_NODE)
  )
    return undefined;
  // Each node-targeted backend's nodePort, from the one port it serves (the API server refuses two
  // ports with the same number and protocol; a Service that has them anyway is planned in full).
  const nodePorts = new Map<Backend, Port>();
  for (const b of was.served.backends) {
    if (b.target === "pod") continue;
    const ports = service.ports.filter((p) => p.protocol === "TCP" && p.port === b.servicePort);
    if (ports.length !== 1 || ports[0]!.nodePort === undefined) return undefined;
    nodePorts.set(b, ports[0]!.nodePort);
  }
  const counts = new Map<IpFamily, Map<NodeName, NodeEndpoints>>();
  const backends = was.served.backends.map((b): Backend => {
    const nodePort = nodePorts.get(b);
    if (nodePort === undefined) return b;
    // The servers of nodes that stay, in order (one server per node, found by its node's place
    // in the list); a leaving node's server may come back unchanged.
    const gone = new Map<NodeName, Server>();
    const servers = b.servers.slice();
    for (const name of delta.left) {
      const at = nodePlace(servers, name);
      if (servers[at]?.node !== name) continue;
      gone.set(name, servers[at]!);
      servers.splice(at, 1);
    }
    let changed = gone.size > 0;
    for (const n of delta.joined) {
      const address = nodeAddress(n, b.family, config);
      if (address === undefined) continue;
      let weight = 1;
      // As in secondPass: anything but Cluster follows the endpoints.
      if (service.externalTrafficPolicy !== "Cluster" && slices.length > 0) {
        let c = counts.get(b.family);
        if (c === undefined) counts.set(b.family, (c = endpointsByNode(slices, b.family)));
        const mine = c.get(n.name);
        if ((mine?.serving ?? 0) === 0) continue;
        const anyReady = [...c.values()].some((x) => x.ready > 0);
        if (options.weighting === "pods-per-node") weight = anyReady ? (mine?.ready ?? 0) : (mine?.serving ?? 0);
      }
      const id = idOf(n);
      const track = b.healthCheck.kind === "track" ? id : undefined;
      const back = gone.get(n.name);
      const server = keeper(back === undefined ? undefined : [back])(n, address, nodePort, weight, id, track);
      // Its node is not in the list (it joined, or left above), so its place by node is its place.
      servers.splice(nodePlace(servers, server.node), 0, server);
      changed = true;
    }
    return changed && !sameItems(b.servers, servers) ? { ...b, servers } : b;
  });
  const tracked = backends
    .filter((b) => b.healthCheck.kind === "track" && b.healthCheck.source === "kubeProxy")
    .map((b) => ctx.addressedOf(b.family));
  // A Local Service's checks follow the nodes its backends send to.
  const checkOf = new Map(was.served.checks.map((c) => [c.id as string, c]));
  const checks = localChecksOf(backends, (id) => checkOf.get(id)!.healthCheck).map((c) => {
    const before = checkOf.get(c.id);
    return before !== undefined && same(before, c) ? before : c;
  });
  return {
    first: was.first,
    allocation: was.allocation,
    nodes,
    slices,
    served: { ...was.served, backends, tracked, checks },
  };
};

// Whether a Cluster-policy backend may hold a subset of the nodes, before or after.
const subsetsNodes = (max: number, nodes: readonly Node[], before: readonly Node[]): boolean =>
  max > 0 && (nodes.length > max || before.length > max);
