import { ANNOTATIONS } from "../annotations.js";
import type { Config } from "../settings.js";
import { ident } from "../_ident.js";
import { ipFamily, type Ip, type IpFamily } from "../ip.js";
import { describeFailure, type Allocation } from "../ipam.js";
import { matchesSelector } from "../labels.js";
import type { Diagnostic, EndpointSlice, Ident, Node, NodeName, ServicePort } from "../model.js";
import { nodeServerId, endpointsByNode, podServers, rendezvousSubset, type NodeEndpoints } from "../servers.js";
import { keepSame } from "../same.js";
import { kubeProxyCheckId, localCheckId, localChecksOf, localHealthCheck } from "./checks.js";
import { byServer, keeper, withAddresses, type Addressed } from "./_nodeServers.js";
import { isServable, sayFor, type FirstPass } from "./services.js";
import { dataPlaneOf, l4Listener, maglevTableSizeOf } from "./l4.js";
import { podRefuser } from "./_refusedBackends.js";
import { warnAboutChecks } from "./_checkWarnings.js";
import { keepIdentities } from "./_keepServed.js";
import { FAIL_OPEN_MESSAGE, FAIL_OPEN_REASON, failOpenCheck, failsOpen, someReady } from "./_failOpen.js";
import type { Backend, CheckBackend, Frontend, HealthCheck, IngressPort, L4Listener } from "./types.js";
import type { Server, TrackCheck, UnservedListener } from "./types.js";

/**
 * NO_ELIGIBLE_NODE: the reason of the warning a Service gets when it would send to nodes and no
 * node may be its backend (every one excluded, or none matching its node selector).
 */
export const NO_ELIGIBLE_NODE = "NoEligibleNode";

/** What the second pass builds for one Service: addresses, ports, frontends, backends, listeners. */
export interface Served {
  readonly diag: readonly Diagnostic[];
  readonly vips: readonly { readonly family: IpFamily; readonly ip: Ip }[];
  /** Every family must be served (RequireDualStack) and one is not. */
  readonly dualStackBroken: boolean;
  readonly ports: readonly IngressPort[];
  readonly frontends: readonly Frontend[];
  readonly backends: readonly Backend[];
  readonly listeners: readonly UnservedListener[];
  /** The ports x families the L4 data plane serves. */
  readonly l4: readonly L4Listener[];
  /** Ports x families that were to be served. */
  readonly wanted: number;
  /** The node lists whose nodes this Service's Cluster-policy backends track (shared lists are one entry). */
  readonly tracked: readonly (readonly Addressed[])[];
  /** A Local Service's own check backends, one per family, which every port's backend tracks. */
  readonly checks: readonly CheckBackend[];
}

/** The second pass over one Service, and what it read besides the first pass. */
export interface SecondPass {
  readonly first: FirstPass;
  readonly allocation: Allocation | undefined;
  readonly nodes: readonly Node[];
  readonly slices: readonly EndpointSlice[];
  readonly served: Served;
}

/** What every Service's second pass shares within one plan: the eligible nodes, read once. */
export interface SecondContext {
  readonly config: Config;
  readonly nodes: readonly Node[];
  readonly idOf: (n: Node) => Ident;
  readonly addressedOf: (family: IpFamily) => readonly Addressed[];
  /** The lists `addressedOf` gave, by family. */
  readonly addressed: ReadonlyMap<IpFamily, readonly Addressed[]>;
  /** The Maglev table size of every L4 listener of the plan, from the count of `nodes`. */
  readonly tableSize: number;
}

/**
 * The context of one plan's second passes over the eligible `nodes`; `kept` are lists of
 * addressed nodes known to be those of `nodes` (the last plan's, when the nodes are the same).
 */
export const secondContext = (
  config: Config,
  nodes: readonly Node[],
  kept?: ReadonlyMap<IpFamily, readonly Addressed[]>,
): SecondContext => {
  // Server ids are hashes of node names; a big cluster builds Services x nodes servers, so each
  // id is computed once per plan.
  const nodeIds = new Map<string, Ident>();
  const idOf = (n: Node): Ident => {
    let id = nodeIds.get(n.name);
    if (id === undefined) nodeIds.set(n.name, (id = nodeServerId(n)));
    return id;
  };
  // The eligible nodes with an address of each family, shared by every Service without a node
  // selector.
  const addressed = new Map<IpFamily, readonly Addressed[]>();
  const addressedOf = (family: IpFamily): readonly Addressed[] => {
    let list = addressed.get(family) ?? kept?.get(family);
    if (list === undefined) list = withAddresses(nodes, family, config);
    addressed.set(family, list);
    return list;
  };
  return { config, nodes, idOf, addressedOf, addressed, tableSize: maglevTableSizeOf(config, nodes.length) };
};

interface Draft {
  readonly diag: Diagnostic[];
  readonly vips: { family: IpFamily; ip: Ip }[];
  dualStackBroken: boolean;
  readonly ports: IngressPort[];
  readonly frontends: Frontend[];
  readonly backends: Backend[];
  readonly listeners: UnservedListener[];
  readonly l4: L4Listener[];
  wanted: number;
  readonly tracked: (readonly Addressed[])[];
  readonly checks: CheckBackend[];
}

/**
 * The second pass over one Service: its addresses from IPAM's answer, and per port and family a
 * frontend and a backend (or a listener it does not serve). `was` is the last plan's pass of
 * this Service, whose objects equal ones keep (so a renderer can compare by identity).
 */
export const secondPass = (
  first: FirstPass,
  allocation: Allocation | undefined,
  slices: readonly EndpointSlice[],
  ctx: SecondContext,
  was?: SecondPass,
): SecondPass => {
  const { config, nodes, idOf } = ctx;
  const { service, options } = first;
  // The last plan's backends of this Service: servers equal to theirs are kept (the same objects).
  const previous = new Map<string, Backend>((was?.served.backends ?? []).map((b) => [b.id, b]));
  const d: Draft = {
    diag: [],
    vips: [],
    dualStackBroken: false,
    ports: [],
    frontends: [],
    backends: [],
    listeners: [],
    l4: [],
    wanted: 0,
    tracked: [],
    checks: [],
  };
  const say = sayFor(service, d.diag);
  for (const a of allocation ?? []) {
    if (a.kind === "allocated") d.vips.push({ family: ipFamily(a.ip), ip: a.ip });
    else say("error", a.failure.kind, undefined, describeFailure(a.failure, a.family));
  }
  if (service.ipFamilyPolicy === "RequireDualStack" && d.vips.length < first.families.length && d.vips.length > 0) {
    d.dualStackBroken = true;
    say(
      "error",
      "DualStackNotServed",
      "spec.ipFamilyPolicy",
      "RequireDualStack needs an address of every family in spec.ipFamilies; not served until both can be",
    );
  }

  const localHealth = localHealthCheck(service, options, config);
  const usesNodePorts = service.ports.some(
    (p) => p.nodePort !== undefined && (p.protocol === "TCP" || dataPlaneOf(p.protocol, options, config) !== "proxy"),
  );
  warnAboutChecks(service, options, slices, usesNodePorts, say);
  const selected =
    options.nodeSelector === undefined
      ? undefined
      : nodes.filter((n) => matchesSelector(options.nodeSelector!, n.labels));
  const addressedBy = new Map<IpFamily, readonly Addressed[]>();
  const addressedFor = (family: IpFamily) => {
    let list = addressedBy.get(family);
    if (list === undefined)
      addressedBy.set(
        family,
        (list = selected === undefined ? ctx.addressedOf(family) : withAddresses(selected, family, config)),
      );
    return list;
  };
  const countsBy = new Map<IpFamily, Map<NodeName, NodeEndpoints>>();
  const countsOf = (family: IpFamily): Map<NodeName, NodeEndpoints> => {
    let counts = countsBy.get(family);
    if (counts === undefined) countsBy.set(family, (counts = endpointsByNode(slices, family)));
    return counts;
  };
  const opensOf = (family: IpFamily): boolean => failsOpen(service, slices, () => countsOf(family));
  let failedOpen = false;

  // `reuse` is the last plan's server list of the same backend: a server equal to one there is
  // that object, found by walking both lists in node order.
  const nodeServers = (
    family: IpFamily,
    port: ServicePort,
    reuse: readonly Server[] | undefined,
    track?: (list: readonly Addressed[]) => void,
    open = false,
  ): Server[] => {
    const withAddress = addressedFor(family);
    const keep = keeper(reuse);
    if (service.externalTrafficPolicy === "Cluster") {
      const subset =
        config.maxBackendsPerService <= 0 || withAddress.length <= config.maxBackendsPerService
          ? withAddress
          : rendezvousSubset(service.key, withAddress, config.maxBackendsPerService);
      track?.(subset);
      return subset.map((x) => {
        const id = idOf(x.node);
        return keep(x.node, x.address, port.nodePort!, 1, id, id);
      });
    }
    // Local: every server tracks its node's check of the Service's healthCheckNodePort.
    // Failing open, a server checks its own nodePort and tracks nothing.
    const local = (x: Addressed, weight: number) => {
      const id = idOf(x.node);
      return keep(x.node, x.address, port.nodePort!, weight, id, open ? undefined : id);
    };
    if (slices.length === 0) return withAddress.map((x) => local(x, 1));
    const counts = countsOf(family);
    // As kube-proxy does: serving-terminating endpoints take traffic only when none is ready
    // anywhere; then they are what the weights count, rather than draining every node.
    const anyReady = someReady(counts.values());
    return withAddress
      .filter((x) => (counts.get(x.node.name)?.serving ?? 0) > 0)
      .map((x) => {
        const c = counts.get(x.node.name);
        return local(x, options.weighting === "pods-per-node" ? (anyReady ? (c?.ready ?? 0) : (c?.serving ?? 0)) : 1);
      });
  };

  // A Local Service's check backend of a family, shared by all its ports (built after them).
  const localCheckFor = (family: IpFamily): Ident => localCheckId(service, family);
  const pods = podRefuser(config);
  const noAddress = d.vips.length === 0 || d.dualStackBroken;
  // As the upstream service controller does, the load balancer stays (its VIP and frontends,
  // with no server), and the Service says why nothing answers.
  const candidates = selected ?? nodes;
  if (!noAddress && usesNodePorts && candidates.length === 0)
    say(
      "warning",
      NO_ELIGIBLE_NODE,
      undefined,
      selected === undefined
        ? "no node may be a backend (every node is excluded from external load balancers, tainted for deletion or being deleted)"
        : `no eligible node matches ${ANNOTATIONS.nodeSelector.key}`,
    );
  for (const { family } of noAddress || !usesNodePorts ? [] : d.vips)
    if (candidates.length > 0 && addressedFor(family).length === 0)
      say("warning", "NoNodeOfFamily", undefined, `no eligible node has an IPv${family} address to send to`);
  service.ports.forEach((port, i) => {
    const field = `spec.ports[${i}]`;
    const plane = dataPlaneOf(port.protocol, options, config);
    if (plane !== "proxy") {
      if (port.nodePort === undefined) {
        say(
          "warning",
          "NoNodePort",
          `${field}.nodePort`,
          `${port.protocol} port ${port.port} has no nodePort (allocateLoadBalancerNodePorts: false?); ` +
            `the ${plane} data plane forwards to nodePorts only; not served`,
        );
        d.ports.push({ port: port.port, protocol: port.protocol, error: "portico.dev/NoNodePort" });
        return;
      }
      // Cluster: kube-proxy's shared check of the VIP's family; Local: the Service's own check
      // backend of the family, which its TCP ports share, so no node's health port is checked twice.
      const healthOf = (family: IpFamily): TrackCheck =>
        service.externalTrafficPolicy === "Cluster"
          ? { kind: "track", source: "kubeProxy", backend: kubeProxyCheckId(family) }
          : { kind: "track", source: "healthCheckNodePort", backend: localCheckFor(family) };
      const noHealth = service.externalTrafficPolicy !== "Cluster" && service.healthCheckNodePort === undefined;
      if (noAddress || noHealth) {
        d.ports.push({ port: port.port, protocol: port.protocol, error: "portico.dev/NotServed" });
        return;
      }
      d.wanted += d.vips.length - 1;
      for (const vip of d.vips) {
        const servers = nodeServers(vip.family, port, undefined, (list) => d.tracked.push(list)).sort(byServer);
        d.l4.push(l4Listener(service, port, plane, vip, healthOf(vip.family), servers, config, ctx.tableSize));
      }
      d.ports.push({ port: port.port, protocol: port.protocol });
      return;
    }
    if (port.protocol !== "TCP") {
      say(
        "warning",
        "ProtocolNotServed",
        `${field}.protocol`,
        `${port.protocol} port ${port.port} is not served: its data plane is proxy and HAProxy serves TCP only ` +
          `(${ANNOTATIONS.dataPlane.key}: nat or direct serves it)`,
      );
      d.ports.push({ port: port.port, protocol: port.protocol, error: "portico.dev/ProtocolNotServed" });
      for (const { family, ip } of noAddress ? [] : d.vips) {
        d.listeners.push({
          id: ident(port.protocol.toLowerCase(), service.namespace, service.name, port.port, `v${family}`),
          service: service.key,
          vip: ip,
          port: port.port,
          protocol: port.protocol,
          servers:
            port.nodePort === undefined ? [] : nodeServers(family, port, undefined).map(({ track: _t, ...s }) => s),
          reason: "ProtocolNotServed",
        });
      }
      return;
    }
    const toPods = port.nodePort === undefined;
    if (toPods && !config.podIpsRoutable) {
      say(
        "warning",
        "NoNodePort",
        `${field}.nodePort`,
        `TCP port ${port.port} has no nodePort (allocateLoadBalancerNodePorts: false?) and the config does not ` +
          "say pod IPs are routable from the LB nodes (podIpsRoutable); not served",
      );
      d.ports.push({ port: port.port, protocol: port.protocol, error: "portico.dev/NoNodePort" });
      return;
    }
    const healthOf = (family: IpFamily): HealthCheck | undefined =>
      toPods
        ? {
            kind: "tcp",
            source: "endpoint",
            intervalMs: localHealth.intervalMs,
            rise: localHealth.rise,
            fall: localHealth.fall,
          }
        : service.externalTrafficPolicy === "Cluster"
          ? { kind: "track", source: "kubeProxy", backend: kubeProxyCheckId(family) }
          : service.healthCheckNodePort === undefined
            ? undefined
            : opensOf(family)
              ? failOpenCheck(localHealth)
              : { kind: "track", source: "healthCheckNodePort", backend: localCheckFor(family) };
    const noHealthPort =
      !toPods && service.externalTrafficPolicy !== "Cluster" && service.healthCheckNodePort === undefined;
    if (noAddress || noHealthPort) {
      d.ports.push({ port: port.port, protocol: port.protocol, error: "portico.dev/NotServed" });
      return;
    }
    d.wanted += d.vips.length - 1;
    for (const { family, ip } of d.vips) {
      const backendId = ident("be", service.namespace, service.name, port.port, `v${family}`);
      const before = previous.get(backendId);
      const open = !toPods && opensOf(family);
      failedOpen ||= open;
      const servers = toPods
        ? podServers(slices, family, port, pods.refuse)
        : nodeServers(family, port, before?.servers, (list) => d.tracked.push(list), open);
      const health = healthOf(family)!;
      // Built fresh above, so sorting in place copies nothing.
      servers.sort(byServer);
      const timeouts = {
        ...(options.timeoutConnect === undefined ? {} : { connectMs: options.timeoutConnect }),
        ...(options.timeoutServer === undefined ? {} : { serverMs: options.timeoutServer }),
        ...(options.timeoutTunnel === undefined ? {} : { tunnelMs: options.timeoutTunnel }),
      };
      d.backends.push(
        keepSame(before, {
          id: backendId,
          service: service.key,
          servicePort: port.port,
          family,
          balance: options.balance,
          proxyProtocol: options.proxyProtocol,
          healthCheck: health,
          target: toPods ? "pod" : "nodePort",
          ...(service.sessionAffinity === "ClientIP"
            ? { affinity: { kind: "clientIp", timeoutSeconds: service.sessionAffinityTimeoutSeconds } }
            : {}),
          ...(Object.keys(timeouts).length === 0 ? {} : { timeouts }),
          servers,
        } satisfies Backend),
      );
      d.frontends.push({
        id: ident("fe", service.namespace, service.name, port.port, `v${family}`),
        service: service.key,
        vip: ip,
        port: port.port,
        protocol: "TCP",
        backend: backendId,
        sourceRanges: service.loadBalancerSourceRanges,
        ...(options.timeoutClient === undefined ? {} : { clientTimeoutMs: options.timeoutClient }),
      });
    }
    d.ports.push({ port: port.port, protocol: port.protocol });
  });
  d.wanted += d.ports.length;
  if (failedOpen) say("warning", FAIL_OPEN_REASON, undefined, FAIL_OPEN_MESSAGE);
  d.checks.push(...localChecksOf([...d.backends, ...d.l4], () => localHealth));
  pods.report(say);
  if (service.ports.length === 0) say("error", "NoPorts", "spec.ports", "the Service has no valid ports");
  else if (!isServable(service, config, options))
    say(
      "error",
      "NoServablePorts",
      "spec.ports",
      "no TCP port with a nodePort (or, with podIpsRoutable, without one), " +
        "so there is nothing to serve and no address is assigned",
    );
  const served: Served = keepIdentities<Served>(d, was?.served);
  return { first, allocation, nodes, slices, served };
};
