// One planner-scale case in its own process (so peak RSS is this case's alone):
// node --expose-gc planner-case.js <services> <nodes> <runs>  -> one JSON line on stdout.
// Peak RSS is measured per run: the last run's garbage is collected and the kernel's high-water
// mark reset (/proc/self/clear_refs) before each run, so a run's peak is what one plan and render
// hold at once, not what earlier runs left for the collector.
import { ingest, plan, type LbNodeName } from "@portico/core";
import { renderHaproxy } from "@portico/adapter-haproxy";
import { renderKeepalived } from "@portico/adapter-keepalived";
import { readFileSync, writeFileSync } from "node:fs";
import { cluster, config } from "./_cluster.js";

const peakKb = (): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
const resetPeak = (): boolean => {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
};

const [services = 0, nodes = 0, runs = 0] = process.argv.slice(2).map(Number);
const objects = cluster(services, nodes);
const cfg = config(services);
const totals: number[] = [];
const plans: number[] = [];
const renders: number[] = [];
let bytes = 0;
const peaks: number[] = [];
for (let r = 0; r < runs; r++) {
  globalThis.gc?.();
  const reset = resetPeak();
  const t0 = process.hrtime.bigint();
  const p = plan(ingest(objects), cfg);
  const t1 = process.hrtime.bigint();
  const haproxy = renderHaproxy(p, {})._unsafeUnwrap();
  const keepalived = renderKeepalived(p, { node: "lb1" as LbNodeName })._unsafeUnwrap();
  const t2 = process.hrtime.bigint();
  plans.push(Number(t1 - t0) / 1e6);
  renders.push(Number(t2 - t1) / 1e6);
  totals.push(Number(t2 - t0) / 1e6);
  bytes = Buffer.byteLength(haproxy) + Buffer.byteLength(keepalived);
  if (p.services.some((s) => s.state !== "ready")) throw new Error("benchmark cluster did not plan cleanly");
  // Without a reset (no /proc), the process's peak so far.
  peaks.push(reset ? peakKb() : process.resourceUsage().maxRSS);
}
process.stdout.write(
  `${JSON.stringify({ services, nodes, totals, plans, renders, bytes, peakRssKb: peaks, maxRssKb: process.resourceUsage().maxRSS })}\n`,
);
