// Incremental changes at one size: node incremental-case.js <services> <nodes> <runs>.
// For each change, the time from the new snapshot (already ingested, incrementally as the
// controller's source does: objects the watch did not replace are read once) to the plan, its diff
// against the running plan, and both rendered files, on the incremental path the controller
// takes (planIncremental, renderHaproxyCached and renderKeepalivedCached from the caches of the
// running plan). haproxy.cfg counts as ready when its sections are (a writer streams them);
// joining them into one string is timed separately, as is ingest. Each result is checked once
// against a full plan and render, untimed. CPU time (user + system) is recorded beside wall time:
// on a shared machine it says what the work costs when the process is not waiting for a core.
import {
  diffPlans,
  ingest,
  ingestIncremental,
  plan,
  planIncremental,
  vrrpStateOf,
  type LbNodeName,
} from "@portico/core";
import { renderHaproxy, renderHaproxyCached } from "@portico/adapter-haproxy";
import { renderKeepalived, renderKeepalivedCached } from "@portico/adapter-keepalived";
import { cluster, config, type KubeObject } from "./_cluster.js";

const [services = 0, nodes = 0, runs = 0] = process.argv.slice(2).map(Number);
const lb1 = "lb1" as LbNodeName;
const base = cluster(services, nodes);
const cfg = config(services);
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// The running state: the plan of the base cluster, planned again from its own VRRP state and
// rendered over its installed file, as a controller is after its first change.
const ingested = ingestIncremental(base);
const planned = planIncremental(ingested.snapshot, cfg);
const running = planIncremental(ingested.snapshot, cfg, vrrpStateOf(planned.plan), planned.cache);
const first = renderHaproxyCached(running.plan, {})._unsafeUnwrap();
const installed = renderHaproxyCached(running.plan, { previous: first.text }, first.cache)._unsafeUnwrap();
const vrrp = vrrpStateOf(running.plan);
const keepalivedInstalled = renderKeepalivedCached(running.plan, { node: lb1 })._unsafeUnwrap();

const changes: Record<string, (objs: readonly KubeObject[]) => KubeObject[]> = {
  "service ports change": (objs) =>
    objs.map((o) =>
      o.kind === "Service" && o.metadata.name === "svc-7"
        ? { ...o, spec: { ...o.spec, ports: [{ ...o.spec?.ports[0], port: 8080 }] } }
        : o,
    ),
  "node leaves": (objs) => objs.filter((o) => !(o.kind === "Node" && o.metadata.name === "node-3")),
  // svc-8 is Local: its backends follow its endpoints (a Cluster Service's do not).
  "endpointslice changes": (objs) =>
    objs.map((o) =>
      o.kind === "EndpointSlice" && o.metadata.name === "svc-8-abcde"
        ? { ...o, endpoints: o.endpoints?.slice(1) ?? [] }
        : o,
    ),
};
type Parts = { plan: number[]; diff: number[]; haproxy: number[]; keepalived: number[] };
const result: Record<string, number[]> = {};
const cpuResult: Record<string, number[]> = {};
const joins: number[] = [];
const ingestTimes: number[] = [];
const parts: Record<string, Parts> = {};
for (const [name, change] of Object.entries(changes)) {
  const after = change(base);
  const times: number[] = [];
  const cpus: number[] = [];
  const part: Parts = { plan: [], diff: [], haproxy: [], keepalived: [] };
  parts[name] = part;
  let last;
  for (let r = 0; r < runs; r++) {
    const ti = process.hrtime.bigint();
    const { snapshot } = ingestIncremental(after, ingested.cache);
    ingestTimes.push(ms(ti));
    const c0 = cpu();
    const t0 = process.hrtime.bigint();
    const next = planIncremental(snapshot, cfg, vrrp, running.cache);
    const t1 = process.hrtime.bigint();
    const diff = diffPlans(running.plan, next.plan);
    const t2 = process.hrtime.bigint();
    const haproxy = renderHaproxyCached(next.plan, { previous: installed.text }, installed.cache)._unsafeUnwrap();
    const t3 = process.hrtime.bigint();
    const keepalived = renderKeepalivedCached(next.plan, { node: lb1 }, keepalivedInstalled.cache)._unsafeUnwrap();
    const t4 = process.hrtime.bigint();
    times.push(ms(t0));
    cpus.push(cpu() - c0);
    const tj = process.hrtime.bigint();
    void haproxy.text;
    joins.push(ms(tj));
    part.plan.push(Number(t1 - t0) / 1e6);
    part.diff.push(Number(t2 - t1) / 1e6);
    part.haproxy.push(Number(t3 - t2) / 1e6);
    // keepalived.conf alone: the haproxy.cfg join above is timed in `join`.
    part.keepalived.push(Number(t4 - t3) / 1e6);
    last = { snapshot, next, diff, haproxy, keepalived };
  }
  if (last !== undefined) {
    // Untimed, after the timed runs: the incremental path must give what the full path gives, byte for byte.
    const { snapshot, next, diff, haproxy, keepalived } = last;
    const full = plan(snapshot, cfg, vrrp);
    if (JSON.stringify(full) !== JSON.stringify(next.plan))
      throw new Error(`${name}: incremental plan differs from the full plan`);
    if (renderHaproxy(full, { previous: installed.text })._unsafeUnwrap() !== haproxy.text)
      throw new Error(`${name}: cached render differs from the full render`);
    if (diff.services.length === 0 && diff.vrrp.length === 0) throw new Error(`${name}: the change changed nothing`);
    // The diff of the incremental plans (identity shortcuts) is the diff of plans that share no objects.
    if (JSON.stringify(diffPlans(plan(ingest(base), cfg, vrrpStateOf(planned.plan)), full)) !== JSON.stringify(diff))
      throw new Error(`${name}: the diff differs from the diff of full plans`);
    if (renderKeepalived(full, { node: lb1 })._unsafeUnwrap() !== keepalived.text)
      throw new Error(`${name}: cached keepalived.conf differs from the full render`);
  }
  result[name] = times;
  cpuResult[name] = cpus;
  // The check's full plan and render leave hundreds of megabytes of garbage that is not a
  // controller's: it is collected before the next change's runs (run with --expose-gc).
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 500));
}
process.stdout.write(
  `${JSON.stringify({ services, nodes, result, cpu: cpuResult, parts, ingest: ingestTimes, join: joins })}\n`,
);
