// One planner-scale case in its own process (so peak RSS is this case's alone):
// node planner-case.mjs <services> <nodes> <runs>  -> one JSON line on stdout.
import { ingest, plan } from "@portico/core";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { renderKeepalived } from "@portico/adapter-keepalived";
import { cluster, config } from "./cluster.mjs";

const [services, nodes, runs] = process.argv.slice(2).map(Number);
const objects = cluster(services, nodes);
const cfg = config(services);
const totals = [];
const plans = [];
const renders = [];
let bytes = 0;
for (let r = 0; r < runs; r++) {
  const t0 = process.hrtime.bigint();
  const p = plan(ingest(objects), cfg);
  const t1 = process.hrtime.bigint();
  const haproxy = renderHaproxy(p, {})._unsafeUnwrap();
  const keepalived = renderKeepalived(p, { node: "lb1" })._unsafeUnwrap();
  const t2 = process.hrtime.bigint();
  plans.push(Number(t1 - t0) / 1e6);
  renders.push(Number(t2 - t1) / 1e6);
  totals.push(Number(t2 - t0) / 1e6);
  bytes = Buffer.byteLength(haproxy) + Buffer.byteLength(keepalived);
  if (p.services.some((s) => s.state !== "ready")) throw new Error("benchmark cluster did not plan cleanly");
}
process.stdout.write(`${JSON.stringify({ services, nodes, totals, plans, renders, bytes, maxRssKb: process.resourceUsage().maxRSS })}\n`);
