import { access, constants, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { irqbalanceRunning } from "@portico/adapter-sysfs";
import { run } from "@portico/host";
import { checkBgp } from "./doctor-bgp.js";
import { checkDirect } from "./doctor-direct.js";
import { checkSysctls } from "./sysctls.js";
import { inNs, type CheckResult, type DoctorOptions } from "./doctor-check.js";

export type { CheckResult, DoctorOptions, Verdict } from "./doctor-check.js";

/**
 * EXAMPLE_MARKER: the line that opens the example `/etc/portico/portico.yaml` the Debian package
 * installs; doctor fails while it is there, so an unedited example is never taken for a config.
 */
export const EXAMPLE_MARKER = "# portico: the packaged example;";

/** Minimum versions: HAProxy 2.4 (dynamic servers), keepalived 2.0 (VRRPv3 sub-second adverts). */
export const MINIMUM = { haproxy: [2, 4], keepalived: [2, 0] } as const;

const ok = (name: string, detail: string): CheckResult => ({ name, verdict: "OK", detail });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, verdict: "WARN", detail, fix });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, verdict: "FAIL", detail, fix });

/** Parse the first `major.minor` in a version banner. */
export const parseVersion = (text: string): [number, number] | undefined => {
  const m = /(\d+)\.(\d+)/.exec(text);
  return m === null ? undefined : [Number(m[1]), Number(m[2])];
};

const atLeast = (v: readonly [number, number], min: readonly [number, number]): boolean =>
  v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

const checkProgram = async (name: "haproxy" | "keepalived", args: readonly string[]): Promise<CheckResult> => {
  const r = await run(name, args, { timeoutMs: 10_000 });
  if (r.isErr()) return fail(`${name} installed`, `${name} not found`, `apt-get install -y ${name}`);
  const banner = `${r.value.stdout}${r.value.stderr}`.split("\n")[0]?.trim() ?? "";
  const v = parseVersion(banner);
  const min = MINIMUM[name];
  if (v === undefined)
    return warn(
      `${name} installed`,
      `cannot read the version from "${banner}"`,
      `check that ${name} -v prints a version`,
    );
  if (!atLeast(v, min))
    return fail(
      `${name} installed`,
      `${banner}: older than ${min.join(".")}`,
      `install ${name} ${min.join(".")} or newer (Debian 12 ships a suitable one)`,
    );
  return ok(`${name} installed`, banner);
};

const checkInterface = async (opts: DoctorOptions): Promise<CheckResult[]> => {
  const iface = opts.node.interface;
  const link = await inNs(opts, "ip", ["-j", "addr", "show", "dev", iface]);
  if (link.isErr()) return [fail("interface", link.error.message, "apt-get install -y iproute2")];
  if (link.value.code !== 0)
    return [
      fail(
        `interface ${iface}`,
        `${iface} does not exist on this node`,
        `set lbNodes[${opts.node.name}].interface to the interface that carries the VIPs (ip link)`,
      ),
    ];
  const info = (
    JSON.parse(link.value.stdout) as { operstate?: string; flags?: string[]; addr_info?: { local?: string }[] }[]
  )[0];
  const results: CheckResult[] = [];
  const up = info?.flags?.includes("UP") === true && info.operstate !== "DOWN";
  results.push(
    up
      ? ok(`interface ${iface}`, `up (${info?.operstate ?? "?"})`)
      : fail(`interface ${iface}`, `${iface} is down`, `ip link set ${iface} up`),
  );
  const addresses = (info?.addr_info ?? []).map((a) => a.local ?? "");
  results.push(
    addresses.includes(opts.node.address)
      ? ok("LB node address", `${opts.node.address} is on ${iface}`)
      : fail(
          "LB node address",
          `${opts.node.address} is not on ${iface} (it has ${addresses.join(", ") || "no addresses"})`,
          `add ${opts.node.address} to ${iface} or correct lbNodes[${opts.node.name}].address`,
        ),
  );
  return results;
};

const checkNonLocalBind = async (opts: DoctorOptions): Promise<CheckResult> => {
  // `bind ... transparent` needs CAP_NET_ADMIN; without it HAProxy on a backup node cannot bind VIPs it does not hold.
  if (process.getuid?.() === 0) return ok("bind VIPs not held", "running as root: HAProxy's `transparent` binds work");
  const sysctl = await readFile(`${opts.procRoot ?? "/proc"}/sys/net/ipv4/ip_nonlocal_bind`, "utf8").catch(() => "");
  return sysctl.trim() === "1"
    ? ok("bind VIPs not held", "net.ipv4.ip_nonlocal_bind=1")
    : warn(
        "bind VIPs not held",
        "not root and net.ipv4.ip_nonlocal_bind is 0: a backup LB node's HAProxy cannot bind VIPs it does not hold",
        "run haproxy as root (it drops privileges after binding) or sysctl -w net.ipv4.ip_nonlocal_bind=1",
      );
};

const checkIrqbalance = async (opts: DoctorOptions): Promise<CheckResult> => {
  const running = await irqbalanceRunning(opts.procRoot ?? "/proc");
  if (running.isErr()) return warn("irqbalance", running.error.message, "check that /proc is readable");
  return running.value
    ? warn(
        "irqbalance",
        "irqbalance is running; it moves NIC interrupts and may undo IRQ tuning",
        "ban the LB interfaces' IRQs in irqbalance (IRQBALANCE_BANNED_CPULIST or --banirq, see portico tune) or stop it",
      )
    : ok("irqbalance", "not running");
};

const checkPath = async (what: string, path: string, kind: "file" | "socket"): Promise<CheckResult> => {
  const dir = dirname(path);
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) return fail(what, `${dir} is not a directory`, `create ${dir}`);
    await access(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? fail(
          what,
          `${dir} does not exist`,
          `mkdir -p ${dir}${kind === "socket" ? " (or start haproxy once: its package creates it)" : ""}`,
        )
      : fail(what, `${dir} is not writable by this user`, `run portico as root or give it write access to ${dir}`);
  }
  if (kind === "socket") {
    const exists = await stat(path)
      .then((s) => s.isSocket())
      .catch(() => false);
    return exists
      ? ok(what, `${path} exists`)
      : warn(what, `${path} does not exist yet (HAProxy not running?)`, "start haproxy with the rendered config");
  }
  return ok(what, `${dir} is writable`);
};

const checkKubeconfig = async (path: string): Promise<CheckResult> => {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    return fail(
      "kubeconfig",
      `${path}: ${(e as Error).message.split("\n")[0] ?? ""}`,
      "pass --kubeconfig with a readable kubeconfig for the portico ServiceAccount",
    );
  }
  const api = kc.makeApiClient(CoreV1Api);
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5_000).unref());
  try {
    const r = await Promise.race([api.listNode({ limit: 1 }), timeout]);
    if (r === "timeout")
      return fail(
        "kubeconfig",
        `${kc.getCurrentCluster()?.server ?? "the API server"} did not answer in 5 s`,
        "check the server address, firewall and certificates in the kubeconfig",
      );
    return ok("kubeconfig", `${kc.getCurrentCluster()?.server ?? ""} answers and lets this user list nodes`);
  } catch (e) {
    const code = (e as { code?: number }).code;
    return fail(
      "kubeconfig",
      code === 403
        ? "the API server refuses to list nodes for this user"
        : `cannot reach the API server: ${(e as Error).message.split("\n")[0] ?? ""}`,
      code === 403
        ? "kubectl apply -f examples/deploy/rbac.yaml and use the portico ServiceAccount"
        : "check the server address, firewall and certificates in the kubeconfig",
    );
  }
};

/** Parse VRRP advert lines from `tcpdump -nn -l`: source address and VRID. */
export const parseVrrpAdverts = (text: string): { source: string; vrid: number }[] =>
  text
    .split("\n")
    .map((line) => /IP6? ([0-9a-fA-F.:]+) > .*VRRPv[23].*vrid (\d+)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ source: m[1]!, vrid: Number(m[2]) }));

const checkVrids = async (opts: DoctorOptions): Promise<CheckResult> => {
  const ms = opts.captureMs ?? 3_000;
  if (ms <= 0) return ok("VRID range", "not checked (capture disabled)");
  const { vridFirst, vridLast } = opts.config.vrrp;
  const ours = new Set(opts.config.lbNodes.map((n) => n.address as string));
  const cap = await inNs(opts, "timeout", [
    String(Math.ceil(ms / 1000)),
    "tcpdump",
    "-nn",
    "-l",
    "-c",
    "200",
    "-i",
    opts.node.interface,
    "ip proto 112 or ip6 proto 112",
  ]);
  if (cap.isErr() || cap.value.stderr.includes("tcpdump: not found") || cap.value.code === 127) {
    return warn(
      "VRID range",
      "not checked: tcpdump is not installed",
      "apt-get install -y tcpdump to let doctor look for other VRRP routers on the segment",
    );
  }
  const foreign = parseVrrpAdverts(cap.value.stdout).filter(
    (a) => !ours.has(a.source) && a.vrid >= vridFirst && a.vrid <= vridLast,
  );
  if (foreign.length === 0)
    return ok(
      "VRID range",
      `no other VRRP router uses ${vridFirst}-${vridLast} on ${opts.node.interface} (listened ${ms} ms)`,
    );
  const list = [...new Set(foreign.map((f) => `${f.vrid} from ${f.source}`))].join(", ");
  return fail(
    "VRID range",
    `other VRRP routers advertise in Portico's range: ${list}`,
    "set vrrp.vridFirst/vridLast to a range nobody else on the segment uses",
  );
};

const checkEdited = async (path: string): Promise<CheckResult> => {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const message = `cannot read ${path}: ${(e as Error).message}`;
    return fail("config edited", message, "pass --config with the config portico run uses");
  }
  const isExample = text.split("\n").some((line) => line.startsWith(EXAMPLE_MARKER));
  if (!isExample) return ok("config edited", `${path} is not the packaged example`);
  const fix = `set pools and lbNodes for this network, then delete the line starting "${EXAMPLE_MARKER}"`;
  return fail("config edited", `${path} is still the packaged example (its pools and lbNodes are placeholders)`, fix);
};

/** Run every check; the order is the order they print in. */
export const runDoctor = async (opts: DoctorOptions): Promise<CheckResult[]> => [
  ...(opts.configPath === undefined ? [] : [await checkEdited(opts.configPath)]),
  await checkProgram("haproxy", ["-v"]),
  await checkProgram("keepalived", ["--version"]),
  ...(await checkInterface(opts)),
  await checkNonLocalBind(opts),
  await checkVrids(opts),
  await checkIrqbalance(opts),
  ...(await checkSysctls(opts.procRoot ?? "/proc", opts.config.haproxy.maxconn ?? 100_000)),
  await checkPath("haproxy config path", opts.config.haproxy.configPath, "file"),
  await checkPath("haproxy runtime socket", opts.config.haproxy.statsSocket, "socket"),
  await checkPath("keepalived config path", opts.config.keepalived.configPath, "file"),
  ...(opts.kubeconfig === undefined ? [] : [await checkKubeconfig(opts.kubeconfig)]),
  ...(await checkBgp(opts)),
  ...(await checkDirect(opts)),
];

/** The worst verdict decides the exit code: 0 all OK, 1 warnings, 3 failures (2 stays "bad usage"). */
export const doctorExitCode = (results: readonly CheckResult[]): number =>
  results.some((r) => r.verdict === "FAIL") ? 3 : results.some((r) => r.verdict === "WARN") ? 1 : 0;

/** One line per check, fixes indented under failures and warnings. */
export const formatDoctor = (results: readonly CheckResult[]): string =>
  results
    .map((r) => `${r.verdict.padEnd(4)}  ${r.name}: ${r.detail}${r.fix === undefined ? "" : `\n      fix: ${r.fix}`}`)
    .join("\n") + "\n";
