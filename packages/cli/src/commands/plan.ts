import { ingest, plan } from "@portico/core";
import { formatPlan } from "../format.js";
import type { Io } from "../io.js";
import { loadCluster, loadConfig } from "../load.js";
import { EXIT, fail, type Flags } from "../args.js";

/** `portico plan --cluster <file|dir> [--config <file>] [--output text|json]` */
export const planCommand = async (flags: Flags, io: Io): Promise<number> => {
  const output = flags.string("output") ?? "text";
  if (output !== "text" && output !== "json") return fail(io, `--output must be text or json, not "${output}"`, EXIT.usage);
  const clusterPath = flags.required("cluster");
  if (clusterPath === undefined) return fail(io, "plan needs --cluster <file|dir> (what `kubectl get services,nodes,endpointslices -A -o yaml` prints)", EXIT.usage);
  const config = await loadConfig(flags.configPath(io));
  if (config.isErr()) return fail(io, config.error.message, EXIT.usage);
  const docs = await loadCluster(clusterPath);
  if (docs.isErr()) return fail(io, docs.error.message, EXIT.usage);
  const p = plan(ingest(docs.value), config.value);
  io.stdout(output === "json" ? `${JSON.stringify(p, null, 2)}\n` : formatPlan(p));
  return p.services.some((s) => s.state === "failed") ? EXIT.someFailed : EXIT.ok;
};
