import { diffPlans, ingest, planIncremental, vrrpStateOf } from "@portico/core";
import { renderHaproxyCached } from "@portico/adapter-haproxy";
import { cluster, config } from "./cluster.mjs";
const [services, nodes, runs, which] = process.argv.slice(2);
const base = cluster(Number(services), Number(nodes));
const cfg = config(Number(services));
const running = planIncremental(ingest(base), cfg);
const first = renderHaproxyCached(running.plan, {})._unsafeUnwrap();
const installed = renderHaproxyCached(running.plan, { previous: first.text }, first.cache)._unsafeUnwrap();
const vrrp = vrrpStateOf(running.plan);
const changes = {
  ports: (objs) => objs.map((o) => (o.kind === "Service" && o.metadata.name === "svc-7" ? { ...o, spec: { ...o.spec, ports: [{ ...o.spec.ports[0], port: 8080 }] } } : o)),
  node: (objs) => objs.filter((o) => !(o.kind === "Node" && o.metadata.name === "node-3")),
  slice: (objs) => objs.map((o) => (o.kind === "EndpointSlice" && o.metadata.name === "svc-8-abcde" ? { ...o, endpoints: o.endpoints.slice(1) } : o)),
};
const snapshot = ingest(changes[which](base));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const out = { plan: [], diff: [], haproxy: [] };
for (let r = 0; r < Number(runs); r++) {
  const c0 = cpu();
  const next = planIncremental(snapshot, cfg, vrrp, running.cache);
  const c1 = cpu();
  diffPlans(running.plan, next.plan);
  const c2 = cpu();
  renderHaproxyCached(next.plan, { previous: installed.text }, installed.cache)._unsafeUnwrap();
  const c3 = cpu();
  out.plan.push(c1 - c0); out.diff.push(c2 - c1); out.haproxy.push(c3 - c2);
}
console.log(JSON.stringify(out));
