import type { Config } from "../settings.js";
import { boundDiagnostics } from "../diagnostics.js";
import type { Ip } from "../ip.js";
import { allocate, type AddressRequest, type AllocateOptions } from "../ipam.js";
import type { ClusterSnapshot, Diagnostic, EndpointSlice } from "../model.js";
import { isEligible } from "../nodes.js";
import { NO_VRRP_STATE, planVrrp, type VrrpState } from "../vrrp.js";
import { planAnnouncements, splitByAnnounce } from "./announce.js";
import { secondContext, secondPass, type SecondPass, type Served } from "./backends.js";
import { planChecks } from "./checks.js";
import { withoutCollisions } from "./_collisions.js";
import { responsibleServices } from "./responsible.js";
import { firstPass, type FirstPass } from "./services.js";
import { outcomeOf, servicePlanOf, statusToClear, type Outcome } from "./status.js";
import type { BgpAnnouncement } from "./announce.js";
import type { CheckBackend, Plan, PlanSettings, ServicePlan, VrrpInstance } from "./types.js";
import { withoutTakenPorts, type TakenPort } from "./takenPorts.js";

/**
 * Plan the load balancers for a cluster snapshot: total and deterministic. The same snapshot and
 * config give the same Plan in any order of input objects; a Service that cannot be planned gets
 * diagnostics and a failed status while every other Service is planned normally. Never throws.
 * `vrrp` is what runs now (the previous plan's `vrrpStateOf`, or the VRIDs read from the
 * installed keepalived.conf): with it, VRIDs never change and masters move only when they must.
 */
export const plan = (snapshot: ClusterSnapshot, config: Config, vrrp: VrrpState = NO_VRRP_STATE): Plan => {
  const services = responsibleServices(snapshot.services, config);
  const nodes = snapshot.nodes.filter(isEligible);
  const problems = groupByService(snapshot.diagnostics);
  const slices = slicesByService(snapshot.endpointSlices);
  // First pass: options, families and address requests; IPAM answers every request at once.
  const firsts = services.map((s) => firstPass(s, problems.get(s.key) ?? NONE, config));
  const allocations = allocate(requestsOf(firsts), config.pools, ipamOptionsOf(config));
  // Second pass: frontends and backends per port and family.
  const ctx = secondContext(config, nodes);
  const seconds = withoutCollisions(
    firsts.map((f) => secondPass(f, allocations.get(f.service.key), slices.get(f.service.key) ?? NONE, ctx)),
  );
  // VRRP over the addresses of the Services that will be served; then each Service's status.
  const announced = splitByAnnounce(servedVips(seconds), config.pools);
  const vrrpPlan = planVrrp(announced.vrrp, config.lbNodes, config.vrrp, vrrp);
  const unplaced = new Set(vrrpPlan.unplaced);
  const outcomes = seconds.map((s) => outcomeOf(s, unplaced, config));
  const servicePlans = seconds.map((s, i) => servicePlanOf(s, outcomes[i]!, problems.get(s.first.service.key) ?? NONE));
  const live = liveOf(seconds, outcomes);
  return assemble(snapshot, config, {
    servicePlans,
    outcomes,
    live,
    checks: planChecks(live, nodes, config, ctx.idOf),
    vrrpInstances: vrrpPlan.instances,
    announcements: planAnnouncements(announced.bgp, config),
    settings: settingsOf(config),
  });
};

/** The parts of a Plan that are planned per Service, or that the incremental path may keep. */
export interface PlanParts {
  readonly servicePlans: ServicePlan[];
  readonly outcomes: readonly Outcome[];
  /** What the Services that are served built, oldest Service first. */
  readonly live: readonly Served[];
  readonly checks: readonly CheckBackend[];
  readonly vrrpInstances: readonly VrrpInstance[];
  /** Who announces the BGP VIPs; absent or empty leaves the Plan without announcements. */
  readonly announcements?: readonly BgpAnnouncement[];
  readonly settings: PlanSettings;
}

/** The Plan from its parts: every list sorted by key or id. */
export const assemble = (snapshot: ClusterSnapshot, config: Config, parts: PlanParts): Plan =>
  withoutTakenPorts(assembled(snapshot, config, parts), reservedOf(config));

// The LB nodes' own ports, refused to every Service on every address.
const reservedOf = (config: Config): TakenPort[] =>
  config.reservedPorts.map((port) => ({ port, owner: "reservedPorts" }));

const assembled = (snapshot: ClusterSnapshot, config: Config, parts: PlanParts): Plan => ({
  services: parts.servicePlans.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  frontends: parts.live.flatMap((d) => d.frontends).sort(byId),
  backends: parts.live.flatMap((d) => d.backends).sort(byId),
  checks: parts.checks,
  unservedListeners: parts.live.flatMap((d) => d.listeners).sort(byId),
  l4Listeners: parts.live.flatMap((d) => d.l4).sort(byId),
  statusToClear: statusToClear(snapshot.services, config),
  vrrpInstances: parts.vrrpInstances,
  ...(parts.announcements === undefined || parts.announcements.length === 0
    ? {}
    : { announcements: parts.announcements }),
  lbNodes: config.lbNodes,
  diagnostics: boundDiagnostics([...snapshot.diagnostics, ...parts.outcomes.flatMap((o) => o.diag)]),
  settings: parts.settings,
});

const NONE: readonly never[] = [];

const byId = <T extends { readonly id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The settings from the config that renderers need. */
export const settingsOf = (config: Config): PlanSettings => ({
  haproxy: config.haproxy,
  keepalived: config.keepalived,
  vrrp: config.vrrp,
  healthCheck: config.healthCheck,
  ...(config.bgp === undefined ? {} : { bgp: config.bgp }),
  ...(config.nftables === undefined ? {} : { nftables: config.nftables }),
});

/** How IPAM treats sharing keys, from the config. */
export const ipamOptionsOf = (config: Config): AllocateOptions => ({
  shareAcrossNamespaces: config.shareAcrossNamespaces ?? false,
});

/** Ingest's diagnostics about Services, by Service key. */
export const groupByService = (diagnostics: readonly Diagnostic[]): Map<string, Diagnostic[]> => {
  const out = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    if (d.object.kind !== "Service" || d.object.namespace === undefined || d.object.name === undefined) continue;
    const key = `${d.object.namespace}/${d.object.name}`;
    out.set(key, [...(out.get(key) ?? []), d]);
  }
  return out;
};

/** EndpointSlices by the key of their Service, in snapshot order. */
export const slicesByService = (slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> => {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const list = out.get(s.service);
    if (list === undefined) out.set(s.service, [s]);
    else list.push(s);
  }
  return out;
};

/** The address requests of the Services that make one, oldest Service first. */
export const requestsOf = (firsts: readonly FirstPass[]): AddressRequest[] => {
  const out: AddressRequest[] = [];
  for (const f of firsts) if (f.request !== undefined) out.push(f.request);
  return out;
};

/** The VIPs of the Services that will be served, oldest Service first; a shared address once. */
export const servedVips = (seconds: readonly SecondPass[]): Ip[] => {
  const out: Ip[] = [];
  const seen = new Set<Ip>();
  for (const { served } of seconds) {
    if (served.frontends.length + served.l4.length === 0 || served.dualStackBroken) continue;
    for (const v of served.vips) {
      if (seen.has(v.ip)) continue;
      seen.add(v.ip);
      out.push(v.ip);
    }
  }
  return out;
};

/** What the Services that are served built. */
export const liveOf = (seconds: readonly SecondPass[], outcomes: readonly Outcome[]): Served[] =>
  seconds.flatMap((s, i) => (outcomes[i]!.failed ? [] : [s.served]));
