// Shared pieces of the network benchmarks: what a case needs from the machine, a data-plane lab
// built from the test kit's NetnsLab (per-run-prefixed namespaces, 198.18.0.0/15 only) and the
// tests' own lab programs (fake node, client, probes), and cleanup that runs on failure and on
// SIGINT/SIGTERM too.
//   client 198.18.10.2 --- 198.18.10.1 lb (198.18.100.0/24 routed locally on lo: the VIPs)
//   lb 198.18.2<i>.1 --- 198.18.2<i>.2 node<i>   (fake node: nodePort 30080, /healthz 32100)
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run, start } from "@portico/host";
import { must, NetnsLab } from "@portico/testkit/lab";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
export const FAKE_NODE = join(repo, "packages/adapter-haproxy/test/lab/fake-node.mjs");
export const CLIENT = join(repo, "packages/adapter-haproxy/test/lab/client.mjs");
export const FIRST_CONNECT = join(repo, "packages/cli/test/e2e/first-connect.mjs");
export const KEEPALIVED_PROBE = join(repo, "packages/adapter-keepalived/test/lab/probe.mjs");
export const LOAD = join(repo, "bench/load.mjs");
export const PORTICO_BIN = join(repo, "packages/cli/dist/bin.js");
export const NODE_PORT = 30080;
export const HEALTH_PORT = 32100;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Undefined when the machine has what a case needs, else why not. */
export const missing = async (programs) => {
  const reasons = [];
  if (process.getuid?.() !== 0) reasons.push("needs root (network namespaces)");
  for (const [name, args] of programs) {
    const r = await run(name, args, { timeoutMs: 10_000 });
    if (r.isErr()) reasons.push(`${name} is not installed`);
  }
  return reasons.length === 0 ? undefined : reasons.join("; ");
};

/** Print a case's result as its last stdout line (what bench/run.mjs reads). */
export const report = (result) => process.stdout.write(`${JSON.stringify(result)}\n`);

/** End the case with a "not available" result (never a figure) when `missing` finds a reason. */
export const requireTools = async (programs) => {
  const why = await missing(programs);
  if (why === undefined) return;
  report({ unavailable: why });
  process.exit(0);
};

/**
 * Run `body(cleanups)` and always run the registered cleanups afterwards (in reverse), also on
 * SIGINT/SIGTERM; a failure is reported as the case's error, never as a figure.
 */
export const withCleanup = async (body) => {
  const cleanups = [];
  let cleaning;
  const clean = () =>
    (cleaning ??= (async () => {
      for (const c of cleanups.splice(0).reverse())
        await c().catch((e) => process.stderr.write(`cleanup: ${e.message}\n`));
    })());
  const onSignal = async () => {
    await clean();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await body(cleanups);
  } catch (e) {
    report({ error: e.stack ?? String(e) });
    process.exitCode = 1;
  } finally {
    await clean();
  }
};

/**
 * Keep reading a started process's output (the last 20 kB stay in `proc.log()`): a pipe nobody
 * reads fills up, and an HAProxy master blocked writing its reload notices stops answering.
 */
export const drained = (proc) => {
  let log = "";
  const keep = (b) => {
    log = (log + b.toString()).slice(-20_000);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  proc.log = () => log;
  return proc;
};

/** Wait for a line starting with `prefix` on a started process's stdout (bounded). */
export const waitForLine = async (proc, prefix, capMs = 20_000) => {
  let seen = "";
  const timer = setTimeout(
    () => proc.stdout.emit("error", new Error(`no "${prefix}" within ${capMs} ms: ${seen}`)),
    capMs,
  );
  try {
    for (;;) {
      const line = seen.split("\n").find((l) => l.startsWith(prefix));
      if (line !== undefined) return line;
      const [chunk] = await once(proc.stdout, "data");
      seen += chunk.toString();
    }
  } finally {
    clearTimeout(timer);
  }
};

/** Poll `ok` every `everyMs` until it holds; throws after `capMs` (a safety cap). Returns ms taken. */
export const until = async (what, ok, capMs = 20_000, everyMs = 5) => {
  const t0 = performance.now();
  while (!(await ok())) {
    if (performance.now() - t0 > capMs) throw new Error(`timed out after ${capMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
  return performance.now() - t0;
};

/**
 * Build the data-plane lab: an LB namespace, a client namespace and `nodes` fake-node
 * namespaces. Registers its own cleanup. Returns names, addresses and helpers.
 */
export const dataplaneLab = async (cleanups, nodes = 3) => {
  const netns = new NetnsLab();
  const dir = await mkdtemp("/tmp/portico-bench-");
  const procs = [];
  cleanups.push(async () => {
    for (const p of procs.splice(0).reverse()) await p.stop("SIGTERM", 3_000);
    await netns.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  const lb = await netns.add("lb");
  const client = await netns.add("cl");
  const addr = async (ns, dev, cidr) => {
    await must("ip", ["-n", ns, "addr", "add", cidr, "dev", dev]);
    await must("ip", ["-n", ns, "link", "set", dev, "up"]);
  };
  await must("ip", ["-n", lb, "link", "add", "c0", "type", "veth", "peer", "name", "eth0", "netns", client]);
  await addr(lb, "c0", "198.18.10.1/24");
  await addr(client, "eth0", "198.18.10.2/24");
  await must("ip", ["-n", client, "route", "add", "198.18.100.0/24", "via", "198.18.10.1"]);
  // Every VIP of the pool is local to the LB namespace, as keepalived would make it (keepalived's own
  // figures are figure 5's).
  await must("ip", ["-n", lb, "route", "add", "local", "198.18.100.0/24", "dev", "lo"]);
  const names = [];
  const fakes = new Map();
  for (let i = 1; i <= nodes; i++) {
    const name = `node${i}`;
    const ns = await netns.add(name);
    await must("ip", ["-n", lb, "link", "add", `n${i}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await addr(lb, `n${i}`, `198.18.2${i}.1/24`);
    await addr(ns, "eth0", `198.18.2${i}.2/24`);
    const proc = drained(
      (
        await start(
          "ip",
          ["netns", "exec", ns, process.execPath, FAKE_NODE, name, String(NODE_PORT), String(HEALTH_PORT)],
          { stdio: "pipe" },
        )
      )._unsafeUnwrap(),
    );
    procs.push(proc);
    await waitForLine(proc, "ready");
    names.push(name);
    fakes.set(name, proc);
  }
  return {
    netns,
    dir,
    lb,
    client,
    nodes: names,
    nodeAddress: (n) => `198.18.2${names.indexOf(n) + 1}.2`,
    /** Start a process this lab stops on cleanup; its output is drained (see `drained`). */
    start: async (command, args) => {
      const proc = drained((await start(command, args, { stdio: "pipe" }))._unsafeUnwrap());
      procs.push(proc);
      return proc;
    },
    /** Make a fake node's /healthz answer 200 or 503. */
    health: async (n, status) => {
      const proc = fakes.get(n);
      proc.stdin.write(`${status}\n`);
      await waitForLine(proc, `health ${status}`);
    },
    /** The tests' client: up to `count` connections to vip:port, `parallel` at a time, at most `maxMs`. */
    traffic: async (vip, port, count, maxMs, parallel = 2) => {
      const r = await run(
        "ip",
        [
          "netns",
          "exec",
          client,
          process.execPath,
          CLIENT,
          vip,
          String(port),
          String(count),
          String(maxMs),
          String(parallel),
        ],
        { timeoutMs: maxMs + 15_000 },
      );
      const out = r._unsafeUnwrap();
      if (out.code !== 0) throw new Error(`client exited ${out.code}: ${out.stderr}`);
      return JSON.parse(out.stdout);
    },
  };
};
