import type { Io } from "../io.js";
import { EXIT, fail, type Flags } from "../args.js";
import { findLbNode, loadConfig } from "../load.js";
import { doctorExitCode, formatDoctor, runDoctor } from "../doctor.js";

/** `portico doctor --config <file> --node <lbNode> [--kubeconfig <file>]` */
export const doctorCommand = async (flags: Flags, io: Io): Promise<number> => {
  const node = flags.required("node");
  if (node === undefined) return fail(io, "doctor needs --node <lbNode>", EXIT.usage);
  const configPath = flags.configPath(io);
  const config = await loadConfig(configPath);
  if (config.isErr()) return fail(io, config.error.message, EXIT.usage);
  const found = findLbNode(config.value, node);
  if (found.isErr()) return fail(io, found.error.message, EXIT.usage);
  const lbNode = found.value;
  const kubeconfig = flags.required("kubeconfig");
  const options = { config: config.value, node: lbNode, configPath };
  const results = await runDoctor(kubeconfig === undefined ? options : { ...options, kubeconfig });
  io.stdout(formatDoctor(results));
  return doctorExitCode(results);
};
