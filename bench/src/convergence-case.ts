// Figure 3, convergence: `portico run` against the wire-level test API server, applying to a real
// HAProxy in the data-plane lab (the test kit's, see _case.ts).
//   a. Service created in the API -> first successful connection to its VIP (a probe in the client
//      namespace, convergence-probe.ts, tries every 5 ms), `runs` times, each a new Service on its own VIP.
//      Each run starts from an idle controller: the previous Service's status is published and no
//      plan has run for 300 ms (its status write, echoed back by the watch, is planned too), so a
//      run measures one Service's convergence, not the tail of the previous run's work.
//   b. A node's /healthz turns 503 -> traffic moved off it (a probe connecting one at a time sees
//      no more answers from it); HAProxy's own detection (the health checks: inter x fall) is
//      measured apart, by polling the server's state on the runtime API, and subtracted.
// keepalived is off (`keepalived.apply: false`; failover is figure 5): the VIPs are local to the
// LB namespace. Controller settings are the defaults (coalesce: a change after a quiet spell is
// planned after 10 ms, a burst after 100 ms without events, at most 1 s after its first).
// Usage: node convergence-case.js <createRuns> <flipRuns>  -> one JSON line.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseShowProc, sendCommand, sendCommands } from "@portico/adapter-haproxy";
import { aNode, aService, anEndpointSlice } from "@portico/core/testing";
import { freePort, HEALTH_PORT, KubeApiServer, NODE_PORT, until } from "@portico/testkit/lab";
import { benchProgram, dataplaneLab, PORTICO_BIN, report, requireTools, sleep, withCleanup } from "./_case.js";

/** A Service's `status.loadBalancer.ingress` as the API server holds it (empty when absent). */
const ingressOf = (o: Record<string, unknown> | undefined): { ip?: string }[] =>
  (o?.["status"] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress ?? [];

const [createRuns = 0, flipRuns = 0] = process.argv.slice(2).map(Number);
const INTER_MS = 200;
const FALL = 2;
const RISE = 1;
await requireTools([
  ["haproxy", ["-v"]],
  ["ip", ["-V"]],
]);

await withCleanup(async (cleanups) => {
  const lab = await dataplaneLab(cleanups, 3);
  const api = await new KubeApiServer().start();
  cleanups.push(() => api.stop());
  for (const n of lab.nodes) api.put(aNode(n, lab.nodeAddress(n)));
  const listen = await freePort();
  const admin = join(lab.dir, "admin.sock");
  const master = join(lab.dir, "master.sock");
  const cfgPath = join(lab.dir, "haproxy.cfg");
  await writeFile(join(lab.dir, "kubeconfig"), api.kubeconfig("lb1"));
  await writeFile(
    join(lab.dir, "portico.yaml"),
    [
      "apiVersion: portico.dev/v1alpha1",
      "kind: PorticoConfig",
      "pools: [{name: bench, addresses: [198.18.100.10-198.18.100.99]}]",
      "lbNodes: [{name: lb1, address: 198.18.10.1, interface: c0}]",
      `healthCheck: {kubeProxyPort: ${HEALTH_PORT}, intervalMs: ${INTER_MS}, rise: ${RISE}, fall: ${FALL}}`,
      // Reaction time, not pacing: back to back, each new Service would otherwise wait for the
      // minimum interval between reloads (haproxy.reloadIntervalMs, 5 s by default).
      `haproxy: {configPath: ${cfgPath}, statsSocket: ${admin}, masterSocket: ${master}, reloadIntervalMs: 0}`,
      "keepalived: {apply: false}",
      `controller: {listen: "127.0.0.1:${listen}"}`,
      "",
    ].join("\n"),
  );
  let logs = "";
  const portico = await lab.start(process.execPath, [
    PORTICO_BIN,
    "run",
    "--config",
    join(lab.dir, "portico.yaml"),
    "--node",
    "lb1",
    "--kubeconfig",
    join(lab.dir, "kubeconfig"),
  ]);
  portico.stdout.on("data", (b: Buffer) => (logs = (logs + b.toString()).slice(-20_000)));
  portico.stderr.on("data", (b: Buffer) => (logs = (logs + b.toString()).slice(-20_000)));
  try {
    await until(
      "the first haproxy.cfg",
      async () => (await readFile(cfgPath, "utf8").catch(() => "")) !== "",
      30_000,
      20,
    );
    await lab.start("ip", ["netns", "exec", lab.lb, "haproxy", "-W", "-S", master, "-f", cfgPath]);
    await until(
      "an haproxy worker",
      async () => {
        const r = await sendCommand(master, { kind: "show-proc" });
        return r.isOk() && (parseShowProc(r.value)?.workers.length ?? 0) > 0;
      },
      15_000,
      20,
    );
    await until(
      "portico ready",
      async () => (await fetch(`http://127.0.0.1:${listen}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
      20,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\nportico logs:\n${logs}`);
  }

  // One probe for the whole run: no Node start-up inside a measurement.
  const probe = await lab.start("ip", [
    "netns",
    "exec",
    lab.client,
    process.execPath,
    benchProgram("convergence-probe"),
  ]);
  let probeOut = "";
  probe.stdout.on("data", (b: Buffer) => (probeOut += b.toString()));
  const probeLine = async (prefix: string, capMs = 35_000): Promise<string> => {
    await until(
      `the probe's "${prefix}"`,
      () => probeOut.split("\n").some((l) => l.startsWith(prefix)),
      capMs,
      2,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nprobe: ${probeOut.slice(-2000)}\nportico logs:\n${logs}`);
    });
    const line = probeOut.split("\n").find((l) => l.startsWith(prefix)) ?? "";
    probeOut = probeOut.slice(probeOut.indexOf(line) + line.length);
    return line;
  };
  await probeLine("ready");

  // The controller is idle: every plan is applied, and none has come for 300 ms.
  const progress = async () => {
    const text = await (await fetch(`http://127.0.0.1:${listen}/metrics`)).text();
    const plans = Number(/^portico_plans_total (\d+)$/m.exec(text)?.[1]);
    const applies = [...text.matchAll(/^portico_applies_total\{[^}]*target="haproxy"[^}]*\} (\d+)$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    return { plans, busy: applies < plans };
  };
  const idle = async () => {
    let last = -1;
    let since = performance.now();
    await until(
      "the controller idle",
      async () => {
        const now = await progress();
        if (now.busy || now.plans !== last) [last, since] = [now.plans, performance.now()];
        return performance.now() - since >= 300;
      },
      30_000,
      20,
    );
  };
  await idle();

  // a. Service created -> first successful connection.
  const created: number[] = [];
  for (let i = 0; i < createRuns; i++) {
    const name = `svc${i}`;
    const vip = `198.18.100.${10 + i}`;
    probe.stdin.write(`first ${vip} 80\n`);
    // The probe is in its loop (refused: nothing listens on the VIP yet).
    await sleep(50);
    api.put(anEndpointSlice("default", name, [{ ip: `198.19.1.${i + 1}`, node: lab.nodes[i % 3]! }]));
    const t0 = Date.now();
    api.put(
      aService({
        name,
        policy: "Local",
        healthCheckNodePort: HEALTH_PORT,
        ports: [{ name: "http", port: 80, nodePort: NODE_PORT }],
        annotations: { "portico.dev/load-balancer-ips": vip },
      }),
    );
    const line = await probeLine(`connected ${vip} `);
    created.push(Number(line.split(" ")[2]) - t0);
    await until(
      `${name}'s status`,
      () => ingressOf(api.get("Service", "default", name)).some((i) => i.ip === vip),
      30_000,
      10,
    );
    await idle();
  }

  // b. Node health flip -> traffic moved.
  const vip = "198.18.100.99";
  api.put(
    anEndpointSlice("default", "flip", [
      { ip: "198.19.2.1", node: "node1" },
      { ip: "198.19.2.2", node: "node2" },
    ]),
  );
  api.put(
    aService({
      name: "flip",
      policy: "Local",
      healthCheckNodePort: HEALTH_PORT,
      ports: [{ name: "http", port: 80, nodePort: NODE_PORT }],
      annotations: { "portico.dev/load-balancer-ips": vip },
    }),
  );
  const serverUp = async (node: string): Promise<boolean | undefined> => {
    const answers = await sendCommands(admin, [{ kind: "show-servers-state" }]);
    if (answers.isErr()) return undefined;
    // Columns: be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...; op 2 = running.
    const row = (answers.value[0] ?? "")
      .split("\n")
      .map((l) => l.split(" "))
      .find((f) => f[1]?.includes("flip") && f[4] === lab.nodeAddress(node) && f[6] !== "1" && f[6] !== "5");
    return row === undefined ? undefined : row[5] === "2";
  };
  await until(
    "the flip Service's servers up",
    async () => (await serverUp("node1")) === true && (await serverUp("node2")) === true,
    30_000,
    20,
  );
  const moved: number[] = [];
  const detected: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < flipRuns; i++) {
    probe.stdin.write(`watch ${vip} 80\n`);
    await sleep(300);
    const t0 = Date.now();
    await lab.health("node1", 503);
    await until("node1 marked down", async () => (await serverUp("node1")) === false, 20_000, 5);
    const t1 = Date.now();
    // Connections keep going a while after: the moment traffic moved is after the last answer from node1.
    await sleep(3 * INTER_MS);
    probe.stdin.write("stop\n");
    const answers = JSON.parse((await probeLine("answers ")).slice("answers ".length)) as [
      number,
      number,
      string | null,
    ][];
    const lastFromNode1 = answers.findLastIndex((a) => a[2] === "node1");
    const next = answers[lastFromNode1 + 1];
    if (next === undefined || !answers.slice(lastFromNode1 + 1).every((a) => a[2] === "node2"))
      throw new Error(`traffic did not move to node2: ${JSON.stringify(answers.slice(-10))}`);
    moved.push(next[0] - t0);
    detected.push(t1 - t0);
    // Negative when the poll saw the state change after traffic had already moved (poll jitter).
    after.push(next[0] - t1);
    await lab.health("node1", 200);
    await until("node1 up again", async () => (await serverUp("node1")) === true, 20_000, 10);
  }
  report({
    figures: [
      {
        name: "3. Service created -> first successful connection to its VIP",
        values: created,
        unit: "ms",
        percentiles: true,
        goal: "p50 < 300 ms, p99 < 1 s",
      },
      {
        name: `3. node /healthz 503 -> traffic moved, health-check timing excluded`,
        values: after,
        unit: "ms",
        percentiles: true,
        goal: "p50 < 300 ms, p99 < 1 s",
      },
      {
        name: `3. node /healthz 503 -> HAProxy marks it down (health checks, inter ${INTER_MS} ms x fall ${FALL})`,
        values: detected,
        unit: "ms",
        percentiles: true,
      },
      { name: "3. node /healthz 503 -> traffic moved, in all", values: moved, unit: "ms", percentiles: true },
    ],
  });
});
