// `npm run bench:md`: writes the figures of bench/results/latest.json into BENCHMARKS.md, between
// its `<!-- figures:start -->` and `<!-- figures:end -->` markers (the rest of the file is prose
// and stays as it is). Run it after `npm run bench`.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "@portico/host";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const resultsPath = join(repo, "bench", "results", "latest.json");
const docPath = join(repo, "BENCHMARKS.md");
const START = "<!-- figures:start -->";
const END = "<!-- figures:end -->";

/** What run.ts writes, as far as this table reads it. */
interface Results {
  readonly date: string;
  readonly quick: boolean;
  readonly seconds?: number;
  readonly machine: {
    readonly cpus: number;
    readonly cpu: string;
    readonly node: string;
    readonly haproxy: string;
    readonly keepalived: string;
  };
  readonly figures: readonly {
    readonly name: string;
    readonly unit: string;
    readonly runs: number;
    readonly median?: number;
    readonly min: number;
    readonly max: number;
    readonly p99?: number;
    readonly goal?: string;
    readonly unavailable?: string;
    readonly error?: string;
  }[];
}

const results = JSON.parse(
  await readFile(resultsPath, "utf8").catch(() => {
    throw new Error(`no ${resultsPath}: run \`npm run bench\` first`);
  }),
) as Results;
const doc = await readFile(docPath, "utf8");
const from = doc.indexOf(START);
const to = doc.indexOf(END);
if (from < 0 || to < from) throw new Error(`BENCHMARKS.md has no ${START} ... ${END} section`);

const fmt = (v: number): string =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
const withUnit = (v: number, unit: string): string => `${fmt(v)}${unit === "" ? "" : ` ${unit}`}`;
const cell = (text: unknown): string => String(text).replaceAll("|", "\\|");
const m = results.machine;
const lines = [
  START,
  `Run of ${results.date.slice(0, 16).replace("T", " ")} UTC${results.quick ? " (**quick** run: fewer runs and changes; for a publishable table run the full bench)" : ""}, ${results.seconds ?? "?"} s in all.`,
  `Machine: ${m.cpus} x ${m.cpu}; Node ${m.node}; ${m.haproxy.split(" - ")[0]}; ${m.keepalived}.`,
  "",
  "| figure | median | p99 | min - max | runs | goal |",
  "| --- | ---: | ---: | ---: | ---: | --- |",
  ...results.figures.map((f) =>
    f.median === undefined
      ? `| ${cell(f.name)} | ${f.unavailable !== undefined ? `not available: ${cell(f.unavailable)}` : `failed: ${cell(String(f.error).split("\n")[0])}`} | | | | |`
      : `| ${cell(f.name)} | ${withUnit(f.median, f.unit)} | ${f.p99 === undefined ? "" : withUnit(f.p99, f.unit)} | ${fmt(f.min)} - ${fmt(f.max)} | ${f.runs} | ${cell(f.goal ?? "")} |`,
  ),
  END,
];
const written = await writeFileAtomic(docPath, `${doc.slice(0, from)}${lines.join("\n")}${doc.slice(to + END.length)}`);
if (written.isErr()) throw new Error(written.error.message);
process.stdout.write(`BENCHMARKS.md: ${results.figures.length} figures from ${results.date}\n`);
