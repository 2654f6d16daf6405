import { EXIT, fail, parseFlags } from "./args.js";
import { applyCommand } from "./commands/apply.js";
import { planCommand } from "./commands/plan.js";
import { renderCommand } from "./commands/render.js";
import { processIo, type Io } from "./io.js";

const USAGE = `portico: cloud-style LoadBalancer Services for bare-metal Kubernetes (HAProxy + keepalived)

Usage:
  portico plan   --cluster <file|dir> [--config <file>] [--output text|json]
  portico render --cluster <file|dir> [--config <file>] --node <lbNode> --out <dir>
  portico apply  --cluster <file|dir> [--config <file>] --node <lbNode>

--cluster reads what \`kubectl get services,nodes,endpointslices -A -o yaml\` prints
(a List, multi-document YAML, or JSON; or a directory of such files).
--config defaults to $PORTICO_CONFIG, then ./portico.yaml.

Exit codes: 0 ok, 1 some Services could not be planned (output still written),
2 bad usage or unreadable input, 3 apply failed (nothing installed, or rolled back).
`;

const HELP: Readonly<Record<string, string>> = {
  plan: `Usage: portico plan --cluster <file|dir> [--config <file>] [--output text|json]

Plan the load balancers for a cluster dump and print the plan: per Service its VIP, ports,
backend servers, health checks, VRRP placement and any problems.
`,
  render: `Usage: portico render --cluster <file|dir> [--config <file>] --node <lbNode> --out <dir>

Render the files for one LB node into <dir>: haproxy.cfg, keepalived.conf and status.json
(per Service: VIPs, ipMode, conditions and diagnostics). Files are written atomically.
`,
  apply: `Usage: portico apply --cluster <file|dir> [--config <file>] --node <lbNode>

Apply the plan to HAProxy on this LB node. Paths and sockets come from the config's haproxy:
section (configPath, statsSocket, masterSocket; Debian's paths by default). The new haproxy.cfg
is checked with haproxy -c first and never installed when it fails. When only servers changed
(address, weight, membership within the backend's slots) the changes go through the runtime
API and the file is rewritten to match, with no reload. Otherwise the file is replaced
atomically and haproxy is reloaded through the master CLI; the new worker must report the new
config, or the previous file is put back and reloaded. Exit 3 when the apply failed.
`,
};

const COMMANDS = { plan: planCommand, render: renderCommand, apply: applyCommand } as const;

/** Run the `portico` command line; resolves to the exit code. Never throws for bad input. */
export const main = async (argv: readonly string[], io: Io = processIo()): Promise<number> => {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    io.stdout(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (!(command in COMMANDS)) return fail(io, `unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(", ")} (see portico --help)`, EXIT.usage);
  const name = command as keyof typeof COMMANDS;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(HELP[name] ?? USAGE);
    return EXIT.ok;
  }
  const parsed = parseFlags(name, rest);
  if ("error" in parsed) return fail(io, parsed.error, EXIT.usage);
  return COMMANDS[name](parsed.flags, io);
};
