// `npm run bench` (`-- --quick` for a short smoke run): prints one table of figures and writes
// bench/results/latest.json. Benchmarks print figures; they never fail on speed.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "@portico/host";
import type { CaseFigure, CaseResult } from "./_case.js";

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, "..", "results");
const quick = process.argv.includes("--quick");
const inCi = process.env["CI"] === "true" || process.env["CI"] === "1";

/** One row of the table: a figure's statistics, or why a case gave none. */
interface Figure {
  readonly name: string;
  readonly unit?: string;
  readonly runs?: number;
  readonly median?: number;
  readonly min?: number;
  readonly max?: number;
  readonly goal?: string;
  p50?: number;
  p99?: number;
  readonly unavailable?: string;
  readonly error?: string;
}
const figures: Figure[] = [];

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const figure = (name: string, values: readonly number[], unit: string, goal?: string): Figure => {
  const f: Figure = {
    name,
    unit,
    runs: values.length,
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    ...(goal ? { goal } : {}),
  };
  figures.push(f);
  return f;
};
const child = async <T>(script: string, args: readonly (string | number)[], timeoutMs = 600_000): Promise<T> => {
  // --expose-gc: a case collects the last run's garbage before the next run, so one run's figures
  // (time, peak memory) are not the previous run's leftovers.
  const r = await run(
    process.execPath,
    ["--max-old-space-size=8192", "--expose-gc", join(here, script), ...args.map(String)],
    { timeoutMs },
  );
  if (r.isErr()) throw new Error(r.error.message);
  if (r.value.code !== 0) throw new Error(`${script} ${args.join(" ")}: exit ${r.value.code}\n${r.value.stderr}`);
  return JSON.parse(r.value.stdout.trim().split("\n").pop() ?? "") as T;
};
// A case prints one JSON line last: { figures } or { unavailable } or { error }.
const caseChild = async (
  script: string,
  args: readonly (string | number)[],
  timeoutMs = 900_000,
): Promise<CaseResult> => {
  const r = await run(process.execPath, [join(here, script), ...args.map(String)], { timeoutMs });
  if (r.isErr()) return { error: r.error.message };
  const last = r.value.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as CaseResult;
  } catch {
    return { error: `exit ${r.value.code}: ${r.value.stderr.trim().split("\n").slice(-5).join(" | ")}` };
  }
};
// The q-quantile (nearest rank).
const quantile = (xs: readonly number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]!;
const details: Record<string, unknown> = {};
const version = async (cmd: string, args: readonly string[]): Promise<string> => {
  const r = await run(cmd, args, { timeoutMs: 10_000 });
  return r.isOk() ? (`${r.value.stdout}${r.value.stderr}`.split("\n")[0] ?? "").trim() : "not installed";
};

// 1. Planner scale.
const sizes: [number, number][] = quick
  ? [
      [100, 50],
      [500, 100],
    ]
  : [
      [100, 50],
      [1000, 200],
      [5000, 500],
    ];
const runs = quick ? 3 : 5;
interface PlannerCase {
  readonly totals: number[];
  readonly plans: number[];
  readonly peakRssKb: number[];
  readonly bytes: number;
}
const scale: { s: number; n: number; r: PlannerCase }[] = [];
for (const [s, n] of sizes) {
  process.stderr.write(`planner scale S=${s} N=${n} ...\n`);
  const r = await child<PlannerCase>("planner-case.js", [s, n, runs]);
  scale.push({ s, n, r });
  figure(`plan+render S=${s} N=${n}: wall time`, r.totals, "ms", s === 1000 && n === 200 ? "< 2000 ms" : undefined);
  figure(`plan+render S=${s} N=${n}: plan only`, r.plans, "ms");
  figure(
    `plan+render S=${s} N=${n}: peak RSS`,
    r.peakRssKb.map((kb) => kb / 1024),
    "MiB",
    s === 1000 && n === 200 ? "< 400 MB" : undefined,
  );
  figure(`plan+render S=${s} N=${n}: config size (haproxy.cfg + keepalived.conf)`, [r.bytes / 1024], "KiB");
}
for (let i = 1; i < scale.length; i++) {
  const a = scale[i - 1]!;
  const b = scale[i]!;
  const exponent = Math.log(median(b.r.totals) / median(a.r.totals)) / Math.log((b.s * b.n) / (a.s * a.n));
  figure(`growth exponent in S x N, (${a.s},${a.n}) -> (${b.s},${b.n})`, [exponent], "", "about 1");
}

// 2. Incremental change.
const [is, inodes] = quick ? [500, 100] : [1000, 200];
process.stderr.write(`incremental changes S=${is} N=${inodes} ...\n`);
interface IncrementalCase {
  readonly result: Record<string, number[]>;
  readonly cpu: Record<string, number[]>;
  readonly ingest: number[];
  readonly join: number[];
}
const inc = await child<IncrementalCase>("incremental-case.js", [is, inodes, quick ? 3 : 10]);
for (const [name, times] of Object.entries(inc.result))
  figure(`change at S=${is} N=${inodes}: ${name} -> plan and files ready`, times, "ms", "< 20 ms");
// CPU time of the same runs: on a shared machine, what the change costs when it is not waiting for a core.
for (const [name, times] of Object.entries(inc.cpu))
  figure(`change at S=${is} N=${inodes}: ${name}: CPU time`, times, "ms");
figure(`change at S=${is} N=${inodes}: ingest of the snapshot, incremental (before the above)`, inc.ingest, "ms");
figure(
  `change at S=${is} N=${inodes}: joining haproxy.cfg's sections into one string (after the above)`,
  inc.join,
  "ms",
);

// 3-8. Each in its own process (see each file's header); a case that lacks root, haproxy or
// keepalived reports why instead of a figure.
const cases: [number, string, string, number[]][] = [
  [3, "convergence", "convergence-case.js", quick ? [5, 3] : [20, 20]],
  [
    4,
    "hitless updates, 6 data-plane overhead, 7 equal load (measured)",
    "dataplane-case.js",
    quick ? [6, 2, 1000, 300] : [200, 5, 3000, 3000],
  ],
  [5, "failover", "failover-case.js", quick ? [2] : [10]],
  [8, "health-check load, 7 equal load (from the plan)", "health-checks-case.js", [1000, 500]],
  [9, "hostile input", "hostile-case.js", [30, quick ? 1 : 3]],
  [10, "slot layout at scale", "slots-case.js", [8000, quick ? 1 : 5]],
  [11, "BGP ECMP", "bgp-case.js", quick ? [1, 300] : [5, 1000]],
  [12, "Maglev flows moved", "maglev-case.js", quick ? [3] : [20]],
  [13, "UDP failover", "udp-failover-case.js", quick ? [2] : [10]],
  [14, "LB CPU per 10k requests/s", "lb-cpu-case.js", quick ? [2, 1000] : [5, 3000]],
  [15, "Service created -> first UDP answer", "udp-convergence-case.js", quick ? [3] : [10]],
];
let failedCases = 0;
for (const [n, what, script, args] of cases) {
  process.stderr.write(`${n}. ${what} ...\n`);
  const t0 = performance.now();
  const r = await caseChild(script, args);
  if (!("figures" in r)) {
    figures.push({ name: `${n}. ${what}`, ...r });
    if ("error" in r) {
      failedCases += 1;
      process.stderr.write(`${script} failed: ${r.error}\n`);
    } else if (inCi) {
      // Under CI the machine has every tool and root: a case that cannot run is a failure, not a skip.
      failedCases += 1;
      process.stderr.write(`${script} could not run under CI: ${r.unavailable}\n`);
    }
    continue;
  }
  for (const f of r.figures as readonly CaseFigure[]) {
    const made = figure(f.name, f.values, f.unit, f.goal);
    if (f.percentiles) Object.assign(made, { p50: quantile(f.values, 0.5), p99: quantile(f.values, 0.99) });
  }
  if (r.details !== undefined) details[script] = r.details;
  process.stderr.write(`   ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cpus: cpus().length,
  node: process.version,
  haproxy: await version("haproxy", ["-v"]),
  keepalived: await version("keepalived", ["--version"]),
};
const results = {
  date: new Date().toISOString(),
  quick,
  seconds: Math.round(performance.now() / 100) / 10,
  machine,
  figures,
  details,
};
await mkdir(resultsDir, { recursive: true });
await writeFile(join(resultsDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);

const fmt = (v: number): string =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
const rows = figures.map((f): string[] =>
  f.median === undefined || f.min === undefined || f.max === undefined
    ? [
        f.name,
        f.unavailable !== undefined ? `not available: ${f.unavailable}` : `failed: ${String(f.error).split("\n")[0]}`,
        "",
        "",
        "",
        "",
      ]
    : [
        f.name,
        `${fmt(f.median)} ${f.unit ?? ""}`.trim(),
        f.p99 === undefined ? "" : `${fmt(f.p99)} ${f.unit ?? ""}`.trim(),
        `${fmt(f.min)}-${fmt(f.max)}`,
        String(f.runs),
        f.goal ?? "",
      ],
);
const head = ["figure", "median", "p99", "min-max", "runs", "goal"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
console.log(
  `\nPortico benchmarks on ${machine.cpus} x ${machine.cpu}, node ${machine.node}; ${machine.haproxy}; ${machine.keepalived}\n`,
);
console.log(line(head));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
console.log(`\nwritten to ${join("bench", "results", "latest.json")} (${results.seconds} s)`);
if (failedCases > 0) process.exitCode = 1;
