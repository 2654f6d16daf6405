import type { ServiceOptions } from "../annotations.js";
import type { Config } from "../settings.js";
import { ident } from "../_ident.js";
import { ipFamily, type IpFamily } from "../ip.js";
import type { Ident, Node, Service } from "../model.js";
import { nodeServer } from "../servers.js";
import { byServer, nodeAddress, type Addressed } from "./_nodeServers.js";
import type { Backend, CheckBackend, HttpCheck, L4Listener, Plan, Server } from "./types.js";

/** What a served Service contributes to the checks: its backends, the node lists they track, its own checks. */
interface Tracking {
  readonly backends: readonly Backend[];
  readonly l4?: readonly L4Listener[];
  readonly tracked: readonly (readonly Addressed[])[];
  readonly checks: readonly CheckBackend[];
}

/** The id of the shared backend that checks kube-proxy's health port once per node over IPv4. */
export const KUBE_PROXY_CHECK_ID: Ident = ident("chk", "kube-proxy");

/** The id of the shared kube-proxy check backend of a family. */
export const kubeProxyCheckId = (family: IpFamily): Ident =>
  family === 4 ? KUBE_PROXY_CHECK_ID : ident("chk", "kube-proxy", "v6");

/** The id of a Local Service's check backend of a family. */
export const localCheckId = (service: Service, family: IpFamily): Ident =>
  ident("chk", service.namespace, service.name, `v${family}`);

/**
 * How many health checks every LB node runs for a plan: one per server of each check backend,
 * plus one per server of each backend that checks on its own (pods). Backends that track a check
 * backend add none, so a Service's ports share its checks.
 */
export const healthChecksPerLbNode = (p: Plan): number =>
  (p.checks ?? []).reduce((n, c) => n + c.servers.length, 0) +
  p.backends.filter((b) => b.healthCheck.kind !== "track").reduce((n, b) => n + b.servers.length, 0);

/**
 * A Local Service's check backend of one family: its `healthCheckNodePort` once on every node
 * that some backend tracking it sends to (`servers`, the servers of those backends), so all the
 * Service's ports share one check per node.
 */
export const localCheck = (id: Ident, healthCheck: HttpCheck, servers: readonly Server[]): CheckBackend => {
  const byId = new Map<string, Server>();
  for (const s of servers)
    if (!byId.has(s.id))
      byId.set(s.id, { id: s.id, node: s.node, address: s.address, port: healthCheck.port, weight: 1 });
  return { id, healthCheck, servers: [...byId.values()].sort(byServer) };
};

/**
 * The check backends of a Local Service's `backends` and L4 listeners: one per check they track,
 * from their servers.
 */
export const localChecksOf = (
  backends: readonly (Backend | L4Listener)[],
  healthCheckOf: (id: Ident) => HttpCheck,
): CheckBackend[] => {
  const tracked = new Map<Ident, Server[]>();
  for (const b of backends) {
    const hc = b.healthCheck;
    if (hc.kind !== "track" || hc.source !== "healthCheckNodePort") continue;
    const list = tracked.get(hc.backend);
    if (list === undefined) tracked.set(hc.backend, [...b.servers]);
    else list.push(...b.servers);
  }
  return [...tracked].map(([id, servers]) => localCheck(id, healthCheckOf(id), servers));
};

/**
 * Every check backend of a plan, by id: the shared kube-proxy ones, one per family that some
 * Cluster-policy backend of the `live` (served) Services tracks, with one server per node such a
 * backend tracks, at the node's address of that family; and each Local Service's own. A shared
 * one is present while any backend tracks it, even with no node to check yet (every node
 * excluded, or none listed): the tracking backends then wait in empty slots, and the first node
 * to come is a runtime-API change.
 */
export const planChecks = (
  live: readonly Tracking[],
  nodes: readonly Node[],
  config: Config,
  idOf: (n: Node) => Ident,
): CheckBackend[] => {
  const out: CheckBackend[] = live.flatMap((d) => d.checks);
  // The kube-proxy checks some backend tracks, found in one walk of the plan for both families.
  const tracked = new Set<Ident>();
  for (const d of live)
    for (const b of [d.backends, d.l4 ?? []])
      for (const x of b) if (x.healthCheck.kind === "track") tracked.add(x.healthCheck.backend);
  for (const family of [4, 6] as const) {
    const id = kubeProxyCheckId(family);
    if (!tracked.has(id)) continue;
    // Services without a node selector share one node list, so each distinct list is read once.
    const names = new Set<string>();
    for (const list of new Set(live.flatMap((d) => d.tracked)))
      if (list[0] !== undefined && ipFamily(list[0].address) === family) for (const x of list) names.add(x.node.name);
    const servers = nodes
      .filter((n) => names.has(n.name))
      .flatMap((n) => {
        const address = nodeAddress(n, family, config);
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
    out.push({ id, healthCheck, servers });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
};

/**
 * localHealthCheck is the check of a Local Service's healthCheckNodePort (kube-proxy's port when it
 * has none yet), with the Service's own timing annotations over the config's.
 */
export const localHealthCheck = (service: Service, options: ServiceOptions, config: Config): HttpCheck => ({
  kind: "http",
  source: "healthCheckNodePort",
  path: "/healthz",
  port: service.healthCheckNodePort ?? config.healthCheck.kubeProxyPort,
  expectStatus: 200,
  intervalMs: options.healthCheckInterval ?? config.healthCheck.intervalMs,
  rise: options.healthCheckRise ?? config.healthCheck.rise,
  fall: options.healthCheckFall ?? config.healthCheck.fall,
});
