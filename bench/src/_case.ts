// What the benchmark cases share: what a case needs from the machine, how it reports (one JSON line
// last on stdout, read by run.ts), cleanup that runs on failure and on SIGINT/SIGTERM too, and the
// test kit's data-plane lab (per-run-prefixed namespaces, 198.18.0.0/15 only) with every VIP of
// 198.18.100.0/24 local to the LB namespace, as keepalived would make it (keepalived's own figures
// are figure 5's).
import { mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run, start, type Started } from "@portico/host";
import { dataplaneNet, must, NetnsLab, traffic, VIP_RANGE, type ClientSummary } from "@portico/testkit/lab";

const here = dirname(fileURLToPath(import.meta.url));
/** The built `portico` binary, beside the CLI package's entry. */
export const PORTICO_BIN = join(dirname(fileURLToPath(import.meta.resolve("@portico/cli"))), "bin.js");
/** A built program of this workspace (`load`, `takeover`, `convergence-probe`). */
export const benchProgram = (name: string): string => join(here, `${name}.js`);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A figure as a case reports it. */
export interface CaseFigure {
  readonly name: string;
  readonly values: readonly number[];
  readonly unit: string;
  readonly goal?: string;
  /** Report p50 and p99 beside the median. */
  readonly percentiles?: boolean;
}

/** What a case prints as its last line. */
export type CaseResult =
  | { readonly figures: readonly CaseFigure[]; readonly details?: unknown }
  | { readonly unavailable: string }
  | { readonly error: string };

/** Undefined when the machine has what a case needs, else why not. */
export const missing = async (programs: readonly (readonly [string, readonly string[]])[]) => {
  const reasons: string[] = [];
  if (process.getuid?.() !== 0) reasons.push("needs root (network namespaces)");
  for (const [name, args] of programs) {
    const r = await run(name, args, { timeoutMs: 10_000 });
    if (r.isErr()) reasons.push(`${name} is not installed`);
  }
  return reasons.length === 0 ? undefined : reasons.join("; ");
};

/** Print a case's result as its last stdout line (what run.ts reads). */
export const report = (result: CaseResult): void => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
};

/** End the case with a "not available" result (never a figure) when `missing` finds a reason. */
export const requireTools = async (programs: readonly (readonly [string, readonly string[]])[]): Promise<void> => {
  const why = await missing(programs);
  if (why === undefined) return;
  report({ unavailable: why });
  process.exit(0);
};

/** What a case registers to be undone, in reverse, whatever happens. */
export type Cleanups = (() => Promise<unknown>)[];

/**
 * Run `body(cleanups)` and always run the registered cleanups afterwards (in reverse), also on
 * SIGINT/SIGTERM; a failure is reported as the case's error, never as a figure.
 */
export const withCleanup = async (body: (cleanups: Cleanups) => Promise<void>): Promise<void> => {
  const cleanups: Cleanups = [];
  let cleaning: Promise<void> | undefined;
  const clean = () =>
    (cleaning ??= (async () => {
      for (const c of cleanups.splice(0).reverse())
        await c().catch((e: Error) => process.stderr.write(`cleanup: ${e.message}\n`));
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
    report({ error: (e as Error).stack ?? JSON.stringify(e) });
    process.exitCode = 1;
  } finally {
    await clean();
  }
};

/** A started process (with pipes) whose output is kept read. */
export type Drained = Started & {
  readonly stdin: NonNullable<Started["stdin"]>;
  readonly stdout: NonNullable<Started["stdout"]>;
  readonly stderr: NonNullable<Started["stderr"]>;
  log(): string;
};

/**
 * Keep reading a started process's output (the last 20 kB stay in `log()`): a pipe nobody reads
 * fills up, and an HAProxy master blocked writing its reload notices stops answering.
 */
export const drained = (proc: Started): Drained => {
  let log = "";
  const keep = (b: Buffer) => {
    log = (log + b.toString()).slice(-20_000);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  return Object.assign(proc, { log: () => log }) as Drained;
};

/** What {@link dataplaneLab} built. */
export interface BenchLab {
  readonly netns: NetnsLab;
  readonly dir: string;
  readonly lb: string;
  readonly client: string;
  readonly nodes: readonly string[];
  nodeAddress(node: string): string;
  /** Start a process this lab stops on cleanup; its output is drained (see `drained`). */
  start(command: string, args: readonly string[]): Promise<Drained>;
  /** Make a fake node's /healthz answer 200 or 503. */
  health(node: string, status: 200 | 503): Promise<void>;
  /** The lab's client: up to `count` connections to vip:port, `parallel` at a time, at most `maxMs`. */
  traffic(vip: string, port: number, count: number, maxMs: number, parallel?: number): Promise<ClientSummary>;
}

/** Build the test kit's data-plane lab with `nodes` fake nodes; it registers its own cleanup. */
export const dataplaneLab = async (cleanups: Cleanups, nodes = 3): Promise<BenchLab> => {
  const netns = new NetnsLab();
  const dir = await mkdtemp("/tmp/portico-bench-");
  const procs: Started[] = [];
  let stopNodes = async (): Promise<void> => {};
  cleanups.push(async () => {
    for (const p of procs.splice(0).reverse()) await p.stop("SIGTERM", 3_000);
    await stopNodes();
    await netns.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  const names = Array.from({ length: nodes }, (_, i) => `node${i + 1}`);
  const net = await dataplaneNet(netns, names);
  stopNodes = () => net.stopNodes();
  await must("ip", ["-n", net.lb, "route", "add", "local", VIP_RANGE, "dev", "lo"]);
  return {
    netns,
    dir,
    lb: net.lb,
    client: net.client,
    nodes: names,
    nodeAddress: (n) => net.nodes.find((x) => x.name === n)!.address,
    start: async (command, args) => {
      const proc = drained((await start(command, args, { stdio: "pipe" }))._unsafeUnwrap());
      procs.push(proc);
      return proc;
    },
    health: (n, status) => net.health(n, status),
    traffic: (vip, port, count, maxMs, parallel = 2) => traffic(net.client, vip, port, { count, maxMs, parallel }),
  };
};
