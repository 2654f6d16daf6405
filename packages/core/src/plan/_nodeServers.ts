import type { Config } from "../settings.js";
import type { Ip, IpFamily } from "../ip.js";
import type { Ident, Node, Port } from "../model.js";
import { backendAddress } from "../nodes.js";
import type { Server } from "./types.js";
import { MAX_WEIGHT, nodeServer } from "../servers.js";
import { backendRefusal } from "./_refusedBackends.js";

/** An eligible node with its address of one family. */
export interface Addressed {
  readonly name: string;
  readonly node: Node;
  readonly address: Ip;
}

/** A node's backend address of `family`, unless it is one no backend may have (an LB node, a VIP, loopback...). */
export const nodeAddress = (node: Node, family: IpFamily, config: Config): Ip | undefined => {
  const address = backendAddress(node, family);
  return address === undefined || backendRefusal(address, config, false) !== undefined ? undefined : address;
};

/** The nodes with a servable address of `family`, each with that address. */
export const withAddresses = (nodes: readonly Node[], family: IpFamily, config: Config): Addressed[] =>
  nodes.flatMap((n) => {
    const address = nodeAddress(n, family, config);
    return address === undefined ? [] : [{ name: n.name, node: n, address }];
  });

/** Servers in plan order: by node, then by id. */
export const byServer = (x: Server, y: Server): number =>
  x.node < y.node ? -1 : x.node > y.node ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;

/** The first place in a list sorted by `byServer` whose node is not before `node`. */
export const nodePlace = (servers: readonly Server[], node: string): number => {
  let lo = 0;
  let hi = servers.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (servers[mid]!.node < node) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** A node server as {@link nodeServer} makes it. */
export type MakeServer = (node: Node, address: Ip, port: Port, weight: number, id: Ident, track?: Ident) => Server;

/**
 * A node-server factory that returns the server of `reuse` with the same fields when there is
 * one (walking `reuse` in node order, as the planner's node lists are), else a new one.
 */
export const keeper = (reuse: readonly Server[] | undefined): MakeServer => {
  if (reuse === undefined) return nodeServer;
  let j = 0;
  return (node, address, port, weight, id, track) => {
    while (j < reuse.length && reuse[j]!.node < node.name) j++;
    const p = reuse[j];
    const unchanged =
      p !== undefined &&
      p.node === node.name &&
      p.address === address &&
      p.port === port &&
      p.weight === Math.min(MAX_WEIGHT, Math.max(0, weight)) &&
      p.id === id &&
      p.track === track;
    if (!unchanged) return nodeServer(node, address, port, weight, id, track);
    j++;
    return p;
  };
};
