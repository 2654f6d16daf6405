import type { Config } from "../settings.js";
import type { IpFamily, Ip } from "../ip.js";
import { allocate, type AddressRequest, type Allocation } from "../ipam.js";
import type { ClusterSnapshot, EndpointSlice, Node, Service } from "../model.js";
import { isEligible } from "../nodes.js";
import { keepSame, same, sameItems } from "../same.js";
import { NO_VRRP_STATE, planVrrp, type VrrpPlan, type VrrpState } from "../vrrp.js";
import { secondContext, secondPass, type SecondPass } from "./backends.js";
import { planChecks } from "./checks.js";
import { withoutCollisions } from "./_collisions.js";
import type { Addressed } from "./_nodeServers.js";
import { nodeDelta, patchNodes, type NodeDelta } from "./_patchNodes.js";
import {
  assemble,
  groupByService,
  ipamOptionsOf,
  liveOf,
  requestsOf,
  servedVips,
  settingsOf,
  slicesByService,
} from "./plan.js";
import { planAnnouncements, splitByAnnounce } from "./announce.js";
import { responsibleServices } from "./responsible.js";
import { firstPass, type FirstPass } from "./services.js";
import { outcomeOf, servicePlanOf } from "./status.js";
import type { Plan, ServicePlan, VrrpInstance } from "./types.js";

/** A Service's plan and the inputs it was made from. */
interface ServicePlanMemo {
  readonly second: SecondPass;
  readonly unplaced: boolean;
  readonly plan: ServicePlan;
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
  readonly addressed: ReadonlyMap<IpFamily, readonly Addressed[]>;
  readonly first: ReadonlyMap<string, FirstPass>;
  readonly second: ReadonlyMap<string, SecondPass>;
  readonly servicePlans: ReadonlyMap<string, ServicePlanMemo>;
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
 * {@link plan}, reusing the work of the plan that returned `cache`: a Service whose object,
 * ingest diagnostics, address, eligible nodes and EndpointSlices are equal to last time keeps its
 * frontends and backends (the same objects); one whose nodes changed rebuilds its backends but
 * keeps every server that did not change. The Plan is equal to `plan(snapshot, config, vrrp)`
 * (`describeIncremental` holds it to that); pass the returned cache to the next call.
 */
export const planIncremental = (
  snapshot: ClusterSnapshot,
  config: Config,
  vrrp: VrrpState = NO_VRRP_STATE,
  cache?: PlanCache,
): { readonly plan: Plan; readonly cache: PlanCache } => {
  const c = cache !== undefined && cache.config === config ? cache : undefined;
  // Equal objects keep last time's identity, so everything below can compare by identity.
  const services = new Map<string, Service>();
  const nodeObjects = new Map<string, Node>();
  const sliceObjects = new Map<string, EndpointSlice>();
  const allServices = snapshot.services.map((s) => intern(services, s.key, c?.services, s));
  const eligible = snapshot.nodes.map((n) => intern(nodeObjects, n.name, c?.nodes, n)).filter(isEligible);
  const endpointSlices = snapshot.endpointSlices.map((s) => intern(sliceObjects, sliceKey(s), c?.slices, s));
  const nodes = c !== undefined && sameItems(c.eligible, eligible) ? c.eligible : eligible;
  const interned: ClusterSnapshot = { ...snapshot, services: allServices, endpointSlices };
  const problems = groupByService(snapshot.diagnostics);
  const slicesBy = slicesByService(endpointSlices);

  // First pass: a Service's is kept while its object and ingest diagnostics are.
  const firsts = new Map<string, FirstPass>();
  const firstPasses = responsibleServices(allServices, config).map((service) => {
    const mine = problems.get(service.key) ?? [];
    const was = c?.first.get(service.key);
    const firstKept = was !== undefined && was.service === service && same(was.problems, mine);
    const first = firstKept ? was : firstPass(service, mine, config);
    firsts.set(service.key, first);
    return first;
  });
  // IPAM looks at every request at once; when no request changed in a way that matters to it,
  // its answer is last time's.
  const requests = requestsOf(firstPasses);
  const ipamKept = c !== undefined && sameRequests(c.ipam.requests, requests);
  const allocations = ipamKept ? c.ipam.allocations : allocate(requests, config.pools, ipamOptionsOf(config));

  // Second pass: kept while its inputs are; with only the nodes changed, patched when it can be.
  const ctx = secondContext(config, nodes, nodes === c?.eligible ? c.addressed : undefined);
  const seconds = new Map<string, SecondPass>();
  // Which eligible nodes left and joined since the last plan (a node that changed does both).
  let delta: NodeDelta | undefined;
  const passes = firstPasses.map((first) => {
    const key = first.service.key;
    const allocation = allocations.get(key);
    const slices = slicesBy.get(key) ?? [];
    const was = c?.second.get(key);
    const inputsKept =
      was !== undefined && was.first === first && sameItems(was.slices, slices) && same(was.allocation, allocation);
    const onlyNodesChanged = inputsKept && c !== undefined && was.nodes === c.eligible && was.nodes !== nodes;
    const patched = onlyNodesChanged
      ? patchNodes(was, slices, ctx, (delta ??= nodeDelta(c.eligible, nodes)))
      : undefined;
    const second =
      inputsKept && was.nodes === nodes ? was : (patched ?? secondPass(first, allocation, slices, ctx, was));
    seconds.set(key, second);
    return second;
  });

  // A younger Service whose identifiers an older one uses is refused; the cache keeps its own pass.
  const checked = withoutCollisions(passes);

  // VRRP, kept while the VIPs and what runs are.
  const announced = splitByAnnounce(servedVips(checked), config.pools);
  const vips = announced.vrrp;
  const vrrpKept = c !== undefined && sameItems(c.vrrp.vips, vips) && same(c.vrrp.state, vrrp);
  const vrrpPlan = vrrpKept ? c.vrrp.plan : planVrrp(vips, config.lbNodes, config.vrrp, vrrp);
  const unplaced = new Set(vrrpPlan.unplaced);

  // A Service's plan is kept while what its status follows is.
  const memo = new Map<string, ServicePlanMemo>();
  const outcomes = checked.map((s) => outcomeOf(s, unplaced, config));
  const servicePlans = checked.map((second, i) => {
    const key = second.first.service.key;
    const outcome = outcomes[i]!;
    const was = c?.servicePlans.get(key);
    const planKept = was !== undefined && sameStatusInputs(was.second, second) && was.unplaced === outcome.vipUnplaced;
    const p = planKept ? was.plan : keepSame(was?.plan, servicePlanOf(second, outcome, problems.get(key) ?? []));
    memo.set(key, planKept ? was : { second, unplaced: outcome.vipUnplaced, plan: p });
    return p;
  });

  const live = liveOf(checked, outcomes);
  const next = assemble(interned, config, {
    servicePlans,
    outcomes,
    live,
    checks: keepSame(c?.plan.checks, planChecks(live, nodes, config, ctx.idOf)),
    vrrpInstances: vrrpInstancesOf(vrrpPlan, c),
    announcements: keepSame(c?.plan.announcements, planAnnouncements(announced.bgp, config)),
    settings: c?.plan.settings ?? settingsOf(config),
  });
  return {
    plan: next,
    cache: {
      config,
      services,
      nodes: nodeObjects,
      slices: sliceObjects,
      eligible: nodes,
      addressed: ctx.addressed,
      first: firsts,
      second: seconds,
      servicePlans: memo,
      ipam: { requests, allocations },
      vrrp: { vips, state: vrrp, plan: vrrpPlan },
      plan: next,
    },
  };
};

// `next`, or the object of the last snapshot under the same key when the two are equal.
const intern = <T>(into: Map<string, T>, key: string, previous: ReadonlyMap<string, T> | undefined, next: T): T => {
  const kept = keepSame(previous?.get(key), next);
  into.set(key, kept);
  return kept;
};

const sliceKey = (s: EndpointSlice): string => `${s.namespace}/${s.name}`;

// The last plan's instances while VRRP's plan is the same; else each equal instance kept.
const vrrpInstancesOf = (vrrpPlan: VrrpPlan, c: PlanCache | undefined): readonly VrrpInstance[] => {
  if (c === undefined) return vrrpPlan.instances;
  if (vrrpPlan === c.vrrp.plan) return c.plan.vrrpInstances;
  const was = new Map(c.plan.vrrpInstances.map((i) => [i.vrid, i]));
  return keepSame(
    c.plan.vrrpInstances,
    vrrpPlan.instances.map((i) => keepSame(was.get(i.vrid), i)),
  );
};

// A Service's plan and status follow its second pass's diagnostics, addresses, ports and
// frontends, not its servers: a node patch (which keeps those objects) leaves them as they were.
const sameStatusInputs = (a: SecondPass, b: SecondPass): boolean =>
  a === b ||
  (a.first === b.first &&
    a.served.diag === b.served.diag &&
    a.served.vips === b.served.vips &&
    a.served.ports === b.served.ports &&
    a.served.frontends === b.served.frontends &&
    a.served.listeners === b.served.listeners &&
    a.served.l4 === b.served.l4 &&
    a.served.wanted === b.served.wanted &&
    a.served.dualStackBroken === b.served.dualStackBroken);

// Whether IPAM would answer `next` as it answered `previous`: the same requests, except ports
// changed on requests without a sharing key (ports only matter between Services sharing an address).
const sameRequests = (previous: readonly AddressRequest[], next: readonly AddressRequest[]): boolean =>
  previous.length === next.length &&
  previous.every((a, i) => {
    const b = next[i]!;
    const unshared = a.sharingKey === undefined && b.sharingKey === undefined;
    return a === b || (unshared && same({ ...a, ports: [] }, { ...b, ports: [] }));
  });
