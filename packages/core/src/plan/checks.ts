import type { Config } from "../settings.js";
import { ident } from "../_ident.js";
import { ipFamily, type IpFamily } from "../ip.js";
import type { Ident, Node } from "../model.js";
import { nodeServer } from "../servers.js";
import { byServer, nodeAddress } from "./_nodeServers.js";
import type { Backend, CheckBackend, HttpCheck, Plan } from "./types.js";

/** What a served Service contributes to the check: its backends and the node lists they track. */
interface Tracking {
  readonly backends: readonly Backend[];
  readonly tracked: readonly (readonly { readonly node: Node }[])[];
}

/** The id of the shared backend that checks kube-proxy's health port once per node. */
export const KUBE_PROXY_CHECK_ID: Ident = ident("chk", "kube-proxy");

/**
 * How many health checks every LB node runs for a plan: one per server of the shared kube-proxy
 * check backend, plus one per server of each backend that checks on its own (Local policy, pods).
 * Cluster-policy backends track the shared checks, so they add none.
 */
export const healthChecksPerLbNode = (p: Plan): number =>
  (p.checks ?? []).reduce((n, c) => n + c.servers.length, 0) +
  p.backends.filter((b) => b.healthCheck.kind !== "track").reduce((n, b) => n + b.servers.length, 0);

/**
 * The shared kube-proxy check backend: one server per node that some Cluster-policy backend of
 * the `live` (served) Services tracks, at the LB nodes' address family. Present while any backend
 * tracks it, even with no node to check yet (every node excluded, or none listed): the tracking
 * backends then wait in empty slots, and the first node to come is a runtime-API change.
 */
export const kubeProxyChecks = (
  live: readonly Tracking[],
  nodes: readonly Node[],
  config: Config,
  idOf: (n: Node) => Ident,
): CheckBackend[] => {
  if (!live.some((d) => d.backends.some((b) => b.healthCheck.kind === "track"))) return [];
  const checkAddressFamily: IpFamily = config.lbNodes[0] === undefined ? 4 : ipFamily(config.lbNodes[0].address);
  // Services without a node selector share one node list, so each distinct list is read once.
  const names = new Set<string>();
  for (const list of new Set(live.flatMap((d) => d.tracked))) for (const x of list) names.add(x.node.name);
  const servers = nodes
    .filter((n) => names.has(n.name))
    .flatMap((n) => {
      const address = nodeAddress(n, checkAddressFamily, config);
      return address === undefined ? [] : [nodeServer(n, address, config.healthCheck.kubeProxyPort, 1, idOf(n))];
    })
    .sort(byServer);
  const healthCheck: HttpCheck = {
    kind: "http",
    source: "kubeProxy",
    path: "/healthz",
    port: config.healthCheck.kubeProxyPort,
    expectStatus: 200,
    intervalMs: config.healthCheck.intervalMs,
    rise: config.healthCheck.rise,
    fall: config.healthCheck.fall,
  };
  return [{ id: KUBE_PROXY_CHECK_ID, healthCheck, servers }];
};
