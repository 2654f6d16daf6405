import { match } from "ts-pattern";
import { ANNOTATIONS, parseServiceOptions, type ServiceOptions } from "./annotations.js";
import type { Config } from "./config.js";
import { ident } from "./_ident.js";
import { describeRef, sortDiagnostics } from "./diagnostics.js";
import { ipFamily, type Ip, type IpFamily } from "./ip.js";
import {
  allocate,
  describeFailure,
  familyAvailable,
  poolOf,
  poolsFor,
  type AddressRequest,
  type Allocation,
} from "./ipam.js";
import { matchesSelector } from "./labels.js";
import type {
  ClusterSnapshot,
  Diagnostic,
  EndpointSlice,
  Ident,
  Node,
  NodeName,
  Port,
  Service,
  ServicePort,
} from "./model.js";
import { backendAddress, isEligible } from "./nodes.js";
import type {
  Backend,
  CheckBackend,
  Condition,
  Frontend,
  HealthCheck,
  HttpCheck,
  Ingress,
  IngressPort,
  Plan,
  Server,
  ServicePlan,
  UnservedListener,
} from "./plan.js";
import { keepSame, same, sameItems } from "./_same.js";
import {
  endpointsByNode,
  MAX_WEIGHT,
  nodeServer,
  nodeServerId,
  podServers,
  rendezvousSubset,
  type NodeEndpoints,
} from "./servers.js";
import { NO_VRRP_STATE, planVrrp, type VrrpPlan, type VrrpState } from "./vrrp.js";

/** The condition type Portico sets on every Service it is responsible for. */
export const READY_CONDITION = "portico.dev/LoadBalancerReady";
/** Set (status True) while a Service has warnings: bad annotations, ports not served. */
export const DEGRADED_CONDITION = "portico.dev/Degraded";
/** The id of the shared backend that checks kube-proxy's health port once per node. */
export const KUBE_PROXY_CHECK_ID: Ident = ident("chk", "kube-proxy");

/**
 * Whether Portico is responsible for a Service: `type: LoadBalancer` with our
 * `loadBalancerClass`, or with none when the config handles unclassed Services. A foreign class
 * is never touched, and a Service being deleted leaves the plan.
 */
export const isResponsibleFor = (service: Service, config: Config): boolean =>
  service.type === "LoadBalancer" && !service.deleting && isOurClass(service, config);

const isOurClass = (service: Service, config: Config): boolean =>
  service.loadBalancerClass === undefined
    ? config.handleUnclassed
    : service.loadBalancerClass === config.loadBalancerClass;

/** Oldest first (creationTimestamp, then namespace/name); Services without a time sort last. */
export const byAge = (a: Service, b: Service): number => {
  const ta = a.creationTimestamp || "\uffff";
  const tb = b.creationTimestamp || "\uffff";
  return ta < tb ? -1 : ta > tb ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
};

/**
 * How many health checks every LB node runs for a plan: one per server of the shared kube-proxy
 * check backend, plus one per server of each backend that checks on its own (Local policy, pods).
 * Cluster-policy backends track the shared checks, so they add none.
 */
export const healthChecksPerLbNode = (p: Plan): number =>
  (p.checks ?? []).reduce((n, c) => n + c.servers.length, 0) +
  p.backends.filter((b) => b.healthCheck.kind !== "track").reduce((n, b) => n + b.servers.length, 0);

type Say = (severity: Diagnostic["severity"], reason: string, field: string | undefined, message: string) => void;

interface Draft {
  readonly service: Service;
  readonly options: ServiceOptions;
  readonly diag: Diagnostic[];
  readonly families: readonly IpFamily[];
  readonly vips: { family: IpFamily; ip: Ip }[];
  /** Every family must be served (RequireDualStack) and one is not. */
  dualStackBroken: boolean;
  readonly ports: IngressPort[];
  readonly frontends: Frontend[];
  readonly backends: Backend[];
  readonly listeners: UnservedListener[];
  /** Ports x families that were to be served. */
  wanted: number;
  /** The node lists whose nodes this Service's Cluster-policy backends track (shared lists are one entry). */
  readonly tracked: (readonly { readonly node: Node }[])[];
}

/** The first pass over one Service: options, families, its address request. */
interface FirstPass {
  readonly service: Service;
  readonly problems: readonly Diagnostic[];
  readonly options: ServiceOptions;
  readonly diag: readonly Diagnostic[];
  readonly families: readonly IpFamily[];
  readonly request: AddressRequest | undefined;
}

/** The second pass over one Service, and what it read besides the first pass. */
interface SecondPass {
  readonly first: FirstPass;
  readonly allocation: Allocation | undefined;
  readonly nodes: readonly Node[];
  readonly slices: readonly EndpointSlice[];
  readonly draft: Omit<Draft, "diag" | "service" | "options" | "families"> & { readonly diag: readonly Diagnostic[] };
}

/**
 * What {@link planIncremental} keeps from one plan for the next: each Service's passes keyed by
 * the inputs they read, and the objects of the last snapshot and plan, so equal inputs give the
 * very same objects (and a renderer can reuse what it rendered for them). A plain value passed
 * in and returned; the planner holds no state of its own.
 */
export interface PlanCache {
  readonly config: Config;
  readonly services: ReadonlyMap<string, Service>;
  readonly nodes: ReadonlyMap<string, Node>;
  readonly slices: ReadonlyMap<string, EndpointSlice>;
  readonly eligible: readonly Node[];
  readonly addressed: ReadonlyMap<
    IpFamily,
    readonly { readonly name: string; readonly node: Node; readonly address: Ip }[]
  >;
  readonly first: ReadonlyMap<string, FirstPass>;
  readonly second: ReadonlyMap<string, SecondPass>;
  readonly servicePlans: ReadonlyMap<
    string,
    { readonly second: SecondPass; readonly unplaced: boolean; readonly plan: ServicePlan }
  >;
  /** The address requests and what they were given. */
  readonly ipam: {
    readonly requests: readonly AddressRequest[];
    readonly allocations: ReadonlyMap<string, Allocation>;
  };
  /** The VIPs and running state VRRP was planned from, and its plan. */
  readonly vrrp: { readonly vips: readonly Ip[]; readonly state: VrrpState; readonly plan: VrrpPlan };
  readonly plan: Plan;
}

/**
 * Plan the load balancers for a cluster snapshot: total and deterministic. The same snapshot and
 * config give the same Plan in any order of input objects; a Service that cannot be planned gets
 * diagnostics and a failed status while every other Service is planned normally. Never throws.
 * `vrrp` is what runs now (the previous plan's `vrrpStateOf`, or the VRIDs read from the
 * installed keepalived.conf): with it, VRIDs never change and masters move only when they must.
 */
export const plan = (snapshot: ClusterSnapshot, config: Config, vrrp: VrrpState = NO_VRRP_STATE): Plan =>
  planIncremental(snapshot, config, vrrp).plan;

/**
 * {@link plan}, reusing the work of the plan that returned `cache`: a Service whose object,
 * ingest diagnostics, address, eligible nodes and EndpointSlices are equal to last time keeps its
 * frontends and backends (the same objects); one whose nodes changed rebuilds its backends but
 * keeps every server that did not change. The Plan is equal to `plan(snapshot, config, vrrp)`
 * (a property test holds it to that); pass the returned cache to the next call.
 */
export const planIncremental = (
  snapshot: ClusterSnapshot,
  config: Config,
  vrrp: VrrpState = NO_VRRP_STATE,
  cache?: PlanCache,
): { readonly plan: Plan; readonly cache: PlanCache } => {
  const c = cache !== undefined && cache.config === config ? cache : undefined;
  // Equal objects keep last time's identity, so everything below can compare by identity.
  const serviceObjects = new Map<string, Service>();
  const internService = (s: Service): Service => {
    const kept = keepSame(c?.services.get(s.key), s);
    serviceObjects.set(s.key, kept);
    return kept;
  };
  const nodeObjects = new Map<string, Node>();
  const internNode = (n: Node): Node => {
    const kept = keepSame(c?.nodes.get(n.name), n);
    nodeObjects.set(n.name, kept);
    return kept;
  };
  const sliceObjects = new Map<string, EndpointSlice>();
  const internSlice = (s: EndpointSlice): EndpointSlice => {
    const k = `${s.namespace}/${s.name}`;
    const kept = keepSame(c?.slices.get(k), s);
    sliceObjects.set(k, kept);
    return kept;
  };
  const allServices = snapshot.services.map(internService);
  const services = allServices.filter((s) => isResponsibleFor(s, config)).sort(byAge);
  const eligible = snapshot.nodes.map(internNode).filter(isEligible);
  const nodes = c !== undefined && sameItems(c.eligible, eligible) ? c.eligible : eligible;
  const ingestProblems = groupByService(snapshot.diagnostics);
  const slicesBy = new Map<string, EndpointSlice[]>();
  for (const s of snapshot.endpointSlices.map(internSlice)) {
    const list = slicesBy.get(s.service);
    if (list === undefined) slicesBy.set(s.service, [s]);
    else list.push(s);
  }

  // First pass: options, families and address requests.
  const firsts = new Map<string, FirstPass>();
  const drafts: Draft[] = [];
  const requests: AddressRequest[] = [];
  for (const service of services) {
    const problems = ingestProblems.get(service.key) ?? [];
    const was = c?.first.get(service.key);
    const first =
      was !== undefined && was.service === service && same(was.problems, problems)
        ? was
        : firstPass(service, problems, config);
    firsts.set(service.key, first);
    drafts.push({
      service,
      options: first.options,
      diag: [...first.diag],
      families: first.families,
      vips: [],
      dualStackBroken: false,
      ports: [],
      frontends: [],
      backends: [],
      listeners: [],
      wanted: 0,
      tracked: [],
    });
    if (first.request !== undefined) requests.push(first.request);
  }
  // IPAM looks at every request at once, so it is not redone per Service; when no request
  // changed in a way that matters to it, its answer is last time's.
  const allocations =
    c !== undefined && sameRequests(c.ipam.requests, requests) ? c.ipam.allocations : allocate(requests, config.pools);

  // Second pass: frontends and backends per port and family.
  const checkAddressFamily: IpFamily = config.lbNodes[0] === undefined ? 4 : ipFamily(config.lbNodes[0].address);
  // Server ids are hashes of node names; a big cluster builds Services x nodes servers, so each
  // id is computed once per plan.
  const nodeIds = new Map<string, Ident>();
  const idOf = (n: Node): Ident => {
    let id = nodeIds.get(n.name);
    if (id === undefined) nodeIds.set(n.name, (id = nodeServerId(n)));
    return id;
  };
  // The eligible nodes with an address of each family, shared by every Service without a node
  // selector (and kept from the last plan while the nodes are the same).
  const addressed = new Map<
    IpFamily,
    readonly { readonly name: string; readonly node: Node; readonly address: Ip }[]
  >();
  const addressedOf = (family: IpFamily) => {
    let list = addressed.get(family) ?? (nodes === c?.eligible ? c.addressed.get(family) : undefined);
    if (list === undefined) list = withAddresses(nodes, family);
    addressed.set(family, list);
    return list;
  };
  const ctx: SecondContext = { config, nodes, idOf, addressedOf };
  const seconds = new Map<string, SecondPass>();
  // Which eligible nodes left and joined since the last plan (a node that changed does both).
  let delta: NodeDelta | undefined;
  for (const d of drafts) {
    const first = firsts.get(d.service.key)!;
    const allocation = allocations.get(d.service.key);
    const slices = slicesBy.get(d.service.key) ?? [];
    const was = c?.second.get(d.service.key);
    const inputsKept =
      was !== undefined && was.first === first && sameItems(was.slices, slices) && same(was.allocation, allocation);
    const second =
      inputsKept && was.nodes === nodes
        ? was
        : ((inputsKept && c !== undefined && was.nodes === c.eligible
            ? patchNodes(was, slices, ctx, (delta ??= nodeDelta(c.eligible, nodes)))
            : undefined) ?? secondPass(first, allocation, slices, ctx, was));
    seconds.set(d.service.key, second);
    const s = second.draft;
    d.diag.push(...s.diag);
    d.vips.push(...s.vips);
    d.dualStackBroken = s.dualStackBroken;
    d.ports.push(...s.ports);
    d.frontends.push(...s.frontends);
    d.backends.push(...s.backends);
    d.listeners.push(...s.listeners);
    d.wanted = s.wanted;
    d.tracked.push(...s.tracked);
  }

  // VRRP over the addresses of Services that will be served, oldest Service first; a shared
  // address appears once.
  const vipsOldestFirst: Ip[] = [];
  const seenVips = new Set<Ip>();
  for (const d of drafts) {
    if (d.frontends.length === 0 || d.dualStackBroken) continue;
    for (const v of d.vips) {
      if (seenVips.has(v.ip)) continue;
      seenVips.add(v.ip);
      vipsOldestFirst.push(v.ip);
    }
  }
  const vrrpPlan =
    c !== undefined && sameStrings(c.vrrp.vips, vipsOldestFirst) && same(c.vrrp.state, vrrp)
      ? c.vrrp.plan
      : planVrrp(vipsOldestFirst, config.lbNodes, config.vrrp, vrrp);
  const unplaced = new Set(vrrpPlan.unplaced);

  const planned: Diagnostic[] = [];
  const live: Draft[] = [];
  const servicePlanMemo = new Map<
    string,
    { readonly second: SecondPass; readonly unplaced: boolean; readonly plan: ServicePlan }
  >();
  const servicePlans: ServicePlan[] = drafts.map((d) => {
    const vipUnplaced = d.vips.some((v) => unplaced.has(v.ip));
    const ref = { kind: "Service", namespace: d.service.namespace, name: d.service.name };
    if (vipUnplaced) {
      d.diag.push({
        severity: "error",
        reason: "VridExhausted",
        object: ref,
        message: `${describeRef(ref)}: no VRRP router id left in ${config.vrrp.vridFirst}-${config.vrrp.vridLast} for VIP ${d.vips
          .filter((v) => unplaced.has(v.ip))
          .map((v) => v.ip)
          .join(", ")}`,
      });
    }
    planned.push(...d.diag);
    const second = seconds.get(d.service.key)!;
    const served = d.frontends.length;
    const failed = served === 0 || vipUnplaced || d.dualStackBroken;
    if (!failed) live.push(d);
    const was = c?.servicePlans.get(d.service.key);
    if (was !== undefined && sameStatusInputs(was.second, second) && was.unplaced === vipUnplaced) {
      servicePlanMemo.set(d.service.key, was);
      return was.plan;
    }
    const sorted = sortDiagnostics([...(ingestProblems.get(d.service.key) ?? []), ...d.diag]);
    const hasError = sorted.some((x) => x.severity === "error");
    const state: ServicePlan["state"] = failed ? "failed" : hasError || served < d.wanted ? "partial" : "ready";
    const ipMode = d.options.proxyProtocol === "none" ? "VIP" : "Proxy";
    const ingress: Ingress[] = state === "failed" ? [] : d.vips.map((v) => ({ ip: v.ip, ipMode, ports: d.ports }));
    const p: ServicePlan = keepSame(was?.plan, {
      key: d.service.key,
      state,
      vips: d.vips.map((v) => v.ip),
      ipMode,
      proxyProtocol: d.options.proxyProtocol,
      frontends: state === "failed" ? [] : d.frontends.map((f) => f.id).sort(),
      status: { loadBalancer: { ingress }, conditions: conditionsFor(state, sorted, d.service.generation) },
      diagnostics: sorted,
    });
    servicePlanMemo.set(d.service.key, { second, unplaced: vipUnplaced, plan: p });
    return p;
  });

  const byId = <T extends { readonly id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const backends = live.flatMap((d) => d.backends);
  // Only nodes some live Cluster-policy backend tracks are checked. Services without a node
  // selector share one node list, so this looks at each distinct list once.
  const tracked = new Set<string>();
  for (const list of new Set(live.flatMap((d) => d.tracked))) for (const x of list) tracked.add(x.node.name);
  const checkServers = nodes
    .filter((n) => tracked.has(n.name))
    .flatMap((n) => {
      const address = backendAddress(n, checkAddressFamily) ?? n.internalIps[0];
      return address === undefined ? [] : [nodeServer(n, address, config.healthCheck.kubeProxyPort, 1, idOf(n))];
    })
    .sort(byServer);
  const kubeProxyCheck: HttpCheck = {
    kind: "http",
    source: "kubeProxy",
    path: "/healthz",
    port: config.healthCheck.kubeProxyPort,
    expectStatus: 200,
    intervalMs: config.healthCheck.intervalMs,
    rise: config.healthCheck.rise,
    fall: config.healthCheck.fall,
  };
  // Present while any backend tracks it, even with no node to check yet (every node excluded, or
  // none listed): the tracking backends then wait in empty slots, and the first node to come is a
  // runtime-API change.
  const tracking = backends.some((b) => b.healthCheck.kind === "track");
  const checks: readonly CheckBackend[] = keepSame(
    c?.plan.checks,
    tracking ? [{ id: KUBE_PROXY_CHECK_ID, healthCheck: kubeProxyCheck, servers: checkServers }] : [],
  );

  const statusToClear = allServices
    // The API server drops the class when the type leaves LoadBalancer: such a Service was ours if
    // its status holds an address of our pools, whatever handleUnclassed says.
    .filter(
      (s) =>
        !isResponsibleFor(s, config) &&
        (s.type !== "LoadBalancer" || s.deleting) &&
        (isOurClass(s, config) || (s.type !== "LoadBalancer" && s.loadBalancerClass === undefined)) &&
        s.statusIps.some((ip) => poolOf(ip, config.pools) !== undefined),
    )
    .map((s) => s.key)
    .sort();

  const next: Plan = {
    services: servicePlans.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    frontends: live.flatMap((d) => d.frontends).sort(byId),
    backends: backends.sort(byId),
    checks,
    unservedListeners: live.flatMap((d) => d.listeners).sort(byId),
    statusToClear,
    vrrpInstances:
      c !== undefined && vrrpPlan === c.vrrp.plan
        ? c.plan.vrrpInstances
        : keepSame(
            c?.plan.vrrpInstances,
            keepEach(c?.plan.vrrpInstances, vrrpPlan.instances, (i) => i.vrid),
          ),
    lbNodes: config.lbNodes,
    diagnostics: sortDiagnostics([...snapshot.diagnostics, ...planned]),
    settings: c?.plan.settings ?? {
      haproxy: config.haproxy,
      keepalived: config.keepalived,
      vrrp: config.vrrp,
      healthCheck: config.healthCheck,
    },
  };
  return {
    plan: next,
    cache: {
      config,
      services: serviceObjects,
      nodes: nodeObjects,
      slices: sliceObjects,
      eligible: nodes,
      addressed,
      first: firsts,
      second: seconds,
      servicePlans: servicePlanMemo,
      ipam: { requests, allocations },
      vrrp: { vips: vipsOldestFirst, state: vrrp, plan: vrrpPlan },
      plan: next,
    },
  };
};

// A Service's plan and status follow its second pass's diagnostics, addresses, ports and
// frontends, not its servers: a node patch (which keeps those objects) leaves them as they were.
const sameStatusInputs = (a: SecondPass, b: SecondPass): boolean =>
  a === b ||
  (a.first === b.first &&
    a.draft.diag === b.draft.diag &&
    a.draft.vips === b.draft.vips &&
    a.draft.ports === b.draft.ports &&
    a.draft.frontends === b.draft.frontends &&
    a.draft.listeners === b.draft.listeners &&
    a.draft.wanted === b.draft.wanted &&
    a.draft.dualStackBroken === b.draft.dualStackBroken);

// Whether IPAM would answer `next` as it answered `previous`: the same requests, except ports
// changed on requests without a sharing key (ports only matter between Services sharing an address).
const sameRequests = (previous: readonly AddressRequest[], next: readonly AddressRequest[]): boolean =>
  previous.length === next.length &&
  previous.every((a, i) => {
    const b = next[i]!;
    return (
      a === b ||
      (a.sharingKey === undefined && b.sharingKey === undefined && same({ ...a, ports: [] }, { ...b, ports: [] }))
    );
  });

const sameStrings = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

// Each item of `next` that equals last time's item with the same key is that object.
const keepEach = <T>(previous: readonly T[] | undefined, next: readonly T[], key: (t: T) => unknown): readonly T[] => {
  if (previous === undefined) return next;
  const was = new Map(previous.map((p) => [key(p), p]));
  return next.map((n) => keepSame(was.get(key(n)), n));
};

const byServer = (x: Server, y: Server): number =>
  x.node < y.node ? -1 : x.node > y.node ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;

const withAddresses = (
  nodes: readonly Node[],
  family: IpFamily,
): { readonly name: string; readonly node: Node; readonly address: Ip }[] =>
  nodes.flatMap((n) => {
    const address = backendAddress(n, family);
    return address === undefined ? [] : [{ name: n.name, node: n, address }];
  });

const sayFor =
  (service: Service, diag: Diagnostic[]): Say =>
  (severity, reason, field, message) => {
    const ref = { kind: "Service", namespace: service.namespace, name: service.name };
    diag.push({
      severity,
      reason,
      object: ref,
      ...(field === undefined ? {} : { field }),
      message: `${describeRef(ref)}: ${field === undefined ? "" : `${field}: `}${message}`,
    });
  };

const firstPass = (service: Service, problems: readonly Diagnostic[], config: Config): FirstPass => {
  const diag: Diagnostic[] = [];
  const say = sayFor(service, diag);
  const { options, diagnostics: optionDiagnostics, invalid } = parseServiceOptions(service, config.serviceDefaults);
  diag.push(...optionDiagnostics);
  const families = familiesFor(service, options, config, say);
  let blocked =
    invalid.has("loadBalancerIps") || invalid.has("pool") || problems.some((d) => d.reason === "InvalidAddressRequest");
  const requested =
    options.loadBalancerIps.length > 0
      ? options.loadBalancerIps
      : service.loadBalancerIP === undefined
        ? []
        : [service.loadBalancerIP];
  if (
    options.loadBalancerIps.length > 0 &&
    service.loadBalancerIP !== undefined &&
    !options.loadBalancerIps.includes(service.loadBalancerIP)
  ) {
    say(
      "warning",
      "LoadBalancerIPIgnored",
      "spec.loadBalancerIP",
      `${service.loadBalancerIP} is ignored: annotation ${ANNOTATIONS.loadBalancerIps.key} asks for ${options.loadBalancerIps.join(", ")}`,
    );
  }
  for (const ip of requested) {
    if (!families.includes(ipFamily(ip))) {
      say(
        "error",
        "RequestedFamilyNotServed",
        undefined,
        `requested address ${ip} is IPv${ipFamily(ip)}, but the Service is served as ${families.map((f) => `IPv${f}`).join(" and ")}; no address is assigned until they agree`,
      );
      blocked = true;
    }
  }
  if (!service.sourceRangesValid) blocked = true;
  const request: AddressRequest | undefined =
    !blocked && isServable(service, config)
      ? {
          key: service.key,
          namespace: service.namespace,
          labels: service.labels,
          families,
          requested,
          ...(options.pool === undefined ? {} : { pool: options.pool }),
          current: service.statusIps,
          ...(options.allowSharedIp === undefined ? {} : { sharingKey: options.allowSharedIp }),
          ports: service.ports.map((p) => `${p.port}/${p.protocol}`),
        }
      : undefined;
  return { service, problems, options, diag, families, request };
};

interface SecondContext {
  readonly config: Config;
  readonly nodes: readonly Node[];
  readonly idOf: (n: Node) => Ident;
  readonly addressedOf: (
    family: IpFamily,
  ) => readonly { readonly name: string; readonly node: Node; readonly address: Ip }[];
}

const secondPass = (
  first: FirstPass,
  allocation: Allocation | undefined,
  slices: readonly EndpointSlice[],
  ctx: SecondContext,
  was: SecondPass | undefined,
): SecondPass => {
  const { config, nodes, idOf } = ctx;
  const { service, options } = first;
  // The last plan's backends of this Service: servers equal to theirs are kept (the same objects).
  const previous = new Map<string, Backend>((was?.draft.backends ?? []).map((b) => [b.id, b]));
  const d: Draft = {
    service,
    options,
    diag: [],
    families: first.families,
    vips: [],
    dualStackBroken: false,
    ports: [],
    frontends: [],
    backends: [],
    listeners: [],
    wanted: 0,
    tracked: [],
  };
  const say = sayFor(service, d.diag);
  for (const a of allocation ?? []) {
    if (a.kind === "allocated") d.vips.push({ family: ipFamily(a.ip), ip: a.ip });
    else say("error", a.failure.kind, undefined, describeFailure(a.failure, a.family));
  }
  if (service.ipFamilyPolicy === "RequireDualStack" && d.vips.length < d.families.length && d.vips.length > 0) {
    d.dualStackBroken = true;
    say(
      "error",
      "DualStackNotServed",
      "spec.ipFamilyPolicy",
      "RequireDualStack needs an address of every family in spec.ipFamilies; not served until both can be",
    );
  }

  const localHealth = healthCheckFor(service, options, config);
  const usesNodePorts = service.ports.some((p) => p.protocol === "TCP" && p.nodePort !== undefined);
  if (service.externalTrafficPolicy === "Local" && service.healthCheckNodePort === undefined && usesNodePorts) {
    say(
      "error",
      "MissingHealthCheckNodePort",
      "spec.healthCheckNodePort",
      "externalTrafficPolicy is Local but no healthCheckNodePort is allocated, so nodes without endpoints cannot be told apart",
    );
  }
  const explicitly = (k: string): boolean => service.annotations[k] !== undefined;
  if (service.externalTrafficPolicy === "Cluster") {
    if (
      [ANNOTATIONS.healthCheckInterval.key, ANNOTATIONS.healthCheckRise.key, ANNOTATIONS.healthCheckFall.key].some(
        explicitly,
      )
    ) {
      say(
        "warning",
        "HealthCheckShared",
        undefined,
        "health-check annotations apply to externalTrafficPolicy: Local only; Cluster-policy Services share one kube-proxy check per node (config healthCheck)",
      );
    }
    if (explicitly(ANNOTATIONS.weighting.key) && options.weighting === "pods-per-node") {
      say(
        "warning",
        "WeightingIgnored",
        `metadata.annotations[${ANNOTATIONS.weighting.key}]`,
        "pods-per-node applies to externalTrafficPolicy: Local; with Cluster, kube-proxy already spreads over every pod",
      );
    }
  }
  if (service.externalTrafficPolicy === "Local" && options.weighting === "pods-per-node" && slices.length === 0) {
    say(
      "info",
      "NoEndpointSlices",
      undefined,
      "pods-per-node weighting has no EndpointSlices to count yet; every node gets weight 1",
    );
  }
  const selected =
    options.nodeSelector === undefined
      ? undefined
      : nodes.filter((n) => matchesSelector(options.nodeSelector!, n.labels));
  const addressedBy = new Map<
    IpFamily,
    readonly { readonly name: string; readonly node: Node; readonly address: Ip }[]
  >();
  const addressedFor = (family: IpFamily) => {
    let list = addressedBy.get(family);
    if (list === undefined)
      addressedBy.set(
        family,
        (list = selected === undefined ? ctx.addressedOf(family) : withAddresses(selected, family)),
      );
    return list;
  };
  const countsBy = new Map<IpFamily, Map<NodeName, NodeEndpoints>>();

  // `reuse` is the last plan's server list of the same backend: a server equal to one there is
  // that object, found by walking both lists in node order.
  const nodeServers = (
    family: IpFamily,
    port: ServicePort,
    reuse: readonly Server[] | undefined,
    track?: (list: readonly { readonly node: Node }[]) => void,
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
    if (slices.length === 0) return withAddress.map((x) => keep(x.node, x.address, port.nodePort!, 1, idOf(x.node)));
    let counts = countsBy.get(family);
    if (counts === undefined) countsBy.set(family, (counts = endpointsByNode(slices, family)));
    // As kube-proxy does: serving-terminating endpoints take traffic only when none is ready
    // anywhere; then they are what the weights count, rather than draining every node.
    const anyReady = [...counts.values()].some((c) => c.ready > 0);
    return withAddress
      .filter((x) => (counts.get(x.node.name)?.serving ?? 0) > 0)
      .map((x) => {
        const c = counts.get(x.node.name);
        return keep(
          x.node,
          x.address,
          port.nodePort!,
          options.weighting === "pods-per-node" ? (anyReady ? (c?.ready ?? 0) : (c?.serving ?? 0)) : 1,
          idOf(x.node),
        );
      });
  };

  const noAddress = d.vips.length === 0 || d.dualStackBroken;
  service.ports.forEach((port, i) => {
    const field = `spec.ports[${i}]`;
    if (port.protocol !== "TCP") {
      say(
        "warning",
        "ProtocolNotServed",
        `${field}.protocol`,
        `${port.protocol} port ${port.port} is not served yet (HAProxy serves TCP only)`,
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
        `TCP port ${port.port} has no nodePort (allocateLoadBalancerNodePorts: false?) and the config does not say pod IPs are routable from the LB nodes (podIpsRoutable); not served`,
      );
      d.ports.push({ port: port.port, protocol: port.protocol, error: "portico.dev/NoNodePort" });
      return;
    }
    const health: HealthCheck | undefined = toPods
      ? {
          kind: "tcp",
          source: "endpoint",
          intervalMs: localHealth.intervalMs,
          rise: localHealth.rise,
          fall: localHealth.fall,
        }
      : service.externalTrafficPolicy === "Cluster"
        ? { kind: "track", source: "kubeProxy", backend: KUBE_PROXY_CHECK_ID }
        : service.healthCheckNodePort === undefined
          ? undefined
          : localHealth;
    if (noAddress || health === undefined) {
      d.ports.push({ port: port.port, protocol: port.protocol, error: "portico.dev/NotServed" });
      return;
    }
    d.wanted += d.vips.length - 1;
    for (const { family, ip } of d.vips) {
      const backendId = ident("be", service.namespace, service.name, port.port, `v${family}`);
      const before = previous.get(backendId);
      const servers = toPods
        ? podServers(slices, family, port)
        : nodeServers(family, port, before?.servers, (list) => d.tracked.push(list));
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
  if (service.ports.length === 0) say("error", "NoPorts", "spec.ports", "the Service has no valid ports");
  else if (!isServable(service, config))
    say(
      "error",
      "NoServablePorts",
      "spec.ports",
      "no TCP port with a nodePort (or, with podIpsRoutable, without one), so there is nothing to serve and no address is assigned",
    );
  // Frontends and listeners equal to last time's keep their identity too.
  const wasFrontends = new Map<string, Frontend>((was?.draft.frontends ?? []).map((f) => [f.id, f]));
  const wasListeners = new Map<string, UnservedListener>((was?.draft.listeners ?? []).map((l) => [l.id, l]));
  const {
    service: _s,
    options: _o,
    families: _f,
    ...draft
  } = {
    ...d,
    frontends: d.frontends.map((f) => keepSame(wasFrontends.get(f.id), f)),
    listeners: d.listeners.map((l) => keepSame(wasListeners.get(l.id), l)),
  };
  return { first, allocation, nodes, slices, draft };
};

/** The eligible nodes that left (by name) and joined since the last plan; a changed node does both. */
interface NodeDelta {
  readonly left: ReadonlySet<NodeName>;
  readonly joined: readonly Node[];
}

const nodeDelta = (before: readonly Node[], after: readonly Node[]): NodeDelta => {
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
const patchNodes = (
  was: SecondPass,
  slices: readonly EndpointSlice[],
  ctx: SecondContext,
  delta: NodeDelta,
): SecondPass | undefined => {
  const { config, nodes, idOf } = ctx;
  const { service, options } = was.first;
  if (
    delta.left.size + delta.joined.length > PATCHED_NODES_MAX ||
    options.nodeSelector !== undefined ||
    was.draft.listeners.length > 0
  )
    return undefined;
  if (
    config.maxBackendsPerService > 0 &&
    (nodes.length > config.maxBackendsPerService || was.nodes.length > config.maxBackendsPerService)
  )
    return undefined;
  // Each node-targeted backend's nodePort, from the one port it serves (the API server refuses two
  // ports with the same number and protocol; a Service that has them anyway is planned in full).
  const nodePorts = new Map<Backend, Port>();
  for (const b of was.draft.backends) {
    if (b.target === "pod") continue;
    const ports = service.ports.filter((p) => p.protocol === "TCP" && p.port === b.servicePort);
    if (ports.length !== 1 || ports[0]!.nodePort === undefined) return undefined;
    nodePorts.set(b, ports[0]!.nodePort);
  }
  const counts = new Map<IpFamily, Map<NodeName, NodeEndpoints>>();
  const backends = was.draft.backends.map((b): Backend => {
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
      const address = backendAddress(n, b.family);
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
      const track = service.externalTrafficPolicy === "Cluster" ? id : undefined;
      const server = keeper(gone.has(n.name) ? [gone.get(n.name)!] : undefined)(
        n,
        address,
        nodePort,
        weight,
        id,
        track,
      );
      // Its node is not in the list (it joined, or left above), so its place by node is its place.
      servers.splice(nodePlace(servers, server.node), 0, server);
      changed = true;
    }
    return changed && !sameItems(b.servers, servers) ? { ...b, servers } : b;
  });
  const tracked = backends.filter((b) => b.healthCheck.kind === "track").map((b) => ctx.addressedOf(b.family));
  return { first: was.first, allocation: was.allocation, nodes, slices, draft: { ...was.draft, backends, tracked } };
};

// The first place in a list sorted by `byServer` whose node is not before `node`.
const nodePlace = (servers: readonly Server[], node: string): number => {
  let lo = 0;
  let hi = servers.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (servers[mid]!.node < node) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/**
 * A node-server factory that returns the server of `reuse` with the same fields when there is
 * one (walking `reuse` in node order, as the planner's node lists are), else a new one.
 */
const keeper = (reuse: readonly Server[] | undefined) => {
  let j = 0;
  return (node: Node, address: Ip, port: Port, weight: number, id: Ident, track?: Ident): Server => {
    if (reuse !== undefined) {
      while (j < reuse.length && reuse[j]!.node < node.name) j++;
      const p = reuse[j];
      if (
        p !== undefined &&
        p.node === node.name &&
        p.address === address &&
        p.port === port &&
        p.weight === Math.min(MAX_WEIGHT, Math.max(0, weight)) &&
        p.id === id &&
        p.track === track
      ) {
        j++;
        return p;
      }
    }
    return nodeServer(node, address, port, weight, id, track);
  };
};

/**
 * The families a Service gets addresses of, primary first, as the upstream semantics of
 * `ipFamilyPolicy` say: SingleStack the first of `ipFamilies`; RequireDualStack all of them;
 * PreferDualStack those some pool the Service may use has (at least the first).
 */
const familiesFor = (service: Service, options: ServiceOptions, config: Config, say: Say): IpFamily[] => {
  const listed = service.ipFamilies.length === 0 ? [4 as IpFamily] : [...service.ipFamilies];
  return match(service.ipFamilyPolicy)
    .with("SingleStack", () => {
      if (listed.length > 1)
        say(
          "warning",
          "SingleStackTwoFamilies",
          "spec.ipFamilies",
          `ipFamilyPolicy is SingleStack but two families are listed; only IPv${listed[0]} is served`,
        );
      return listed.slice(0, 1);
    })
    .with("RequireDualStack", () => listed)
    .with("PreferDualStack", () => {
      const allowed = poolsFor(service, config.pools).filter(
        (p) => options.pool === undefined || p.name === options.pool,
      );
      const available = listed.filter((f, i) => i === 0 || familyAvailable(f, allowed, options.pool !== undefined));
      for (const f of listed.filter((x) => !available.includes(x)))
        say(
          "info",
          "FamilyNotAvailable",
          "spec.ipFamilies",
          `PreferDualStack: no pool this Service may use has IPv${f} addresses, so only IPv${listed[0]} is served`,
        );
      return available;
    })
    .exhaustive();
};

const healthCheckFor = (service: Service, options: ServiceOptions, config: Config): HttpCheck => ({
  kind: "http",
  source: "healthCheckNodePort",
  path: "/healthz",
  port: service.healthCheckNodePort ?? config.healthCheck.kubeProxyPort,
  expectStatus: 200,
  intervalMs: options.healthCheckInterval ?? config.healthCheck.intervalMs,
  rise: options.healthCheckRise ?? config.healthCheck.rise,
  fall: options.healthCheckFall ?? config.healthCheck.fall,
});

/**
 * A Service can be served when it has a TCP port to serve: with a nodePort (and, for Local, a
 * healthCheckNodePort), or without one when pod IPs are routable.
 */
const isServable = (service: Service, config: Config): boolean =>
  service.ports.some(
    (p) =>
      p.protocol === "TCP" &&
      (p.nodePort === undefined
        ? config.podIpsRoutable
        : service.externalTrafficPolicy === "Cluster" || service.healthCheckNodePort !== undefined),
  );

const groupByService = (diagnostics: readonly Diagnostic[]): Map<string, Diagnostic[]> => {
  const out = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    if (d.object.kind !== "Service" || d.object.namespace === undefined || d.object.name === undefined) continue;
    const key = `${d.object.namespace}/${d.object.name}`;
    out.set(key, [...(out.get(key) ?? []), d]);
  }
  return out;
};

const conditionsFor = (
  state: ServicePlan["state"],
  diagnostics: readonly Diagnostic[],
  generation: number,
): Condition[] => {
  const errors = diagnostics.filter((d) => d.severity === "error");
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  const ready: Condition = match(state)
    .with(
      "ready",
      () =>
        ({
          type: READY_CONDITION,
          status: "True",
          reason: "Ready",
          message: "every port is served",
          observedGeneration: generation,
        }) as const,
    )
    .with(
      "partial",
      () =>
        ({
          type: READY_CONDITION,
          status: "True",
          reason: "PartiallyServed",
          message: summary([...errors, ...warnings]),
          observedGeneration: generation,
        }) as const,
    )
    .with(
      "failed",
      () =>
        ({
          type: READY_CONDITION,
          status: "False",
          reason: errors[0]?.reason ?? "NotServed",
          message: summary(errors.length > 0 ? errors : warnings),
          observedGeneration: generation,
        }) as const,
    )
    .exhaustive();
  const degraded: Condition =
    warnings.length === 0
      ? {
          type: DEGRADED_CONDITION,
          status: "False",
          reason: "NoWarnings",
          message: "no warnings",
          observedGeneration: generation,
        }
      : {
          type: DEGRADED_CONDITION,
          status: "True",
          reason: warnings[0]!.reason,
          message: summary(warnings),
          observedGeneration: generation,
        };
  return [ready, degraded];
};

// Condition messages are capped by the API at 32768 bytes; keep them readable well below that.
const summary = (list: readonly Diagnostic[]): string => {
  const text = list.map((d) => d.message).join("; ") || "not served";
  return text.length > 4000 ? `${text.slice(0, 3999)}…` : text;
};
