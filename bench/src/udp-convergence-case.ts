// Figure 15, Service created -> first UDP answer: `portico run` (default controller settings)
// against the wire-level test API server, installing the L4 ruleset with the real nft, on one L2
// segment (the test kit's l2Segment: a client, one LB node, three fake nodes answering UDP on the
// nodePort and, for `direct`, on the Service port with the VIPs on their lo). keepalived is off
// (`keepalived.apply: false`; failover is figure 13): the pool's VIPs are on the LB node's eth0, as
// keepalived puts them on a master. Portico runs in the host's namespace so that it reaches the API
// server on loopback; the `nft` it runs is a two-line wrapper first in its PATH that runs the real
// nft inside the LB node's namespace (HAProxy runs there, reached through its sockets). Each run
// is a new Cluster-policy UDP Service on its own VIP, alternately through `nat` and `direct`: a
// loop in the client namespace (udp-loop: a new socket per request, every 5 ms, each waiting 20 ms)
// sends to the VIP from before the Service exists, and the figure is from the Service's creation
// in the API to the first answer. Each run waits for the Service's status and a quiet controller.
// Usage: node udp-convergence-case.js <runsPerMode>  -> one JSON line.
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseShowProc, sendCommand } from "@portico/adapter-haproxy";
import { aNode, aService } from "@portico/core/testing";
import { run, start } from "@portico/host";
import {
  freePort,
  KubeApiServer,
  l2Segment,
  must,
  NetnsLab,
  segmentLbAddress,
  segmentNodeAddress,
  udpLoop,
  until,
  waitForLine,
} from "@portico/testkit/lab";
import { drained, PORTICO_BIN, report, requireTools, sleep, withCleanup, type CaseFigure } from "./_case.js";

const [runsPerMode = 0] = process.argv.slice(2).map(Number);
await requireTools([
  ["haproxy", ["-v"]],
  ["nft", ["--version"]],
  ["ip", ["-V"]],
]);

const NODES = ["n1", "n2", "n3"] as const;
const MODES = ["nat", "direct"] as const;
const [PORT, NODE_PORT, HEALTH] = [53, 30053, 32100];
const vipOf = (i: number): string => `198.18.100.${40 + i}`;
const CAP = 30_000;

/** A Service's `status.loadBalancer.ingress` as the API server holds it (empty when absent). */
const ingressOf = (o: Record<string, unknown> | undefined): { ip?: string }[] =>
  (o?.["status"] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress ?? [];

await withCleanup(async (cleanups) => {
  const netns = new NetnsLab();
  cleanups.push(() => netns.destroy());
  const runs = runsPerMode * MODES.length;
  const vips = Array.from({ length: runs }, (_, i) => vipOf(i));
  const net = await l2Segment(netns, ["lb1"], NODES, vips, { udp: [NODE_PORT, PORT], health: [HEALTH] });
  cleanups.push(() => net.stopNodes());
  const lb = net.lbs[0]!.ns;
  for (const v of vips) await must("ip", ["-n", lb, "addr", "add", `${v}/32`, "dev", "eth0"]);
  const dir = join("/tmp", `${netns.prefix}bench-udp-convergence`);
  await must("mkdir", ["-p", join(dir, "bin")]);
  cleanups.push(async () => {
    await run("rm", ["-rf", dir]);
  });
  const nft = (await run("which", ["nft"]))._unsafeUnwrap().stdout.trim();
  await writeFile(join(dir, "bin", "nft"), `#!/bin/sh\nexec ip netns exec ${lb} ${nft} "$@"\n`);
  await chmod(join(dir, "bin", "nft"), 0o755);

  const api = await new KubeApiServer().start();
  cleanups.push(() => api.stop());
  for (const [i, n] of NODES.entries()) api.put(aNode(n, segmentNodeAddress(i)));
  const listen = await freePort();
  const paths = {
    configPath: join(dir, "haproxy.cfg"),
    statsSocket: join(dir, "admin.sock"),
    masterSocket: join(dir, "master.sock"),
  };
  await writeFile(join(dir, "kubeconfig"), api.kubeconfig("lb1"));
  await writeFile(
    join(dir, "portico.yaml"),
    [
      "apiVersion: portico.dev/v1alpha1",
      "kind: PorticoConfig",
      `pools: [{name: bench, addresses: [${vipOf(0)}-${vipOf(59)}]}]`,
      `lbNodes: [{name: lb1, address: ${segmentLbAddress(0)}, interface: eth0}]`,
      `healthCheck: {kubeProxyPort: ${HEALTH}, intervalMs: 200, rise: 1, fall: 2}`,
      `haproxy: {configPath: ${paths.configPath}, statsSocket: ${paths.statsSocket}, masterSocket: ${paths.masterSocket}, reloadIntervalMs: 0}`,
      "keepalived: {apply: false}",
      `nftables: {apply: true, configPath: ${join(dir, "nftables.conf")}}`,
      `controller: {listen: "127.0.0.1:${listen}"}`,
      "",
    ].join("\n"),
  );
  const args = ["run", "--config", join(dir, "portico.yaml"), "--node", "lb1", "--kubeconfig", join(dir, "kubeconfig")];
  const env = { ...process.env, PATH: `${join(dir, "bin")}:${process.env["PATH"] ?? ""}` } as Record<string, string>;
  const portico = drained(
    (await start(process.execPath, [PORTICO_BIN, ...args], { stdio: "pipe", env }))._unsafeUnwrap(),
  );
  cleanups.push(() => portico.stop("SIGTERM", 5_000));
  try {
    await until(
      "the first haproxy.cfg",
      async () => (await readFile(paths.configPath, "utf8").catch(() => "")) !== "",
      CAP,
    );
    const hap = drained(
      (
        await start("ip", ["netns", "exec", lb, "haproxy", "-W", "-S", paths.masterSocket, "-f", paths.configPath], {
          stdio: "pipe",
        })
      )._unsafeUnwrap(),
    );
    cleanups.push(() => hap.stop("SIGTERM", 3_000));
    await until(
      "an haproxy worker",
      async () => {
        const r = await sendCommand(paths.masterSocket, { kind: "show-proc" });
        return r.isOk() && (parseShowProc(r.value)?.workers.length ?? 0) > 0;
      },
      CAP,
    );
    await until(
      "portico ready",
      async () => (await fetch(`http://127.0.0.1:${listen}/readyz`).catch(() => undefined))?.status === 200,
      CAP,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\nportico logs:\n${portico.log()}`);
  }

  const created: Record<string, number[]> = { nat: [], direct: [] };
  for (let i = 0; i < runs; i++) {
    const mode = MODES[i % MODES.length]!;
    const vip = vipOf(i);
    const o = {
      mode: "fresh",
      firstPort: 47000,
      ports: 50,
      intervalMs: 5,
      timeoutMs: 20,
      maxCount: 6000,
      maxMs: CAP,
    } as const;
    const loop = await udpLoop(net.client, vip, PORT, { ...o, waitFor: "started", capMs: CAP });
    // The loop is sending (nothing answers on the VIP yet).
    await sleep(50);
    const t0 = Date.now();
    api.put(
      aService({
        name: `udp${i}`,
        ports: [{ name: "dns", port: PORT, nodePort: NODE_PORT, protocol: "UDP" }],
        annotations: { "portico.dev/load-balancer-ips": vip, "portico.dev/data-plane": mode },
      }),
    );
    await waitForLine(loop.proc, "ready", CAP).catch((e: Error) => {
      throw new Error(`${e.message} (${mode} ${vip})\nportico logs:\n${portico.log()}`);
    });
    const first = (await loop.stop()).answers.find((a) => a.timeout === undefined);
    if (first?.at === undefined) throw new Error(`no answer through ${mode}`);
    created[mode]!.push(first.at - t0);
    await until(`udp${i}'s status`, () => ingressOf(api.get("Service", "default", `udp${i}`)).length > 0, CAP);
    // The status write comes back as a watch event and is planned too: let that pass.
    await sleep(500);
  }
  const figures: CaseFigure[] = MODES.map((mode) => ({
    name: `15. Service created -> first UDP answer through ${mode}`,
    values: created[mode]!,
    unit: "ms",
    percentiles: true,
  }));
  report({ figures });
});
