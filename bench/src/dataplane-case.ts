// Figures 4, 6 and 7 in one data-plane lab (the test kit's, see _case.ts), with plans made by the real planner
// from Kubernetes-shaped objects and applied by the real applyHaproxy to a real HAProxy master.
//   4. Hitless updates: `changes` membership/weight changes of a Local-policy Service (its
//      EndpointSlice: pods move between nodes, pods-per-node weighting) under a continuous
//      connection loop: failed connections and reloads. Baseline in the same run: the same changes,
//      each applied with a reload (Portico's own reload path: state file, master CLI reload, wait
//      for the new worker), forced by making the installed file's shape differ before each apply.
//   6. Data-plane overhead: connections per second through the rendered config (HTTP health checks
//      and PROXY v2 on) versus a minimal hand-written config for the same three backends, in a
//      second HAProxy in the same namespace, with the same load tool (load.ts), rounds
//      alternating.
//   7. Equal load, measured: pods 3/1/2 on three nodes; per-pod share max/min with and without
//      `portico.dev/weighting: pods-per-node`, from real connections.
// Usage: node dataplane-case.js <changes> <overheadRounds> <overheadMs> <equalConnections>
import { appendFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { applyHaproxy, parseShowProc, sendCommand } from "@portico/adapter-haproxy";
import { ingest, plan, type Plan } from "@portico/core";
import { aNode, aParsedConfig, aService, anEndpointSlice } from "@portico/core/testing";
import { CLIENT_BIN, HEALTH_PORT, NODE_PORT, until, type ClientSummary } from "@portico/testkit/lab";
import { benchProgram, dataplaneLab, report, requireTools, sleep, withCleanup } from "./_case.js";

const [changes = 0, overheadRounds = 0, overheadMs = 0, equalConnections = 0] = process.argv.slice(2).map(Number);
const LOAD = benchProgram("load");
await requireTools([
  ["haproxy", ["-v"]],
  ["ip", ["-V"]],
]);

const WEB = "198.18.100.10";
const PROXIED = "198.18.100.11";
const MINIMAL = "198.18.100.12";

await withCleanup(async (cleanups) => {
  const lab = await dataplaneLab(cleanups, 3);
  const paths = {
    configPath: join(lab.dir, "haproxy.cfg"),
    statsSocket: join(lab.dir, "admin.sock"),
    masterSocket: join(lab.dir, "master.sock"),
  };
  const config = aParsedConfig({
    pools: [{ name: "bench", addresses: ["198.18.100.10-198.18.100.11"] }],
    lbNodes: [{ name: "lb1", address: "198.18.10.1", interface: "c0" }],
    healthCheck: { kubeProxyPort: HEALTH_PORT, intervalMs: 200, rise: 1, fall: 2 },
    haproxy: paths,
  });
  const nodes = lab.nodes.map((n) => aNode(n, lab.nodeAddress(n)));
  const service = (name: string, vip: string, annotations: Record<string, string>) =>
    aService({
      name,
      policy: "Local",
      healthCheckNodePort: HEALTH_PORT,
      ports: [{ name: "http", port: 80, nodePort: NODE_PORT }],
      annotations: { "portico.dev/load-balancer-ips": vip, ...annotations },
    });
  const pods = (name: string, counts: Record<string, number>) =>
    anEndpointSlice(
      "default",
      name,
      Object.entries(counts).flatMap(([node, k], i) =>
        Array.from({ length: k }, (_, j) => ({ ip: `198.19.${10 + i}.${j + 1}`, node })),
      ),
    );
  const proxied = [
    service("proxied", PROXIED, { "portico.dev/proxy-protocol": "v2" }),
    pods("proxied", { node1: 1, node2: 1, node3: 1 }),
  ];
  const planFor = (webCounts: Record<string, number>, weighting = "pods-per-node"): Plan => {
    const p = plan(
      ingest([
        ...nodes,
        service("web", WEB, { "portico.dev/weighting": weighting }),
        pods("web", webCounts),
        ...proxied,
      ]),
      config,
    );
    const bad = p.services.find((s) => s.state !== "ready");
    if (bad !== undefined)
      throw new Error(`benchmark Service not planned cleanly: ${JSON.stringify(p.diagnostics.slice(0, 3))}`);
    return p;
  };
  const apply = async (p: Plan) => {
    const r = await applyHaproxy(p);
    if (r.isErr()) throw new Error(r.error.message);
    return r.value;
  };
  const workers = async () => {
    const r = await sendCommand(paths.masterSocket, { kind: "show-proc" });
    return r.isOk() ? (parseShowProc(r.value)?.workers ?? []) : [];
  };

  const first = { node1: 1, node2: 1, node3: 1 };
  if ((await apply(planFor(first))).action !== "written") throw new Error("first apply did not just write the file");
  await lab.start("ip", ["netns", "exec", lab.lb, "haproxy", "-W", "-S", paths.masterSocket, "-f", paths.configPath]);
  await until("an haproxy worker", async () => (await workers()).length > 0, 15_000, 20);
  await until("web serving", async () => (await lab.traffic(WEB, 80, 3, 5_000, 1)).ok === 3, 20_000, 50);

  // 4. Membership and weights: node3 leaves and comes back, pods per node change.
  const sequence = Array.from({ length: changes }, (_, i) => ({
    node1: 1 + (i % 4),
    node2: 1 + ((i + 2) % 3),
    ...(i % 5 === 2 ? {} : { node3: 1 + (i % 2) }),
  }));
  const loop = async () => {
    const proc = await lab.start("ip", [
      "netns",
      "exec",
      lab.client,
      process.execPath,
      CLIENT_BIN,
      WEB,
      "80",
      "10000000",
      "600000",
      "2",
    ]);
    let out = "";
    proc.stdout.on("data", (b: Buffer) => (out += b.toString()));
    return async () => {
      proc.stdin.write("stop\n");
      const exit = await Promise.race([proc.exited, sleep(15_000).then(() => undefined)]);
      if (exit?.code !== 0) throw new Error(`client loop ended ${JSON.stringify(exit)}`);
      return JSON.parse(out.trim().split("\n").pop() ?? "") as ClientSummary;
    };
  };
  const hitless = async (forceReload: boolean) => {
    const before = (await workers()).map((w) => w.pid);
    const reloadsBefore =
      parseShowProc((await sendCommand(paths.masterSocket, { kind: "show-proc" }))._unsafeUnwrap())?.reloads ?? 0;
    const stop = await loop();
    await sleep(300);
    const actions: Record<string, number> = {};
    const t0 = performance.now();
    for (const [i, counts] of sequence.entries()) {
      // The baseline: a line the runtime path cannot express makes the installed file differ in
      // shape, so applyHaproxy reloads (the new file does not carry the line).
      if (forceReload) await appendFile(paths.configPath, `# bench: reload for change ${i}\n`);
      const r = await apply(planFor(counts));
      actions[r.action] = (actions[r.action] ?? 0) + 1;
    }
    const ms = performance.now() - t0;
    // Connections started on the last config finish on it too.
    await sleep(500);
    const summary = await stop();
    const reloadsAfter =
      parseShowProc((await sendCommand(paths.masterSocket, { kind: "show-proc" }))._unsafeUnwrap())?.reloads ?? 0;
    const after = (await workers()).filter((w) => w.reloads === 0).map((w) => w.pid);
    return {
      ms,
      actions,
      ok: summary.ok,
      failed: summary.failed,
      errors: summary.errors,
      reloads: reloadsAfter - reloadsBefore,
      workerKept: forceReload ? undefined : after.every((p) => before.includes(p)),
    };
  };
  const step = (what: string) => process.stderr.write(`[dataplane] ${what} at ${Math.round(performance.now())} ms\n`);
  step("lab up");
  const runtime = await hitless(false);
  step("hitless done");
  const baseline = await hitless(true);
  if (runtime.ok === 0 || baseline.ok === 0)
    throw new Error(`the connection loop got no answers: ${JSON.stringify({ runtime, baseline })}`);

  // 7. Equal load, measured with real connections: pods 3/1/2.
  const equalPods = { node1: 3, node2: 1, node3: 2 };
  const share = async (weighting: string) => {
    await apply(planFor(equalPods, weighting));
    await sleep(300);
    const r = await lab.traffic(WEB, 80, equalConnections, 60_000, 4);
    if (r.failed > 0) throw new Error(`equal load: ${r.failed} failed: ${r.errors.join("; ")}`);
    const perPod = Object.entries(equalPods).map(([n, k]) => (r.byNode[n] ?? 0) / k);
    return { ratio: Math.max(...perPod) / Math.min(...perPod), byNode: r.byNode };
  };
  step("baseline done");
  const weighted = await share("pods-per-node");
  const equal = await share("equal");

  step("equal load done");
  // 6. Overhead: the rendered config (VIP PROXIED: checks + PROXY v2) against a hand-written one.
  const minimalPath = join(lab.dir, "minimal.cfg");
  await writeFile(
    minimalPath,
    [
      "global",
      "defaults",
      "    mode tcp",
      "    timeout connect 5s",
      "    timeout client 30s",
      "    timeout server 30s",
      "frontend minimal",
      `    bind ${MINIMAL}:80`,
      "    default_backend nodes",
      "backend nodes",
      "    balance roundrobin",
      ...lab.nodes.map((n) => `    server ${n} ${lab.nodeAddress(n)}:${NODE_PORT}`),
      "",
    ].join("\n"),
  );
  const minimalProc = await lab.start("ip", ["netns", "exec", lab.lb, "haproxy", "-W", "-f", minimalPath]);
  await until(
    "the minimal config serving",
    async () => (await lab.traffic(MINIMAL, 80, 3, 5_000, 1)).ok === 3,
    20_000,
    50,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: ${minimalProc.log()}`);
  });
  const load = async (vip: string): Promise<number> => {
    const out = (
      await lab.netns.exec(
        lab.client,
        process.execPath,
        [LOAD, vip, "80", String(overheadMs), "16", "1000000"],
        overheadMs + 20_000,
      )
    )._unsafeUnwrap();
    if (out.code !== 0) throw new Error(`load exited ${out.code}: ${out.stderr}`);
    const r = JSON.parse(out.stdout.trim().split("\n").pop() ?? "") as {
      ok: number;
      failed: number;
      ms: number;
      errors: string[];
    };
    if (r.failed > 0) throw new Error(`load through ${vip}: ${r.failed} failed: ${r.errors.join("; ")}`);
    return (r.ok * 1000) / r.ms;
  };
  const rendered: number[] = [];
  const minimal: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < overheadRounds; i++) {
    // Alternate which goes first, so a trend in machine load hits both alike.
    let r;
    let b;
    if (i % 2 === 0) {
      r = await load(PROXIED);
      b = await load(MINIMAL);
    } else {
      b = await load(MINIMAL);
      r = await load(PROXIED);
    }
    rendered.push(r);
    minimal.push(b);
    ratios.push(r / b);
  }

  report({
    figures: [
      {
        name: `4. hitless: ${changes} membership/weight changes under a connection loop: failed connections`,
        values: [runtime.failed],
        unit: "",
        goal: "0",
      },
      { name: `4. hitless: ${changes} changes: HAProxy reloads`, values: [runtime.reloads], unit: "", goal: "0" },
      { name: `4. hitless: ${changes} changes: time for all`, values: [runtime.ms], unit: "ms" },
      {
        name: `4. baseline, reload per change: ${changes} changes: failed connections`,
        values: [baseline.failed],
        unit: "",
      },
      {
        name: `4. baseline, reload per change: ${changes} changes: HAProxy reloads`,
        values: [baseline.reloads],
        unit: "",
      },
      { name: `4. baseline, reload per change: ${changes} changes: time for all`, values: [baseline.ms], unit: "ms" },
      {
        name: "6. overhead: connections/s through the rendered config (checks + PROXY v2)",
        values: rendered,
        unit: "conn/s",
      },
      { name: "6. overhead: connections/s through a minimal hand-written config", values: minimal, unit: "conn/s" },
      { name: "6. overhead: rendered / minimal connections per second", values: ratios, unit: "", goal: ">= 0.95" },
      {
        name: "7. equal load (measured, pods 3/1/2): per-pod share max/min with pods-per-node",
        values: [weighted.ratio],
        unit: "",
      },
      {
        name: "7. equal load (measured, pods 3/1/2): per-pod share max/min without (equal weights)",
        values: [equal.ratio],
        unit: "",
      },
    ],
    details: { runtime, baseline, weighted, equal, overheadMs, parallel: 16 },
  });
});
