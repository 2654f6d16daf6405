// `npm run bench` (`-- --quick` for a short smoke run): prints one table of figures and writes
// bench/results/latest.json. Benchmarks print figures; they never fail on speed.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "@portico/host";

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const figures = [];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const figure = (name, values, unit, goal) => {
  const f = { name, unit, runs: values.length, median: median(values), min: Math.min(...values), max: Math.max(...values), ...(goal ? { goal } : {}) };
  figures.push(f);
  return f;
};
const child = async (script, args, timeoutMs = 600_000) => {
  const r = await run(process.execPath, ["--max-old-space-size=8192", join(here, script), ...args.map(String)], { timeoutMs });
  if (r.isErr()) throw new Error(r.error.message);
  if (r.value.code !== 0) throw new Error(`${script} ${args.join(" ")}: exit ${r.value.code}\n${r.value.stderr}`);
  return JSON.parse(r.value.stdout.trim().split("\n").pop());
};
const version = async (cmd, args) => {
  const r = await run(cmd, args, { timeoutMs: 10_000 });
  return r.isOk() ? `${r.value.stdout}${r.value.stderr}`.split("\n")[0].trim() : "not installed";
};

// 1. Planner scale.
const sizes = quick ? [[100, 50], [500, 100]] : [[100, 50], [1000, 200], [5000, 500]];
const runs = quick ? 3 : 5;
const scale = [];
for (const [s, n] of sizes) {
  process.stderr.write(`planner scale S=${s} N=${n} ...\n`);
  const r = await child("planner-case.mjs", [s, n, runs]);
  scale.push({ s, n, r });
  figure(`plan+render S=${s} N=${n}: wall time`, r.totals, "ms", s === 1000 && n === 200 ? "< 2000 ms" : undefined);
  figure(`plan+render S=${s} N=${n}: plan only`, r.plans, "ms");
  figure(`plan+render S=${s} N=${n}: peak RSS`, [r.maxRssKb / 1024], "MiB", s === 1000 && n === 200 ? "< 400 MB" : undefined);
  figure(`plan+render S=${s} N=${n}: config size (haproxy.cfg + keepalived.conf)`, [r.bytes / 1024], "KiB");
}
for (let i = 1; i < scale.length; i++) {
  const a = scale[i - 1];
  const b = scale[i];
  const exponent = Math.log(median(b.r.totals) / median(a.r.totals)) / Math.log((b.s * b.n) / (a.s * a.n));
  figure(`growth exponent in S x N, (${a.s},${a.n}) -> (${b.s},${b.n})`, [exponent], "", "about 1");
}

// 2. Incremental change.
const [is, inodes] = quick ? [500, 100] : [1000, 200];
process.stderr.write(`incremental changes S=${is} N=${inodes} ...\n`);
const inc = await child("incremental-case.mjs", [is, inodes, quick ? 3 : 10]);
for (const [name, times] of Object.entries(inc.result)) figure(`change at S=${is} N=${inodes}: ${name} -> plan and files ready`, times, "ms", "< 20 ms");
// CPU time of the same runs: on a shared machine, what the change costs when it is not waiting for a core.
for (const [name, times] of Object.entries(inc.cpu)) figure(`change at S=${is} N=${inodes}: ${name}: CPU time`, times, "ms");
figure(`change at S=${is} N=${inodes}: ingest of the whole snapshot (before the above)`, inc.ingest, "ms");
figure(`change at S=${is} N=${inodes}: joining haproxy.cfg's sections into one string (after the above)`, inc.join, "ms");

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cpus: cpus().length,
  node: process.version,
  haproxy: await version("haproxy", ["-v"]),
  keepalived: await version("keepalived", ["--version"]),
};
const results = { date: new Date().toISOString(), quick, machine, figures };
await mkdir(join(here, "results"), { recursive: true });
await writeFile(join(here, "results", "latest.json"), `${JSON.stringify(results, null, 2)}\n`);

const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const rows = figures.map((f) => [f.name, `${fmt(f.median)} ${f.unit}`.trim(), `${fmt(f.min)}-${fmt(f.max)}`, String(f.runs), f.goal ?? ""]);
const head = ["figure", "median", "min-max", "runs", "goal"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join("  ");
console.log(`\nPortico benchmarks on ${machine.cpus} x ${machine.cpu}, node ${machine.node}; ${machine.haproxy}; ${machine.keepalived}\n`);
console.log(line(head));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
console.log(`\nwritten to ${join("bench", "results", "latest.json")}`);
