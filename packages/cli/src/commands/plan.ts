import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { diffPlans, ingest, plan, type Plan } from "@portico/core";
import { advise } from "../advice.js";
import { COLOURS, formatDiff, PLAIN } from "../diff-format.js";
import { formatPlan } from "../format.js";
import type { Io } from "../io.js";
import { loadCluster, loadConfig } from "../load.js";
import { progress } from "../progress.js";
import { EXIT, fail, type Flags } from "../args.js";

/** Read the plan that is running: `<dir>/plan.json` as `render` and `apply` write it, or that file itself. */
const readRunningPlan = async (path: string): Promise<{ plan: Plan; file: string } | { error: string }> => {
  const file = await stat(path)
    .then((s) => (s.isDirectory() ? join(path, "plan.json") : path))
    .catch(() => path);
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Plan;
    if (
      !Array.isArray(parsed.services) ||
      !Array.isArray(parsed.frontends) ||
      !Array.isArray(parsed.backends) ||
      !Array.isArray(parsed.vrrpInstances)
    ) {
      return { error: `${file}: not a Portico plan (render or apply writes plan.json)` };
    }
    return { plan: parsed, file };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      error:
        code === "ENOENT"
          ? `cannot read ${file}: no such file or directory (render or apply writes plan.json)`
          : e instanceof SyntaxError
            ? `${file}: not valid JSON (expected plan.json as render writes it): ${e.message}`
            : `cannot read ${file}: ${(e as Error).message}`,
    };
  }
};

/** `portico plan --cluster <file|dir> [--config <file>] [--output text|json] [--against <dir|plan.json>]` */
export const planCommand = async (flags: Flags, io: Io): Promise<number> => {
  const output = flags.string("output") ?? "text";
  if (output !== "text" && output !== "json")
    return fail(io, `plan: --output must be text or json, not "${output}"`, EXIT.usage);
  const clusterPath = flags.required("cluster");
  if (clusterPath === undefined)
    return fail(
      io,
      "plan needs --cluster <file|dir> (what `kubectl get services,nodes,endpointslices -A -o yaml` prints)",
      EXIT.usage,
    );
  const config = await loadConfig(flags.configPath(io));
  if (config.isErr()) return fail(io, config.error.message, EXIT.usage);
  const bar = progress(io, output !== "json");
  bar.step("reading the cluster");
  const docs = await loadCluster(clusterPath);
  bar.done();
  if (docs.isErr()) return fail(io, docs.error.message, EXIT.usage);
  const snapshot = ingest(docs.value);
  bar.step(`planning ${snapshot.services.length} Services`);
  const p = plan(snapshot, config.value);
  bar.done();
  const againstPath = flags.required("against");
  if (againstPath !== undefined) {
    const running = await readRunningPlan(againstPath);
    if ("error" in running) return fail(io, running.error, EXIT.usage);
    const d = diffPlans(running.plan, p);
    io.stdout(
      output === "json"
        ? `${JSON.stringify({ against: running.file, diff: d, advice: advise(p, config.value) }, null, 2)}\n`
        : formatDiff(d, running.file, io.color === true ? COLOURS : PLAIN) + formatAdvice(advise(p, config.value)),
    );
  } else {
    io.stdout(
      output === "json" ? `${JSON.stringify(p, null, 2)}\n` : formatPlan(p) + formatAdvice(advise(p, config.value)),
    );
  }
  return p.services.some((s) => s.state === "failed") ? EXIT.someFailed : EXIT.ok;
};

const formatAdvice = (advice: readonly string[]): string =>
  advice.length === 0 ? "" : `\nAdvice:\n${advice.map((a) => `  - ${a}`).join("\n")}\n`;
