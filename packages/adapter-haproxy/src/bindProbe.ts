import { mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Frontend, Plan, TakenPort } from "@portico/core";
import { run } from "@portico/host";
import { guardIdent, guardIp, guardPort } from "./_guards.js";
import { haproxyPids } from "./listeners.js";
import { bindLine } from "./render/frontend.js";

/** Options for {@link unbindablePorts}. */
export interface BindProbeOptions {
  /** The haproxy program; default `haproxy`. */
  readonly binary?: string;
  /** How long the probe may take; default 5 s (it takes tens of milliseconds). */
  readonly timeoutMs?: number;
  /** Where /proc is; default `/proc`. */
  readonly proc?: string;
}

// What a failed bind says in 2.6: `Binding [file:9] for frontend fe_a: cannot bind socket (Address already in use) for [...]`.
const BIND_ALERT = /^\[ALERT\].*? for frontend ([A-Za-z0-9_.:-]+): cannot bind socket \(([A-Za-z ]{1,60})\)/gm;

/**
 * unbindablePorts: the frontends of `plan` that HAProxy could not bind on this LB node, each as a
 * {@link TakenPort} naming the error (a socket another program bound, listening or not). Only the
 * frontends the installed haproxy.cfg does not bind yet are tried, so live traffic is never
 * touched. They are tried by HAProxy itself: a throwaway daemon of the same binary binds exactly
 * the lines a reload would (`transparent`, SO_REUSEADDR and SO_REUSEPORT as root), in the network
 * namespace of the running master (this process's when none answers), and is killed once it has
 * bound them; its frontends refuse every connection meanwhile. A probe that cannot run says
 * nothing, and the reload judges.
 */
export const unbindablePorts = async (plan: Plan, options: BindProbeOptions = {}): Promise<TakenPort[]> => {
  const installed = await readFile(plan.settings.haproxy.configPath, "utf8").catch(() => "");
  const bound = bindLines(installed);
  const fresh = plan.frontends.filter((f) => isProbeable(f) && !bound.has(bindLine(f.vip, f.port)));
  if (fresh.length === 0) return [];
  const proc = options.proc ?? "/proc";
  const master = (await haproxyPids(plan.settings.haproxy.masterSocket))[0];
  const netns = master === undefined ? undefined : await foreignNetns(proc, master);
  const dir = await mkdtemp(join(tmpdir(), "portico-bind-probe-"));
  try {
    const cfg = join(dir, "probe.cfg");
    const pidFile = join(dir, "probe.pid");
    await writeFile(cfg, probeConfig(fresh), { mode: 0o600 });
    const haproxy = [options.binary ?? "haproxy", "-D", "-p", pidFile, "-f", cfg];
    const [command, ...args] = netns === undefined ? haproxy : ["nsenter", `--net=${netns}`, "--", ...haproxy];
    const r = await run(command!, args, { timeoutMs: options.timeoutMs ?? 5_000 });
    await stopProbe(await readFile(pidFile, "utf8").catch(() => ""), proc);
    if (r.isErr() || r.value.code === 0) return [];
    const byId = new Map<string, Frontend>(fresh.map((f) => [f.id, f]));
    const seen = new Set<string>();
    return [...r.value.stderr.matchAll(BIND_ALERT)].flatMap((m) => {
      const f = byId.get(m[1] ?? "");
      if (f === undefined || seen.has(f.id)) return [];
      seen.add(f.id);
      return [{ port: f.port, address: f.vip, owner: `HAProxy cannot bind it: ${m[2] ?? ""}` }];
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** The `bind` lines of a rendered haproxy.cfg, as {@link bindLine} prints them. */
const bindLines = (text: string): Set<string> => {
  const out = new Set<string>();
  // A scan for the one indented keyword, not a split: an installed file can have millions of lines.
  for (let at = text.indexOf("\n    bind "); at >= 0; at = text.indexOf("\n    bind ", at + 1)) {
    const end = text.indexOf("\n", at + 1);
    out.add(text.slice(at + 5, end < 0 ? undefined : end));
  }
  return out;
};

// Frontends of a plan are made by the planner; one that would not render is not the probe's to judge.
const isProbeable = (f: Frontend): boolean =>
  guardIdent(f.id).isOk() && guardIp(f.vip).isOk() && guardPort(f.port).isOk();

/** One frontend per bind, each refusing its connections: the probe never serves anybody. */
const probeConfig = (frontends: readonly Frontend[]): string =>
  [
    "global",
    "    nbthread 1",
    "defaults",
    "    mode tcp",
    "    timeout connect 1s",
    "    timeout client 1s",
    "    timeout server 1s",
    ...frontends.flatMap((f) => [
      `frontend ${f.id}`,
      `    ${bindLine(f.vip, f.port)}`,
      "    tcp-request connection reject",
    ]),
    "",
  ].join("\n");

/** The master's network namespace when it is not this process's, as a path nsenter takes. */
const foreignNetns = async (proc: string, pid: number): Promise<string | undefined> => {
  const [theirs, ours] = await Promise.all([
    readlink(`${proc}/${pid}/ns/net`).catch(() => undefined),
    readlink(`${proc}/self/ns/net`).catch(() => undefined),
  ]);
  return theirs === undefined || theirs === ours ? undefined : `${proc}/${pid}/ns/net`;
};

/** Kill the probe's daemon (its pid file's pids) and wait until it has let go of its sockets. */
const stopProbe = async (pidFile: string, proc: string): Promise<void> => {
  const pids = pidFile
    .split("\n")
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  // A killed process closes its sockets before it becomes a zombie; bounded, it is a probe.
  for (let i = 0; i < 400 && (await anyAlive(pids, proc)); i++) await new Promise((r) => setTimeout(r, 5));
};

const anyAlive = async (pids: readonly number[], proc: string): Promise<boolean> => {
  for (const pid of pids) {
    const stat = await readFile(`${proc}/${pid}/stat`, "utf8").catch(() => "");
    // The state follows the command's closing parenthesis.
    if (stat !== "" && !/\)\s+Z\s/.test(stat)) return true;
  }
  return false;
};
