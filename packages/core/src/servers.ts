import { hash53 } from "./hash.js";
import { ipFamily, compareIp, type Ip, type IpFamily } from "./ip.js";
import { ident } from "./_ident.js";
import type { EndpointSlice, Ident, Node, NodeName, Port, ServicePort } from "./model.js";
import type { Server } from "./plan/types.js";

/** HAProxy's largest server weight. */
export const MAX_WEIGHT = 256;

/**
 * A deterministic subset of at most `max` nodes for one Service, by rendezvous hashing: each
 * node scores hash(service, node) and the best `max` win. When a node joins or leaves, at most
 * one node enters or leaves any Service's subset. `max` 0 keeps every node.
 */
export const rendezvousSubset = <N extends { readonly name: string }>(
  service: string,
  nodes: readonly N[],
  max: number,
): N[] => {
  if (max <= 0 || nodes.length <= max) return [...nodes];
  return nodes
    .map((n) => ({ n, score: hash53(`${service}\u0000${n.name}`) }))
    .sort((a, b) => b.score - a.score || (a.n.name < b.n.name ? -1 : a.n.name > b.n.name ? 1 : 0))
    .slice(0, max)
    .map((x) => x.n);
};

/** What the EndpointSlices say about one node for one Service. */
export interface NodeEndpoints {
  /** Ready and not terminating: the count pods-per-node weighting uses. */
  readonly ready: number;
  /** Ready, or serving while terminating: the node still has somewhere to send traffic. */
  readonly serving: number;
}

/**
 * Per node, the Service's endpoints from its slices of one family (a dual-stack pod appears in a
 * slice of each family; counting one family counts each pod once). Falls back to the slices of
 * any family when the Service has none of this one.
 */
export const endpointsByNode = (slices: readonly EndpointSlice[], family: IpFamily): Map<NodeName, NodeEndpoints> => {
  const want = family === 4 ? "IPv4" : "IPv6";
  const ofFamily = slices.filter((s) => s.addressType === want);
  const use = ofFamily.length > 0 ? ofFamily : slices.filter((s) => s.addressType !== "FQDN");
  const out = new Map<NodeName, { ready: number; serving: number }>();
  for (const slice of use) {
    for (const e of slice.endpoints) {
      if (e.nodeName === undefined) continue;
      const c = out.get(e.nodeName) ?? { ready: 0, serving: 0 };
      if (e.ready && !e.terminating) c.ready++;
      if (e.ready || (e.serving && e.terminating)) c.serving++;
      out.set(e.nodeName, c);
    }
  }
  return out;
};

/** The server id of a node: the same in every backend, so `track` can name it. */
export const nodeServerId = (node: Node): Ident => ident("node", node.name);

/**
 * A node server: the node's address of the family and a port. `id` may be passed in by callers
 * that build many servers for one node (the planner memoises it per plan).
 */
export const nodeServer = (
  node: Node,
  address: Ip,
  port: Port,
  weight: number,
  id: Ident = nodeServerId(node),
  track?: Ident,
): Server =>
  track === undefined
    ? { id, node: node.name, address, port, weight: Math.min(MAX_WEIGHT, Math.max(0, weight)) }
    : { id, node: node.name, address, port, weight: Math.min(MAX_WEIGHT, Math.max(0, weight)), track };

/**
 * Pod servers for a port without a nodePort: the Service's ready endpoints of the family
 * (serving-terminating ones only when none is ready, as kube-proxy does), at the slice port
 * whose name matches the Service port. An address `refuse` answers true for is left out.
 */
export const podServers = (
  slices: readonly EndpointSlice[],
  family: IpFamily,
  port: ServicePort,
  refuse: (ip: Ip) => boolean = () => false,
): Server[] => {
  const want = family === 4 ? "IPv4" : "IPv6";
  const found = new Map<string, { ip: Ip; port: Port; node: NodeName | undefined; ready: boolean }>();
  for (const slice of slices.filter((s) => s.addressType === want)) {
    const sp = slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (sp === undefined || sp.port < 1 || sp.port > 65535) continue;
    for (const e of slice.endpoints) {
      const ip = e.addresses.find((a) => ipFamily(a) === family);
      if (ip === undefined || refuse(ip)) continue;
      const ready = e.ready && !e.terminating;
      if (!ready && !(e.serving && e.terminating)) continue;
      const k = `${ip}\u0000${sp.port}`;
      if (!found.has(k)) found.set(k, { ip, port: sp.port as Port, node: e.nodeName, ready });
    }
  }
  const all = [...found.values()];
  const chosen = all.some((x) => x.ready) ? all.filter((x) => x.ready) : all;
  return chosen
    .sort((a, b) => compareIp(a.ip, b.ip) || a.port - b.port)
    .map((x) => ({
      id: ident("pod", x.ip, x.port),
      node: x.node ?? ("" as NodeName),
      address: x.ip,
      port: x.port,
      weight: 1,
    }));
};
