// A real LB node for `portico status`, in one network namespace made here: HAProxy 2.6 on the
// quickstart's rendered config, fake Kubernetes nodes whose /healthz answers 200 (worker-1), 503
// (worker-2) or closes the connection (cp-1), one slot set to DRAIN and two to MAINT (one of them a
// Cluster-policy slot tracking the shared check) through the runtime API, and one held client connection per held VIP so sessions show. Used by the
// integration test and by record.mjs, which saves the runtime API's answers as fixtures.
// Addresses: 198.18.0.0/15 only, all inside the namespace.
import { createConnection } from "node:net";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { addInterface, createNamespace, deleteNamespace, run, start } from "@portico/host";
import { sendCommands } from "@portico/adapter-haproxy";
import { main } from "@portico/cli";

const repo = resolve(import.meta.dirname, "../../../..");
const quickstart = join(repo, "examples/quickstart");

/** VIPs this node holds in the scenario (198.18.100.12 is planned but held elsewhere). */
export const HELD = ["198.18.100.10", "198.18.100.11"];

// One process in the namespace plays every Kubernetes node: it answers on the nodes' addresses
// (on lo) and tells them apart by the local address the check reached.
const NODES = `
const http = require("node:http"), net = require("node:net");
const health = (req, res) => {
  const at = req.socket.localAddress.replace(/^::ffff:/, "");
  if (at === "198.18.2.10") { req.socket.destroy(); return; }
  res.writeHead(at === "198.18.2.11" ? 200 : 503, { "content-type": "application/json" });
  res.end('{"localEndpoints":1}');
};
const held = [];
const listen = (s, port) => new Promise((r) => s.listen(port, "0.0.0.0", r));
Promise.all([
  ...[32156, 30254, 10256].map((p) => listen(http.createServer(health), p)),
  ...[30718, 31559, 30893, 31214].map((p) => listen(net.createServer((c) => { c.on("error", () => {}); held.push(c); }), p)),
]).then(() => console.log("ready"));
`;

const CLIENT = `
const net = require("node:net");
const vips = process.argv.slice(1);
let open = 0;
for (const vip of vips) {
  const c = net.createConnection({ host: vip, port: 80 }, () => { if (++open === vips.length) console.log("connected"); });
  c.on("error", (e) => { console.error(String(e)); process.exit(1); });
}
setTimeout(() => process.exit(0), 120000);
`;

const must = async (cmd, args) => {
  const r = await run(cmd, args, { timeoutMs: 30_000 });
  if (r.isErr()) throw new Error(r.error.message);
  if (r.value.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.value.stderr.trim()}`);
  return r.value.stdout;
};

const line = (proc, want, ms) =>
  new Promise((ok, fail) => {
    let seen = "";
    const timer = setTimeout(() => fail(new Error(`no "${want}" within ${ms} ms: ${seen}`)), ms);
    proc.stdout.on("data", (b) => {
      seen += b.toString();
      if (seen.includes(want)) {
        clearTimeout(timer);
        ok();
      }
    });
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Build the scenario in `dir`. Returns the namespace, the config path and `stop()`, which removes
 * everything (call it in finally/afterAll). Throws when a step fails, after cleaning up.
 */
export const startScenario = async (dir) => {
  const ns = `pt${process.pid.toString(36)}${randomBytes(2).toString("hex")}-st`;
  const procs = [];
  const stop = async () => {
    for (const p of procs.reverse()) await p.stop("SIGTERM", 3_000);
    await deleteNamespace(ns);
  };
  try {
    const config = join(dir, "portico.yaml");
    await mkdir(join(dir, "etc"), { recursive: true });
    const base = await readFile(join(quickstart, "portico.yaml"), "utf8");
    await writeFile(
      config,
      // maxconn: `portico render` writes the configured value, which this machine's open-files
      // limit may not let HAProxy start with (apply would lower it).
      `${base}haproxy:\n  configPath: ${dir}/etc/haproxy.cfg\n  statsSocket: ${dir}/admin.sock\n  masterSocket: ${dir}/master.sock\n  maxconn: 4000\n` +
        `keepalived:\n  configPath: ${dir}/etc/keepalived.conf\n  pidFile: ${dir}/keepalived.pid\n  apply: false\n`,
    );
    const quiet = { stdout: () => {}, stderr: (t) => process.stderr.write(t), env: {}, cwd: dir };
    const rendered = await main(
      [
        "render",
        "--cluster",
        join(quickstart, "cluster.yaml"),
        "--config",
        config,
        "--node",
        "lb1",
        "--out",
        join(dir, "etc"),
      ],
      quiet,
    );
    if (rendered > 1) throw new Error(`render exited ${rendered}`);

    const made = await createNamespace(ns);
    if (made.isErr()) throw new Error(made.error.message);
    const eth = await addInterface(ns, "eth0");
    if (eth.isErr()) throw new Error(eth.error.message);
    await must("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    await must("ip", ["-n", ns, "addr", "add", "198.18.1.1/24", "dev", "eth0"]);
    for (const vip of HELD) await must("ip", ["-n", ns, "addr", "add", `${vip}/32`, "dev", "eth0"]);
    for (const node of ["198.18.2.10", "198.18.2.11", "198.18.2.12"])
      await must("ip", ["-n", ns, "addr", "add", `${node}/32`, "dev", "lo"]);

    const nodes = (
      await start("ip", ["netns", "exec", ns, process.execPath, "-e", NODES], { stdio: "pipe" })
    )._unsafeUnwrap();
    procs.push(nodes);
    await line(nodes, "ready", 10_000);

    const haproxy = (
      await start("ip", [
        "netns",
        "exec",
        ns,
        "haproxy",
        "-W",
        "-S",
        `${dir}/master.sock`,
        "-f",
        `${dir}/etc/haproxy.cfg`,
      ])
    )._unsafeUnwrap();
    procs.push(haproxy);
    for (let i = 0; ; i++) {
      if ((await sendCommands(`${dir}/admin.sock`, [{ kind: "show-info" }])).isOk()) break;
      if (i > 200) throw new Error("haproxy did not open its stats socket within 10 s");
      await sleep(50);
    }
    const cfg = await readFile(`${dir}/etc/haproxy.cfg`, "utf8");
    const backend = (prefix) => {
      const m = new RegExp(`^backend (${prefix}_[0-9a-f]{16})$`, "m").exec(cfg);
      if (m === null) throw new Error(`no backend ${prefix} in the rendered config`);
      return m[1];
    };
    // shop/web is Cluster policy: its slotN is the node in the check backend's slotN.
    const worker2 = /^ {4}server (slot[0-9]+) \S+ weight 1 # node_worker_2_[0-9a-f]{16}$/m.exec(
      cfg.slice(cfg.indexOf("\nbackend chk_kube_proxy_")),
    );
    if (worker2 === null) throw new Error("no check slot for worker-2 in the rendered config");
    // ingress-nginx is Local policy: its slots follow its own check backend's, so find worker-1's.
    const ingress = backend("be_ingress_nginx_ingress_nginx_controller_443");
    const slotOf = (be, node) =>
      new RegExp(`^ {4}server (slot[0-9]+) \\S+ weight 1 track \\S+ # node_${node}_[0-9a-f]{16}$`, "m").exec(
        cfg.slice(cfg.indexOf(`\nbackend ${be}`)),
      )?.[1];
    const worker1 = slotOf(ingress, "worker_1");
    const api = backend("be_shop_api_8443_v4");
    const apiWorker2 = slotOf(api, "worker_2");
    if (worker1 === undefined || apiWorker2 === undefined) throw new Error("no slot for a worker in a Local backend");
    const set = await sendCommands(`${dir}/admin.sock`, [
      {
        kind: "set-state",
        backend: ingress,
        server: worker1,
        state: "drain",
      },
      { kind: "set-state", backend: api, server: apiWorker2, state: "maint" },
      { kind: "set-state", backend: backend("be_shop_web_80_v4"), server: worker2[1], state: "maint" },
    ]);
    if (set.isErr() || set.value.some((a) => a !== "")) throw new Error(`set state: ${JSON.stringify(set)}`);

    // Checks settle: worker-2 and cp-1 down (fall 3 at fastinter 500ms), worker-1 up. The check
    // backend's spare slots wait in MAINT at 0.0.0.0:1 and never settle: only the nodes' slots count.
    for (let i = 0; ; i++) {
      const stat = (await sendCommands(`${dir}/admin.sock`, [{ kind: "show-stat" }]))._unsafeUnwrap()[0] ?? "";
      const [header = "", ...lines] = stat.split("\n");
      const col = (name) => header.replace(/^# /, "").split(",").indexOf(name);
      const rows = lines
        .map((l) => l.split(","))
        .filter((f) => f[0]?.startsWith("chk_kube_proxy_") && f[1] !== "BACKEND" && f[col("addr")] !== "0.0.0.0:1");
      const states = rows.map((f) => f[col("status")]);
      if (rows.length === 3 && states.filter((x) => x === "DOWN").length === 2 && states.includes("UP")) break;
      if (i > 300) throw new Error(`checks did not settle within 30 s:\n${stat}`);
      await sleep(100);
    }
    const client = (
      await start("ip", ["netns", "exec", ns, process.execPath, "-e", CLIENT, ...HELD], { stdio: "pipe" })
    )._unsafeUnwrap();
    procs.push(client);
    await line(client, "connected", 10_000);
    await sleep(300);
    return { ns, config, dir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
};

/** The raw bytes HAProxy sends for one prompt-mode batch, as `portico status` sends it. */
export const exchange = (socket, text) =>
  new Promise((ok, fail) => {
    const chunks = [];
    const c = createConnection(socket, () => c.write(text));
    c.on("data", (b) => chunks.push(b));
    c.on("error", fail);
    c.on("close", () => ok(Buffer.concat(chunks).toString("utf8")));
  });
