import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { diffPlans } from "../src/diff/diff.js";
import { diffPlansInFull } from "../src/diff/full.js";
import type { PlanDiff } from "../src/diff/types.js";
import { ingest } from "../src/ingest.js";
import { planIncremental, type PlanCache } from "../src/plan/incremental.js";
import { plan } from "../src/plan/plan.js";
import type { Backend, Plan, Server } from "../src/plan/types.js";
import { NO_VRRP_STATE, vrrpStateOf } from "../src/vrrp.js";
import { aService, planOf, threeNodes } from "../src/testing/index.js";
import { clustersArb, configArb, objects } from "../src/testing/arbitraries.js";
import { describeIncremental } from "../src/testing/incremental.js";

interface Pair {
  readonly before: Plan;
  readonly after: Plan;
}

// The plans a controller goes through: each planned incrementally from the last, and in full.
const plansArb = fc.tuple(configArb, clustersArb).map(([config, clusters]) => {
  let cache: PlanCache | undefined;
  let last: Plan | undefined;
  const plans: { readonly incremental: Plan; readonly full: Plan }[] = [];
  for (const cluster of clusters) {
    const snapshot = ingest(objects(cluster));
    const vrrp = last === undefined ? NO_VRRP_STATE : vrrpStateOf(last);
    const next = planIncremental(snapshot, config, vrrp, cache);
    cache = next.cache;
    last = next.plan;
    plans.push({ incremental: next.plan, full: plan(snapshot, config, vrrp) });
  }
  return plans;
});

// Consecutive plans, incremental and full, and equal plans that share no objects.
const consecutiveArb = plansArb.map((plans) =>
  plans.flatMap((p, i): Pair[] => {
    const prev = plans[i - 1];
    const steps: Pair[] =
      prev === undefined
        ? []
        : [
            { before: prev.incremental, after: p.incremental },
            { before: prev.full, after: p.incremental },
            { before: prev.incremental, after: p.full },
          ];
    return [
      ...steps,
      { before: p.full, after: p.incremental },
      { before: plans[0]!.incremental, after: p.incremental },
    ];
  }),
);

// Hand-made oddities the planner never produces: equal copies in place of kept objects, server
// lists out of order or with two servers on one node, lists out of key order, duplicate ids.
// Each one now and then, so most plans keep enough of the planner's order for the fast paths.
const sometimes = fc.constantFrom(false, false, false, true);
const distortionArb = fc.record({
  clone: sometimes,
  shuffleServers: sometimes,
  twoOnANode: sometimes,
  reverse: fc.constantFrom("none", "none", "none", "none", "services", "frontends", "backends"),
  duplicateFrontend: sometimes,
  duplicateBackend: sometimes,
  vrrp: fc.constantFrom("none", "copy", "reprioritise"),
  reorderKeys: sometimes,
  pick: fc.nat(),
});
type Distortion = typeof distortionArb extends fc.Arbitrary<infer T> ? T : never;

const distort = (p: Plan, d: Distortion): Plan => {
  const at = <T>(items: readonly T[]): number => (items.length === 0 ? -1 : d.pick % items.length);
  const replace = <T>(items: readonly T[], k: number, f: (t: T) => T): T[] => items.map((x, i) => (i === k ? f(x) : x));
  let backends: readonly Backend[] = p.backends;
  const k = at(backends);
  const servers = (f: (s: readonly Server[]) => Server[]): void => {
    backends = replace(backends, k, (b) => ({ ...b, servers: f(b.servers) }));
  };
  if (d.clone) backends = replace(backends, k, (b) => structuredClone(b));
  if (d.shuffleServers) servers((s) => [...s].reverse());
  if (d.twoOnANode)
    servers((s) => (s.length === 0 ? [] : [...s, { ...s[0]!, address: "198.18.9.9" as Server["address"] }]));
  if (d.reorderKeys) backends = replace(backends, k, ({ servers: s, ...rest }) => ({ servers: s, ...rest }) as Backend);
  if (d.duplicateBackend && backends.length > 0)
    backends = [...backends, { ...backends[k]!, balance: "leastconn", servers: [...backends[k]!.servers].reverse() }];
  let frontends = p.frontends;
  if (d.duplicateFrontend && frontends.length > 0)
    frontends = [...frontends, { ...frontends[at(frontends)]!, port: 9 as (typeof frontends)[number]["port"] }];
  const vrrpInstances = p.vrrpInstances.map((v, i) =>
    i !== at(p.vrrpInstances) || d.vrrp === "none"
      ? v
      : d.vrrp === "copy"
        ? structuredClone(v)
        : { ...v, priorities: [...v.priorities].reverse().map((x, r) => ({ ...x, priority: 100 - r })) },
  );
  return {
    ...p,
    vrrpInstances,
    services: d.reverse === "services" ? [...p.services].reverse() : p.services,
    frontends: d.reverse === "frontends" ? [...frontends].reverse() : frontends,
    backends: d.reverse === "backends" ? [...backends].reverse() : backends,
  };
};

// Each odd plan against the planner's own, both ways, and back to the planner's own lists after
// the odd ones were seen (the diff remembers lists it found in order).
const distortedArb = fc.tuple(plansArb, distortionArb, distortionArb).map(([plans, d1, d2]) =>
  plans.flatMap((p, i): Pair[] => {
    const prev = plans[i - 1]?.incremental ?? p.full;
    const odd = distort(p.incremental, d1);
    return [
      { before: prev, after: odd },
      { before: odd, after: prev },
      { before: odd, after: distort(p.incremental, d2) },
      { before: prev, after: p.incremental },
    ];
  }),
);

describeIncremental<Pair, PlanDiff, undefined>({
  name: "diffPlans",
  full: ({ before, after }) => diffPlansInFull(before, after),
  fast: ({ before, after }) => ({ output: diffPlans(before, after), state: undefined }),
  arbitraries: {
    "consecutive incremental plans, and equal plans that share no objects": consecutiveArb,
    "hand-built plans: copies, server lists out of order or with two servers on a node, lists out of order, duplicate ids":
      distortedArb,
  },
});

describe("diffPlans on hand-built plans", () => {
  it("compares a backend listed twice under one id as the simple diff does (the last one counts)", () => {
    const p = planOf([
      ...threeNodes(),
      aService({ name: "web", policy: "Local" }),
      aService({ name: "api", created: "2026-02-01T00:00:00Z" }),
    ]);
    const first = p.backends[0]!;
    const twice: Plan = {
      ...p,
      backends: [...p.backends, { ...first, balance: "leastconn", servers: [...first.servers].reverse() }],
    };
    expect(diffPlans(p, twice).services[0]?.backends.changed).toEqual([first.id]);
    expect(diffPlans(p, twice)).toStrictEqual(diffPlansInFull(p, twice));
    expect(diffPlans(twice, p)).toStrictEqual(diffPlansInFull(twice, p));
  });
});
