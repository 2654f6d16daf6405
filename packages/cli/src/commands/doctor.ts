import type { Io } from "../io.js";
import { EXIT, fail, type Flags } from "../args.js";
import { loadConfig } from "../load.js";
import { doctorExitCode, formatDoctor, runDoctor } from "../doctor.js";

/** `portico doctor --config <file> --node <lbNode> [--kubeconfig <file>]` */
export const doctorCommand = async (flags: Flags, io: Io): Promise<number> => {
  const node = flags.required("node");
  if (node === undefined) return fail(io, "doctor needs --node <lbNode>", EXIT.usage);
  const config = await loadConfig(flags.configPath(io));
  if (config.isErr()) return fail(io, config.error.message, EXIT.usage);
  const lbNode = config.value.lbNodes.find((n) => n.name === node);
  if (lbNode === undefined) return fail(io, `--node "${node}" is not an LB node in the config; configured: ${config.value.lbNodes.map((n) => n.name).join(", ")}`, EXIT.usage);
  const kubeconfig = flags.required("kubeconfig");
  const results = await runDoctor({ config: config.value, node: lbNode, ...(kubeconfig === undefined ? {} : { kubeconfig }) });
  io.stdout(formatDoctor(results));
  return doctorExitCode(results);
};
