import { EXIT, fail, parseFlags } from "./args.js";
import { applyCommand } from "./commands/apply.js";
import { doctorCommand } from "./commands/doctor.js";
import { planCommand } from "./commands/plan.js";
import { renderCommand } from "./commands/render.js";
import { runCommand } from "./commands/run.js";
import { statusCommand } from "./commands/status.js";
import { tuneCommand } from "./commands/tune.js";
import { completionScript, SHELLS, type Shell } from "./completion.js";
import { processIo, type Io } from "./io.js";
import { versionLine } from "./version.js";

const USAGE = `portico: cloud-style LoadBalancer Services for bare-metal Kubernetes (HAProxy + keepalived)

Usage:
  portico plan   --cluster <file|dir> [--config <file>] [--output text|json] [--against <dir>]
  portico render --cluster <file|dir> [--config <file>] --node <lbNode> --out <dir>
  portico apply  --cluster <file|dir> [--config <file>] --node <lbNode>
  portico run    [--config <file>] --node <lbNode> [--kubeconfig <file>]
  portico doctor [--config <file>] --node <lbNode> [--kubeconfig <file>]
  portico status [--config <file>] --node <lbNode> [--watch [--interval <duration>]] [--output text|json]
  portico tune   [--config <file>] --node <lbNode> [--dry-run] [--sysfs-root <dir>] [--procfs-root <dir>]
  portico completion bash|zsh
  portico --version

--cluster reads what \`kubectl get services,nodes,endpointslices -A -o yaml\` prints
(a List, multi-document YAML, or JSON; or a directory of such files).
--config defaults to $PORTICO_CONFIG, then ./portico.yaml.

Exit codes: 0 ok, 1 some Services could not be planned (output still written),
2 bad usage or unreadable input, 3 apply failed (nothing installed, or rolled back) or, for
status, HAProxy's runtime API could not be read.
`;

const HELP: Readonly<Record<string, string>> = {
  plan: `Usage: portico plan --cluster <file|dir> [--config <file>] [--output text|json] [--against <dir>]

Plan the load balancers for a cluster dump and print the plan: per Service its VIP, ports,
backend servers, health checks, VRRP placement and any problems, then advice.
With --against (a directory where render or apply wrote plan.json, or that file), print what
would change instead, grouped by Service, marking what needs an HAProxy reload and what the
runtime API can do.
`,
  render: `Usage: portico render --cluster <file|dir> [--config <file>] --node <lbNode> --out <dir>

Render the files for one LB node into <dir>: haproxy.cfg, keepalived.conf, status.json
(per Service: VIPs, ipMode, conditions and diagnostics), plan.json (for plan --against), and
tuning.json (the planned RPS/RFS/XPS writes) when the config's tuning.topologies declares this
node's topology. Files are written atomically.
`,
  run: `Usage: portico run [--config <file>] --node <lbNode> [--kubeconfig <file>]

The controller for one LB node: watch Services, Nodes and EndpointSlices, plan on every change
(bursts coalesced), apply to this node's HAProxy, and, on the one LB node holding the Lease,
publish Service status, the cleanup finalizer and Events. Serves /metrics, /healthz and /readyz
on controller.listen. When the API server is unreachable the running configuration stays as it
is. SIGTERM stops it without touching HAProxy or keepalived.
Without --kubeconfig: $KUBECONFIG, ~/.kube/config, or the in-cluster service account.
`,
  doctor: `Usage: portico doctor [--config <file>] --node <lbNode> [--kubeconfig <file>]

Check this LB node: haproxy and keepalived installed and new enough, the interface exists, is
up and holds the node's address, HAProxy can bind VIPs it does not hold, no other VRRP router
uses Portico's VRID range (needs tcpdump), irqbalance, config and socket paths, and the
kubeconfig. Each check prints OK, WARN or FAIL with the fix in one line.
Exit code: 0 all OK, 1 warnings, 3 failures (2: bad usage).
`,
  status: `Usage: portico status [--config <file>] --node <lbNode> [--watch [--interval <duration>]] [--output text|json]

What this LB node serves right now, one table per VIP: whether the node holds the VIP (its
addresses on the configured interface) and the VRRP state, each frontend with its sessions, and
each backend server with UP/DOWN/DRAIN/MAINT, weight, last health check (status, HTTP code,
duration) and current sessions, read from HAProxy's runtime API (the config's
haproxy.statsSocket). Servers are named by the node or pod they serve (exact names when
plan.json lies beside the installed haproxy.cfg, as render writes it); empty slots are left out.
--watch refreshes every --interval (default 2s, 200ms to 1h) until Ctrl-C: in place on a
terminal, one block (one JSON line with --output json) per refresh otherwise.
Exit codes: 0 shown, 2 bad usage or no installed haproxy.cfg, 3 the runtime API could not be
read (HAProxy not running, socket missing, permission denied); the hint line says what to do.
`,
  tune: `Usage: portico tune [--config <file>] --node <lbNode> [--dry-run] [--sysfs-root <dir>] [--procfs-root <dir>]

Spread packet processing on this LB node over its cores: read the CPU, NUMA and queue
topology of the node's interface from /sys and /proc, plan RPS, RFS, XPS (and, with
tuning.irqAffinity: spread, queue interrupt affinity) from the config's tuning section, write
only the values that differ and read every write back. --dry-run prints the differences and
writes nothing. Exit codes: 0 all as planned, 1 some write was refused or changed by the
kernel, 2 bad usage or unreadable topology.
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

const COMMANDS = {
  plan: planCommand,
  render: renderCommand,
  apply: applyCommand,
  run: runCommand,
  doctor: doctorCommand,
  tune: tuneCommand,
  status: statusCommand,
} as const;

/** `portico completion bash|zsh`: print the script that completes commands and flags in that shell. */
const completion = (rest: readonly string[], io: Io): number => {
  const [shell, ...extra] = rest;
  if (shell === "--help" || shell === "-h") {
    io.stdout("Usage: portico completion bash|zsh\n\nPrint a completion script: source <(portico completion bash)\n");
    return EXIT.ok;
  }
  if (shell === undefined || extra.length > 0 || !(SHELLS as readonly string[]).includes(shell)) {
    return fail(io, `completion takes one shell: ${SHELLS.join(" or ")} (see portico --help)`, EXIT.usage);
  }
  io.stdout(completionScript(shell as Shell));
  return EXIT.ok;
};

/** Run the `portico` command line; resolves to the exit code. Never throws for bad input. */
export const main = async (argv: readonly string[], io: Io = processIo()): Promise<number> => {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    io.stdout(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === "--version" || command === "version") {
    io.stdout(versionLine());
    return EXIT.ok;
  }
  if (command === "completion") return completion(rest, io);
  if (!(command in COMMANDS))
    return fail(
      io,
      `unknown command "${command}"; commands: ${Object.keys(COMMANDS).join(", ")} (see portico --help)`,
      EXIT.usage,
    );
  const name = command as keyof typeof COMMANDS;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(HELP[name] ?? USAGE);
    return EXIT.ok;
  }
  const parsed = parseFlags(name, rest);
  if ("error" in parsed) return fail(io, parsed.error, EXIT.usage);
  return COMMANDS[name](parsed.flags, io);
};
