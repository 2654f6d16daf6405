// `npm run lab`: a complete Portico setup on this machine, in network namespaces (root needed).
//
//   npm run lab                  start it: 2 LB nodes (HAProxy + keepalived, configured by
//                                `portico apply`), 3 fake Kubernetes nodes, a client
//   npm run lab -- fail node-b   make node-b's /healthz answer 503 (`heal node-b` undoes it)
//   npm run lab -- restore lb1   start lb1's HAProxy and keepalived again after you killed one
//   npm run lab -- down          remove everything it made; safe to run twice
//
// Options (flag or environment): --prefix / PORTICO_LAB_PREFIX, the namespaces' name prefix
// (default `plab-`); --state-dir / PORTICO_LAB_DIR, where configs, sockets and pid files live
// (default /run/portico-lab-<prefix>). Two labs with different prefixes and state directories
// never touch each other: each has its own bridge, so even their addresses may be the same.
//
// The network: one bridge (in its own namespace `<prefix>sw`, nothing in the host's) joins
//   <prefix>lb1 198.18.0.11, <prefix>lb2 198.18.0.12        (from portico.yaml's lbNodes)
//   <prefix>node-a .21, node-b .22, node-c .23               (from cluster.yaml's Nodes)
//   <prefix>client 198.18.0.100, VIPs 198.18.100.0/24 on-link (keepalived answers ARP)
// and the same in IPv6: 2001:db8::<the IPv4 address's last number> on the segment (the nodes'
// from cluster.yaml), VIPs 2001:db8:100::/120 on-link. Only 198.18.0.0/15 and 2001:db8::/32 are
// used, and only inside the lab's namespaces.
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { ingest, parseConfig, plan } from "@portico/core";
import { createNamespace, deleteNamespace, isInstalled, run, start, writeFileAtomic } from "@portico/host";
import { FAKE_NODE_BIN, HTTP_GET_BIN } from "@portico/testkit/lab";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../..");
const CLUSTER = join(here, "cluster.yaml");
const CONFIG = join(here, "portico.yaml");
const CLI = join(repo, "packages/cli/dist/bin.js");
const CLIENT_ADDRESS = "198.18.0.100";
const CLIENT_ADDRESS6 = "2001:db8::100";
const SUBNET_BITS = 24;
const SUBNET6_BITS = 64;
const VIP_ROUTE = "198.18.100.0/24";
const VIP_ROUTE6 = "2001:db8:100::/120";
/** Safety caps: far above what each step takes on an idle machine, for a loaded one. */
const CAP_MS = { vips: 30_000, serve: 30_000, apply: 60_000 };

const say = (line = "") => process.stdout.write(`${line}\n`);
/** A path inside the repository relative to where the command runs (shorter to read); others as they are. */
const rel = (path) => {
  const r = relative(process.cwd(), path);
  return r === "" ? "." : r.startsWith("..") || !path.startsWith(repo) ? path : r;
};

/** Run a program (argument array, no shell); its stdout, or an Error naming the command. */
const must = async (command, args, timeoutMs = 30_000) => {
  const r = await run(command, args, { timeoutMs });
  if (r.isErr()) throw new Error(r.error.message);
  if (r.value.code !== 0)
    throw new Error(
      `${command} ${args.join(" ")}: ${r.value.stderr.trim() || r.value.stdout.trim() || `exit ${r.value.code}`}`,
    );
  return r.value.stdout;
};
const inNs = (ns, command, args, timeoutMs) => must("ip", ["netns", "exec", ns, command, ...args], timeoutMs);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Options

const usage = `usage: npm run lab [-- up|down|fail <node>|heal <node>|restore <lbNode>] [--prefix <p>] [--state-dir <dir>]`;

const parseArgs = (argv) => {
  const positional = [];
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--prefix" || a === "--state-dir") {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      flags[a.slice(2)] = v;
    } else if (a === "-h" || a === "--help") positional.push("help");
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  const prefix = flags["prefix"] ?? process.env["PORTICO_LAB_PREFIX"] ?? "plab-";
  // The prefix names namespaces (at most 60 characters with the longest lab name) and the state directory.
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(prefix))
    throw new UsageError(`--prefix "${prefix}": use 1-40 lower-case letters, digits and '-', starting with a letter`);
  const stateDir =
    flags["state-dir"] ?? process.env["PORTICO_LAB_DIR"] ?? `/run/portico-lab-${prefix.replace(/-+$/, "")}`;
  if (!stateDir.startsWith("/") || stateDir.split("/").filter(Boolean).length < 2)
    throw new UsageError(
      `--state-dir "${stateDir}": give an absolute path at least two levels deep (it is removed by down)`,
    );
  return { command: positional[0] ?? "up", args: positional.slice(1), prefix, stateDir };
};

class UsageError extends Error {}
/** `up` refused before making anything: there is nothing of its own to clean up (and a running lab to keep). */
class RefusedError extends Error {}

// ---------------------------------------------------------------------------------------------
// What the lab is made of: read from the example's own cluster.yaml and portico.yaml.

const NAME = /^[a-z0-9][a-z0-9-]{0,19}$/;

const loadLayout = async (opts) => {
  const config = parse(await readFile(CONFIG, "utf8"));
  const cluster = parse(await readFile(CLUSTER, "utf8"));
  const lbNodes = config.lbNodes.map((n) => ({ name: n.name, address: n.address, interface: n.interface }));
  const nodes = cluster.items
    .filter((o) => o.kind === "Node")
    .map((o) => {
      const internal = o.status.addresses.filter((a) => a.type === "InternalIP").map((a) => a.address);
      return {
        name: o.metadata.name,
        address: internal.find((a) => !a.includes(":")),
        address6: internal.find((a) => a.includes(":")),
      };
    });
  // LB nodes are addressed over IPv4 in the config; the lab gives them an IPv6 address to match.
  for (const n of lbNodes) n.address6 = `2001:db8::${n.address?.split(".")[3]}`;
  for (const n of [...lbNodes, ...nodes]) {
    if (!NAME.test(n.name)) throw new Error(`${n.name}: lab node names must match ${NAME}`);
    if (!n.address?.startsWith("198.18.0."))
      throw new Error(`${n.name}: the lab's nodes live in 198.18.0.0/24, not ${n.address}`);
    if (n.address6 !== undefined && !/^2001:db8::[0-9a-f]{1,4}$/.test(n.address6))
      throw new Error(`${n.name}: the lab's nodes live in 2001:db8::/64, not ${n.address6}`);
  }
  for (const n of lbNodes)
    if (n.interface !== "eth0")
      throw new Error(`LB node ${n.name}: the lab gives each LB node eth0, not ${n.interface}`);
  const ns = (name) => `${opts.prefix}${name}`;
  return {
    ...opts,
    config,
    lbNodes: lbNodes.map((n) => ({ ...n, ns: ns(n.name), dir: join(opts.stateDir, n.name) })),
    nodes: nodes.map((n) => ({ ...n, ns: ns(n.name), dir: join(opts.stateDir, n.name) })),
    client: { name: "client", ns: ns("client"), address: CLIENT_ADDRESS, address6: CLIENT_ADDRESS6 },
    sw: ns("sw"),
  };
};

const allNamespaces = (lab) => [lab.sw, lab.client.ns, ...lab.lbNodes.map((n) => n.ns), ...lab.nodes.map((n) => n.ns)];
const markerOf = (stateDir) => join(stateDir, "lab.json");

/** Each LB node's own copy of portico.yaml: the same config, with every path in its own directory. */
const nodeConfig = (lab, lb) => ({
  ...lab.config,
  vrrp: {
    ...lab.config.vrrp,
    haproxyCheck: { kind: "script", pidFile: join(lb.dir, "haproxy.pid"), intervalS: 1, fall: 2, rise: 2 },
  },
  haproxy: {
    ...lab.config.haproxy,
    configPath: join(lb.dir, "haproxy.cfg"),
    statsSocket: join(lb.dir, "admin.sock"),
    masterSocket: join(lb.dir, "master.sock"),
  },
  keepalived: {
    ...lab.config.keepalived,
    configPath: join(lb.dir, "keepalived.conf"),
    pidFile: join(lb.dir, "keepalived.pid"),
  },
});

// ---------------------------------------------------------------------------------------------
// up

const up = async (lab) => {
  for (const [tool, args, pkg] of [
    ["ip", ["-V"], "iproute2"],
    ["haproxy", ["-v"], "haproxy"],
    ["keepalived", ["--version"], "keepalived"],
  ]) {
    if (!(await isInstalled(tool, args)))
      throw new RefusedError(`${tool} is not installed (apt-get install -y ${pkg})`);
  }
  if (existsSync(markerOf(lab.stateDir)))
    throw new RefusedError(
      `a lab already runs with state in ${lab.stateDir}: \`npm run lab -- down${flagsText(lab)}\` first`,
    );
  const present = new Set((await must("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]));
  const clash = allNamespaces(lab).filter((n) => present.has(n));
  if (clash.length > 0)
    throw new RefusedError(
      `namespace ${clash.join(", ")} already exists: \`npm run lab -- down${flagsText(lab)}\`, or use another --prefix`,
    );

  // Plan once here, with the same library calls the CLI makes, to know which ports each fake
  // node serves and which VIPs to wait for.
  const config = parseConfig(lab.config);
  if (config.isErr()) throw new RefusedError(`${rel(CONFIG)}: ${JSON.stringify(config.error)}`);
  const cluster = parse(await readFile(CLUSTER, "utf8"));
  const p = plan(ingest(cluster.items), config.value);
  const nodePorts = [...new Set(p.backends.flatMap((b) => b.servers.map((s) => s.port)))].sort((a, b) => a - b);
  const healthPorts = [
    ...new Set([
      ...p.backends.flatMap((b) => (b.healthCheck.kind === "http" ? [b.healthCheck.port] : [])),
      ...(p.checks ?? []).map((c) => c.healthCheck.port),
    ]),
  ].sort((a, b) => a - b);

  // The state directory first, with its marker: from here on, `down` can undo whatever follows.
  // 0755: keepalived checks HAProxy as an unprivileged user, who must reach the pid files.
  await mkdir(lab.stateDir, { recursive: true, mode: 0o755 });
  await chmod(lab.stateDir, 0o755);
  const record = {
    prefix: lab.prefix,
    stateDir: lab.stateDir,
    namespaces: [],
    lbNodes: lab.lbNodes,
    nodes: lab.nodes,
    client: lab.client,
    services: [],
  };
  const save = async () => {
    const w = await writeFileAtomic(markerOf(lab.stateDir), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
    if (w.isErr()) throw new Error(w.error.message);
  };
  await save();

  const t0 = Date.now();
  say(`Portico lab: namespaces ${lab.prefix}*, state in ${lab.stateDir}`);
  say(
    `  network: bridge in ${lab.sw}; 198.18.0.0/${SUBNET_BITS} and 2001:db8::/${SUBNET6_BITS} for the nodes, VIPs from ${lab.config.pools.flatMap((x) => x.addresses).join(", ")}`,
  );
  const ns = async (name) => {
    const made = await createNamespace(name);
    if (made.isErr()) throw new Error(made.error.message);
    record.namespaces.push(name);
    await save();
  };
  await ns(lab.sw);
  // Plain flooding: keepalived's IPv6 instances advertise to ff02::12, which MLD snooping might hold back.
  await must("ip", ["-n", lab.sw, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
  await must("ip", ["-n", lab.sw, "link", "set", "br0", "up"]);
  const attach = async (name, nsName, address, address6) => {
    await ns(nsName);
    // No duplicate address detection: the link-local address (source of keepalived's IPv6 adverts) works at once.
    for (const scope of ["all", "default"])
      await inNs(nsName, "sysctl", ["-q", "-w", `net.ipv6.conf.${scope}.accept_dad=0`]);
    const port = `ve-${name}`.slice(0, 15);
    await must("ip", ["-n", lab.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", nsName]);
    await must("ip", ["-n", lab.sw, "link", "set", port, "master", "br0", "up"]);
    await must("ip", ["-n", nsName, "addr", "add", `${address}/${SUBNET_BITS}`, "dev", "eth0"]);
    if (address6 !== undefined)
      await must("ip", ["-n", nsName, "addr", "add", `${address6}/${SUBNET6_BITS}`, "dev", "eth0", "nodad"]);
    await must("ip", ["-n", nsName, "link", "set", "eth0", "up"]);
  };
  for (const n of [lab.client, ...lab.lbNodes, ...lab.nodes]) await attach(n.name, n.ns, n.address, n.address6);
  // The client reaches the VIPs on the segment: whichever LB node holds one answers its ARP (or NDP).
  await must("ip", ["-n", lab.client.ns, "route", "add", VIP_ROUTE, "dev", "eth0"]);
  await must("ip", ["-n", lab.client.ns, "-6", "route", "add", VIP_ROUTE6, "dev", "eth0"]);

  // Fake nodes: long-lived and detached (their own session, output discarded), so they outlive
  // this command; each says it listens by writing its pid file, or why not in an error file.
  for (const n of lab.nodes) {
    await mkdir(n.dir, { recursive: true, mode: 0o755 });
    const s = await start("ip", [
      "netns",
      "exec",
      n.ns,
      process.execPath,
      FAKE_NODE_BIN,
      n.name,
      nodePorts.join(","),
      healthPorts.join(","),
      "--http",
      "--state-dir",
      n.dir,
    ]);
    if (s.isErr()) throw new Error(s.error.message);
  }
  const nodeErrors = () => lab.nodes.filter((n) => existsSync(join(n.dir, "error")));
  await waitFor(
    () => nodeErrors().length > 0 || lab.nodes.every((n) => existsSync(join(n.dir, "pid"))),
    15_000,
    "the fake nodes did not start listening",
  );
  for (const n of nodeErrors())
    throw new Error(`fake node ${n.name}: ${(await readFile(join(n.dir, "error"), "utf8")).trim()}`);
  say(
    `  fake nodes: ${lab.nodes.map((n) => `${n.name} ${[n.address, n.address6].filter(Boolean).join(" ")}`).join(", ")}; nodePorts ${nodePorts.join(", ")}; /healthz on ${healthPorts.join(", ")}`,
  );

  // LB nodes: `portico apply` in each node's namespace writes haproxy.cfg (validated) and
  // keepalived.conf (validated) and starts keepalived; then HAProxy starts on the file it wrote,
  // as Debian's haproxy.service would, with the master CLI apply uses for later reloads.
  // Both LB nodes at once, as they would be deployed; their reports print in order.
  say(`  LB nodes: ${lab.lbNodes.map((n) => `${n.name} ${n.address}`).join(", ")}: portico apply, then haproxy`);
  const reports = await Promise.allSettled(lab.lbNodes.map((lb) => startLbNode(lab, lb)));
  for (const r of reports) if (r.status === "fulfilled") say(r.value);
  const failed = reports.find((r) => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;

  // Ready when every VIP is held by its planned master alone (a node whose HAProxy started
  // later takes its VIPs back once its check passes) and answers through HAProxy.
  const master = new Map(p.vrrpInstances.flatMap((i) => i.vips.map((v) => [v, i.priorities[0]?.lbNode])));
  const vips = [...new Set(p.frontends.map((f) => f.vip))];
  let held = new Map();
  await waitFor(
    async () => {
      held = await holders(lab);
      return vips.every((v) => held.get(v)?.length === 1 && held.get(v)[0] === master.get(v));
    },
    CAP_MS.vips,
    () =>
      `the VIPs did not settle on their planned masters (${JSON.stringify([...master])}): ${JSON.stringify([...held])}`,
  );
  const urls = p.frontends.map((f) => `http://${hostPort(f.vip, f.port)}/`);
  const served = await run(
    "ip",
    ["netns", "exec", lab.client.ns, process.execPath, HTTP_GET_BIN, String(CAP_MS.serve), ...urls],
    { timeoutMs: CAP_MS.serve + 15_000 },
  );
  if (served.isErr()) throw new Error(served.error.message);
  const answers = served.value.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  if (served.value.code !== 0)
    throw new Error(
      `the VIPs do not answer from ${lab.client.ns}: ${answers.map((a) => `${a.url} ${a.status ?? a.error}`).join(", ")}`,
    );

  record.services = p.frontends.map((f) => {
    const b = p.backends.find((x) => x.id === f.backend);
    return {
      service: f.service,
      vip: f.vip,
      port: f.port,
      holder: held.get(f.vip)?.[0],
      proxy: b?.proxyProtocol ?? "none",
      nodes: (b?.servers ?? []).map((s) => s.node),
      check:
        b?.healthCheck.kind === "track"
          ? "kube-proxy :10256"
          : b?.healthCheck.kind === "http"
            ? `${b.healthCheck.source} :${b.healthCheck.port}`
            : "tcp",
    };
  });
  await save();
  summary(lab, record, answers, Date.now() - t0, await isInstalled("curl", ["--version"]));
};

/** `portico apply` in the LB node's namespace, then HAProxy on the file it wrote; returns what to print. */
const startLbNode = async (lab, lb) => {
  await mkdir(lb.dir, { recursive: true, mode: 0o755 });
  const cfg = nodeConfig(lab, lb);
  const configPath = join(lb.dir, "portico.yaml");
  const w = await writeFileAtomic(configPath, stringify(cfg), { mode: 0o644 });
  if (w.isErr()) throw new Error(w.error.message);
  const lines = [await porticoApply(lb, configPath)];
  lines.push(await startHaproxy(lb, cfg));
  return lines.join("\n");
};

/** `portico apply` for one LB node, inside its namespace; returns the command and its report. */
const porticoApply = async (lb, configPath) => {
  const args = ["apply", "--cluster", CLUSTER, "--config", configPath, "--node", lb.name];
  const out = await inNs(lb.ns, process.execPath, [CLI, ...args], CAP_MS.apply);
  return `\n$ ip netns exec ${lb.ns} portico ${args.map((a) => (a.startsWith("/") ? rel(a) : a)).join(" ")}\n${out.trimEnd().replace(/^/gm, "  ")}`;
};

/** HAProxy in master-worker mode on the file apply wrote, daemonised, with the master CLI apply reloads through. */
const startHaproxy = async (lb, cfg) => {
  const pidFile = join(lb.dir, "haproxy.pid");
  await inNs(lb.ns, "haproxy", [
    "-W",
    "-D",
    "-S",
    cfg.haproxy.masterSocket,
    "-p",
    pidFile,
    "-f",
    cfg.haproxy.configPath,
  ]);
  // keepalived checks HAProxy as an unprivileged user, who must read the pid file.
  await chmod(pidFile, 0o644);
  return `  haproxy: started (master pid ${(await readFile(pidFile, "utf8")).trim()}, master CLI ${rel(cfg.haproxy.masterSocket)})`;
};

const hostPort = (address, port) => (address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`);

/** Which LB node holds each VIP (a /32 or /128 on its eth0) right now. */
const holders = async (lab) => {
  const out = new Map();
  for (const lb of lab.lbNodes) {
    const text = await must("ip", ["-n", lb.ns, "-o", "addr", "show", "dev", "eth0"]);
    for (const m of text.matchAll(/inet6? ([0-9a-f.:]+)\/(?:32|128) /g))
      out.set(m[1], [...(out.get(m[1]) ?? []), lb.name]);
  }
  return out;
};

const waitFor = async (check, capMs, what) => {
  const until = Date.now() + capMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`${typeof what === "function" ? what() : what} (within ${capMs / 1000} s)`);
    await sleep(100);
  }
};

const flagsText = (lab) =>
  (lab.prefix === "plab-" ? "" : ` --prefix ${lab.prefix}`) +
  (lab.stateDir === `/run/portico-lab-${lab.prefix.replace(/-+$/, "")}` ? "" : ` --state-dir ${lab.stateDir}`);

const summary = (lab, record, answers, ms, curl) => {
  const f = flagsText(lab);
  const c = lab.client.ns;
  const get = (url) =>
    curl ? `ip netns exec ${c} curl -s ${url}` : `ip netns exec ${c} node ${rel(HTTP_GET_BIN)} 5000 ${url}`;
  const first = record.services[0];
  const v6 = record.services.find((s) => s.vip.includes(":"));
  const proxied = record.services.find((s) => s.proxy !== "none") ?? first;
  const lb1 = lab.lbNodes[0];
  const other = lab.lbNodes[1];
  const held = record.services.filter((s) => s.holder === lb1.name).map((s) => s.vip);
  const victim = lab.nodes[1];
  say(`\nThe lab is up (${(ms / 1000).toFixed(1)} s). Services, as Portico planned them:`);
  const rows = record.services.map((s) => [
    s.service,
    hostPort(s.vip, s.port),
    `held by ${s.holder}`,
    `nodes ${s.nodes.join(",")}`,
    `check ${s.check}`,
    s.proxy === "none" ? "" : `PROXY ${s.proxy}`,
  ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows)
    say(
      `  ${r
        .map((x, i) => x.padEnd(widths[i]))
        .join("  ")
        .trimEnd()}`,
    );
  say(`\nFirst answers from ${c}:`);
  for (const a of answers) say(`  ${a.url} -> ${a.body}`);
  say(`\nTry it (as root${rel(repo) === "." ? "" : `, from ${rel(repo)}`}):`);
  say(`  ${get(`http://${hostPort(first.vip, first.port)}/`)}`);
  say(`      which node answered, and the address it saw (the LB node's: no PROXY protocol)`);
  if (v6 !== undefined) {
    say(`  ${get(`http://${hostPort(v6.vip, v6.port)}/`)}`);
    say(`      the same over IPv6 (${v6.service} is dual-stack)`);
  }
  say(`  ${get(`http://${hostPort(proxied.vip, proxied.port)}/`)}`);
  say(`      PROXY ${proxied.proxy}: the node sees the client's own address, ${CLIENT_ADDRESS}`);
  say(`  kill $(cat ${join(lb1.dir, "keepalived.pid")})`);
  say(`      ${lb1.name}'s keepalived stops: ${held.length > 0 ? held.join(", ") : "its VIPs"} ${held.length === 1 ? "moves" : "move"} to ${other.name} (ip -n ${other.ns} addr show eth0);
      \`npm run lab -- restore ${lb1.name}${f}\` starts it again and they come back`);
  say(`  kill $(cat ${join(other.dir, "haproxy.pid")})`);
  say(`      ${other.name}'s HAProxy dies: its keepalived sees it in about 2 s and hands its VIPs over
      (\`npm run lab -- restore ${other.name}${f}\` brings it back)`);
  say(`  npm run lab -- fail ${victim.name}${f}   /   npm run lab -- heal ${victim.name}${f}`);
  say(`      ${victim.name}'s /healthz answers 503 / 200 again: HAProxy takes it out of rotation / back in`);
  say(`  ip netns exec ${lb1.ns} node ${rel(CLI)} status --config ${join(lb1.dir, "portico.yaml")} --node ${lb1.name}`);
  say(`      what ${lb1.name} holds and how HAProxy sees every server`);
  say(
    `  ip netns exec ${lb1.ns} node ${rel(CLI)} apply --cluster ${rel(CLUSTER)} --config ${join(lb1.dir, "portico.yaml")} --node ${lb1.name}`,
  );
  say(`      after editing ${rel(CLUSTER)}: the change, through the runtime API or a reload`);
  say(`  npm run lab -- down${f}`);
  say(`      remove everything the lab made`);
};

// ---------------------------------------------------------------------------------------------
// down

/** The pid in a pid file, when that process is alive and its command line names the lab's state directory. */
const labPid = async (file, stateDir) => {
  const text = await readFile(file, "utf8").catch(() => "");
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  // A stale pid file may name a pid that now belongs to something else: never signal that.
  return cmdline.split("\0").some((a) => a.startsWith(stateDir)) ? pid : undefined;
};

/** Whether a process still runs: a zombie has ended (it only waits for a parent, maybe init, to reap it). */
const alive = async (pid) => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
};

const down = async (lab) => {
  const marker = markerOf(lab.stateDir);
  const recorded = existsSync(marker) ? JSON.parse(await readFile(marker, "utf8")) : undefined;
  // Politely first, from the pid files: keepalived drops its VIPs, HAProxy closes its sockets.
  const pidFiles = [
    ...lab.lbNodes.flatMap((n) => ["haproxy.pid", "keepalived.pid", "keepalived_vrrp.pid"].map((f) => join(n.dir, f))),
    ...lab.nodes.map((n) => join(n.dir, "pid")),
  ];
  const pids = [];
  for (const file of pidFiles) {
    const pid = await labPid(file, lab.stateDir);
    if (pid !== undefined && !pids.includes(pid)) pids.push(pid);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const until = Date.now() + 5_000;
  const running = async () => (await Promise.all(pids.map(alive))).some(Boolean);
  while ((await running()) && Date.now() < until) await sleep(50);
  // Then whatever still runs in the lab's namespaces (deleteNamespace kills it) and the namespaces.
  const present = new Set((await must("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]));
  const names = [...new Set([...allNamespaces(lab), ...(recorded?.namespaces ?? [])])].filter(
    (n) => n.startsWith(lab.prefix) && present.has(n),
  );
  for (const n of names) await deleteNamespace(n);
  const left = new Set((await must("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]));
  const stuck = names.filter((n) => left.has(n));

  let removedDir = false;
  if (existsSync(lab.stateDir)) {
    // Only a directory this lab made (it holds the marker) or an empty one is removed.
    if (recorded !== undefined || (await readdir(lab.stateDir)).length === 0) {
      await rm(lab.stateDir, { recursive: true, force: true });
      removedDir = true;
    } else say(`  left ${lab.stateDir} alone: it has no lab.json, so this lab did not make it`);
  }
  if (pids.length === 0 && names.length === 0 && !removedDir)
    say(`Nothing to remove: no lab with prefix ${lab.prefix} and state in ${lab.stateDir}.`);
  else
    say(
      `Lab down: stopped ${pids.length} processes, removed ${names.length - stuck.length} namespaces${removedDir ? ` and ${lab.stateDir}` : ""}.`,
    );
  if (stuck.length > 0) throw new Error(`could not remove namespaces ${stuck.join(", ")}`);
};

// ---------------------------------------------------------------------------------------------
// fail / heal

const flip = async (lab, name, failing) => {
  if (!existsSync(markerOf(lab.stateDir)))
    throw new Error(`no lab runs with state in ${lab.stateDir}: start one with \`npm run lab${flagsText(lab)}\``);
  const node = lab.nodes.find((n) => n.name === name);
  if (node === undefined)
    throw new UsageError(
      `${failing ? "fail" : "heal"} needs a node: one of ${lab.nodes.map((n) => n.name).join(", ")}`,
    );
  const file = join(node.dir, "fail");
  if (failing) {
    const w = await writeFileAtomic(file, "503\n", { mode: 0o644 });
    if (w.isErr()) throw new Error(w.error.message);
  } else await rm(file, { force: true });
  const hc = lab.config.healthCheck ?? {};
  const checks = failing ? (hc.fall ?? 3) : (hc.rise ?? 2);
  const seconds = (checks * (hc.intervalMs ?? 2000)) / 1000;
  say(
    failing
      ? `${name}: /healthz now answers 503. HAProxy marks it DOWN after ${checks} failed checks (about ${seconds} s) and sends it no new connections.`
      : `${name}: /healthz answers 200 again. HAProxy marks it UP after ${checks} good checks (about ${seconds} s).`,
  );
};

// ---------------------------------------------------------------------------------------------
// restore: bring back what was killed on an LB node

const restore = async (lab, name) => {
  if (!existsSync(markerOf(lab.stateDir)))
    throw new Error(`no lab runs with state in ${lab.stateDir}: start one with \`npm run lab${flagsText(lab)}\``);
  const lb = lab.lbNodes.find((n) => n.name === name);
  if (lb === undefined)
    throw new UsageError(`restore needs an LB node: one of ${lab.lbNodes.map((n) => n.name).join(", ")}`);
  const haproxy = await labPid(join(lb.dir, "haproxy.pid"), lab.stateDir);
  // HAProxy first, so keepalived's check passes as soon as keepalived runs.
  if (haproxy === undefined || !(await alive(haproxy))) say(await startHaproxy(lb, nodeConfig(lab, lb)));
  else say(`  haproxy: already running (master pid ${haproxy})`);
  // apply starts keepalived when none runs, and leaves a running one (and HAProxy) as they are.
  say(await porticoApply(lb, join(lb.dir, "portico.yaml")));
  say(`\n${lb.name} is back: it takes its VIPs again once its HAProxy check passes (about 2 s).`);
};

// ---------------------------------------------------------------------------------------------

const mainLab = async () => {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`lab: ${e.message}\n${usage}\n`);
    return 2;
  }
  if (opts.command === "help") {
    say(usage);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write("lab: needs root (network namespaces, HAProxy binding VIPs): sudo npm run lab\n");
    return 2;
  }
  const lab = await loadLayout(opts);
  try {
    switch (opts.command) {
      case "up":
        try {
          await up(lab);
        } catch (e) {
          if (e instanceof RefusedError) {
            process.stderr.write(`lab: ${e.message}\n`);
            return 1;
          }
          process.stderr.write(`lab: ${e.message}\nlab: removing what was made so far\n`);
          await down(lab).catch((d) => process.stderr.write(`lab: down: ${d.message}\n`));
          return 1;
        }
        return 0;
      case "down":
        await down(lab);
        return 0;
      case "restore":
        await restore(lab, opts.args[0]);
        return 0;
      case "fail":
      case "heal":
        await flip(lab, opts.args[0], opts.command === "fail");
        return 0;
      default:
        throw new UsageError(`unknown command "${opts.command}"`);
    }
  } catch (e) {
    process.stderr.write(`lab: ${e.message}\n${e instanceof UsageError ? `${usage}\n` : ""}`);
    return e instanceof UsageError ? 2 : 1;
  }
};

// Exit explicitly: the fake nodes, HAProxy and keepalived run on, detached, after the lab command ends.
process.exit(await mainLab());
