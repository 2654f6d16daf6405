// Incremental changes at one size: node incremental-case.mjs <services> <nodes> <runs>.
// Measures, for each change, the time from the new snapshot's objects to a new plan and
// rendered files (today the planner re-plans in full; this is the figure to beat).
import { ingest, plan } from "@portico/core";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { renderKeepalived } from "@portico/adapter-keepalived";
import { cluster, config } from "./cluster.mjs";

const [services, nodes, runs] = process.argv.slice(2).map(Number);
const base = cluster(services, nodes);
const cfg = config(services);
const changes = {
  "service ports change": (objs) => objs.map((o) => (o.kind === "Service" && o.metadata.name === "svc-7" ? { ...o, spec: { ...o.spec, ports: [{ ...o.spec.ports[0], port: 8080 }] } } : o)),
  "node leaves": (objs) => objs.filter((o) => !(o.kind === "Node" && o.metadata.name === "node-3")),
  "endpointslice changes": (objs) => objs.map((o) => (o.kind === "EndpointSlice" && o.metadata.name === "svc-9-abcde" ? { ...o, endpoints: o.endpoints.slice(1) } : o)),
};
const result = {};
for (const [name, change] of Object.entries(changes)) {
  const after = change(base);
  const times = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const p = plan(ingest(after), cfg);
    renderHaproxy(p, {})._unsafeUnwrap();
    renderKeepalived(p, { node: "lb1" })._unsafeUnwrap();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  result[name] = times;
}
process.stdout.write(`${JSON.stringify({ services, nodes, result })}\n`);
