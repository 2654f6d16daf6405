import fc from "fast-check";
import type { Config } from "../src/settings.js";
import { ingest } from "../src/ingest.js";
import type { ClusterSnapshot } from "../src/model.js";
import { planIncremental, type PlanCache } from "../src/plan/incremental.js";
import { plan } from "../src/plan/plan.js";
import type { Plan } from "../src/plan/types.js";
import { NO_VRRP_STATE, vrrpStateOf } from "../src/vrrp.js";
import { clustersArb, configArb, nodeStepsArb, objects, type Cluster } from "../src/testing/arbitraries.js";
import { describeIncremental } from "../src/testing/incremental.js";

interface Input {
  readonly snapshot: ClusterSnapshot;
  readonly config: Config;
}

const snapshots = (arb: fc.Arbitrary<readonly Cluster[]>): fc.Arbitrary<readonly Input[]> =>
  fc.tuple(configArb, arb).map(([config, clusters]) => clusters.map((c) => ({ snapshot: ingest(objects(c)), config })));

// Each plan starts from what the plan before it runs, as a controller's do.
const running = (previous: Plan | undefined) => (previous === undefined ? NO_VRRP_STATE : vrrpStateOf(previous));

describeIncremental<Input, Plan, PlanCache>({
  name: "planIncremental",
  full: ({ snapshot, config }, previous) => plan(snapshot, config, running(previous)),
  fast: ({ snapshot, config }, previous, cache) => {
    const next = planIncremental(snapshot, config, running(previous), cache);
    return { output: next.plan, state: next.cache };
  },
  arbitraries: {
    "any sequence of snapshots: Services, nodes and EndpointSlices coming, going and changing": snapshots(clustersArb),
    "nodes joining, leaving or changing under Services of every kind": snapshots(nodeStepsArb),
  },
  numRuns: 150,
});
