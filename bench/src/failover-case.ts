// Figure 5, failover: two LB namespaces and a client on one bridge (as the keepalived lab,
// packages/adapter-keepalived/test/lab.test.ts), real keepalived rendered and applied by
// Portico (VRRPv3, the default advert interval) and a real HAProxy in each LB namespace answering
// HTTP with its node's name. The master of one VIP fails `runs` times in each of three ways: its
// keepalived killed with SIGKILL, its link set down, its keepalived stopped with SIGTERM. The time
// is from the failure to the first TCP answer from the backup, seen by a probe in the client
// namespace (takeover.ts); after each run the master is restored and takes the VIP back.
// Usage: node failover-case.js <runs>  -> one JSON line.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runningKeepalived } from "@portico/adapter-keepalived";
import { parseConfig, planVrrp, vrrpStateOf, type Ip, type Plan } from "@portico/core";
import { start } from "@portico/host";
import { must, NetnsLab, until } from "@portico/testkit/lab";
import { applyLbKeepalived } from "../../packages/cli/test/e2e/lb-keepalived.js";
import { benchProgram, report, requireTools, withCleanup } from "./_case.js";

const [runs = 0] = process.argv.slice(2).map(Number);
await requireTools([
  ["keepalived", ["--version"]],
  ["haproxy", ["-v"]],
  ["ip", ["-V"]],
]);

const NAMES = ["lb1", "lb2"];
const VIP = "198.18.100.10";
const PORT = "8080";
const CAP_MS = 20_000;

await withCleanup(async (cleanups) => {
  const lab = new NetnsLab();
  const dir = await mkdtemp("/tmp/portico-bench-ka-");
  const ns = new Map<string, string>();
  const nsOf = (name: string): string => ns.get(name)!;
  const nodeDir = (name: string) => join(dir, name);
  const pidFile = (name: string) => join(nodeDir(name), "keepalived.pid");
  const vrrpPid = (name: string) => join(nodeDir(name), "vrrp.pid");
  const haproxyPid = (name: string) => join(nodeDir(name), "haproxy.pid");
  const signal = async (file: string, sig: NodeJS.Signals) =>
    process.kill(Number((await readFile(file, "utf8")).trim()), sig);
  cleanups.push(async () => {
    for (const name of NAMES)
      for (const f of [vrrpPid(name), pidFile(name), haproxyPid(name)])
        await signal(f, "SIGKILL").catch(() => undefined);
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  await chmod(dir, 0o755);

  const config = parseConfig({
    apiVersion: "portico.dev/v1alpha1",
    kind: "PorticoConfig",
    pools: [{ name: "bench", addresses: [`${VIP}-${VIP}`] }],
    lbNodes: NAMES.map((n) => ({ name: n, address: `198.18.1.${n.slice(2)}`, interface: "eth0" })),
    vrrp: { vridFirst: 40, vridLast: 80 },
  })._unsafeUnwrap();
  const plan: Plan = {
    services: [],
    frontends: [],
    backends: [],
    vrrpInstances: planVrrp([VIP as Ip], config.lbNodes, config.vrrp, vrrpStateOf({ vrrpInstances: [], lbNodes: [] }))
      .instances,
    lbNodes: config.lbNodes,
    diagnostics: [],
    settings: {
      haproxy: config.haproxy,
      keepalived: config.keepalived,
      vrrp: config.vrrp,
      healthCheck: config.healthCheck,
    },
  };
  const [master = "", backup = ""] = plan.vrrpInstances[0]!.priorities.map((p) => p.lbNode as string);
  const apply = (name: string) => applyLbKeepalived(plan, name, { dir, netns: nsOf(name), timeoutMs: CAP_MS });
  const holders = async () => {
    const on: string[] = [];
    for (const name of NAMES)
      if ((await must("ip", ["-n", nsOf(name), "-o", "addr", "show", "dev", "eth0"])).includes(` ${VIP}/32`))
        on.push(name);
    return on;
  };

  const sw = await lab.add("sw");
  await must("ip", ["-n", sw, "link", "add", "br0", "type", "bridge"]);
  await must("ip", ["-n", sw, "link", "set", "br0", "up"]);
  for (const [i, name] of [...NAMES, "client"].entries()) {
    const n = await lab.add(name);
    ns.set(name, n);
    await must("ip", ["-n", sw, "link", "add", `p${i}`, "type", "veth", "peer", "name", "eth0", "netns", n]);
    await must("ip", ["-n", sw, "link", "set", `p${i}`, "master", "br0", "up"]);
    await must("ip", [
      "-n",
      n,
      "addr",
      "add",
      name === "client" ? "198.18.1.100/24" : `198.18.1.${name.slice(2)}/24`,
      "dev",
      "eth0",
    ]);
    await must("ip", ["-n", n, "link", "set", "eth0", "up"]);
  }
  await must("ip", ["-n", nsOf("client"), "route", "add", "198.18.100.0/24", "dev", "eth0"]);
  for (const name of NAMES) {
    await mkdir(nodeDir(name), { mode: 0o755 });
    await writeFile(
      join(nodeDir(name), "haproxy.cfg"),
      [
        "global",
        "    log stderr local0 emerg",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 5s",
        "    timeout server 5s",
        "frontend who",
        `    bind :${PORT}`,
        `    http-request return status 200 content-type text/plain string ${name}`,
        "",
      ].join("\n"),
    );
    await must("ip", [
      "netns",
      "exec",
      nsOf(name),
      "haproxy",
      "-D",
      "-p",
      haproxyPid(name),
      "-f",
      join(nodeDir(name), "haproxy.cfg"),
    ]);
    // keepalived's check runs as nobody, which must be able to read the pid file.
    await chmod(haproxyPid(name), 0o644);
    if ((await apply(name)) !== "started") throw new Error(`keepalived on ${name} did not start`);
  }
  const settle = () => until(`${VIP} on ${master} alone`, async () => (await holders()).join() === master, CAP_MS, 50);
  await settle();

  /** Start the probe, wait until the master answers, fail it, return ms to the backup's first answer. */
  const takeover = async (fail: () => Promise<unknown>): Promise<number> => {
    const probe = (
      await start(
        "ip",
        [
          "netns",
          "exec",
          nsOf("client"),
          process.execPath,
          benchProgram("takeover"),
          VIP,
          PORT,
          master,
          String(CAP_MS),
        ],
        { stdio: "pipe" },
      )
    )._unsafeUnwrap();
    let out = "";
    probe.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    try {
      await until("the probe reaching the master", () => out.startsWith("ready\n"), CAP_MS, 2);
      const t0 = Date.now();
      await fail();
      await until("the backup's answer", () => out.split("\n").length > 2, CAP_MS + 5_000, 2);
      const moved = JSON.parse(out.split("\n")[1] ?? "") as { t: number; answer: string };
      if (moved.answer !== backup) throw new Error(`answer from ${moved.answer}, not the backup ${backup}`);
      return moved.t - t0;
    } finally {
      await probe.stop("SIGTERM", 2_000);
    }
  };
  const stopped = () =>
    until(
      `keepalived on ${master} gone`,
      async () => (await runningKeepalived(pidFile(master))) === undefined,
      CAP_MS,
      50,
    );
  const dropLeftover = async () => {
    // A killed keepalived leaves its VIP on the interface (a crashed node keeps it until reboot).
    if ((await holders()).includes(master))
      await must("ip", ["-n", nsOf(master), "addr", "del", `${VIP}/32`, "dev", "eth0"]);
  };
  const results = { kill: [] as number[], linkDown: [] as number[], graceful: [] as number[] };
  for (let r = 0; r < runs; r++) {
    results.kill.push(
      await takeover(async () => {
        // The VRRP child first: the parent would otherwise restart it.
        await signal(vrrpPid(master), "SIGKILL");
        await signal(pidFile(master), "SIGKILL");
      }),
    );
    await stopped();
    await dropLeftover();
    await apply(master);
    await settle();

    results.linkDown.push(await takeover(() => must("ip", ["-n", nsOf(master), "link", "set", "eth0", "down"])));
    await must("ip", ["-n", nsOf(master), "link", "set", "eth0", "up"]);
    await settle();

    results.graceful.push(await takeover(() => signal(pidFile(master), "SIGTERM")));
    await stopped();
    await apply(master);
    await settle();
  }
  const advert = config.vrrp.advertIntMs;
  report({
    figures: [
      {
        name: `5. failover: kill -9 keepalived on the master -> first answer from the backup (advert ${advert} ms)`,
        values: results.kill,
        unit: "ms",
        goal: "< 1 s",
      },
      {
        name: "5. failover: master's link down -> first answer from the backup",
        values: results.linkDown,
        unit: "ms",
        goal: "< 1 s",
      },
      {
        name: "5. failover: graceful stop (SIGTERM) of the master -> first answer from the backup",
        values: results.graceful,
        unit: "ms",
        goal: "< 100 ms",
      },
    ],
  });
});
