import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readLayout, readStats } from "@portico/adapter-haproxy";
import { readKeepalivedState } from "@portico/adapter-keepalived";
import { NO_VRRP_STATE, parseDuration, type Config, type LbNode, type Plan } from "@portico/core";
import { run } from "@portico/host";
import { EXIT, fail, type Flags } from "../args.js";
import type { Io } from "../io.js";
import { findLbNode, loadConfig } from "../load.js";
import { readBgpStatus } from "../bgp-status.js";
import { readL4Status } from "../status-l4.js";
import {
  buildStatus,
  formatStatus,
  NO_COLOURS,
  parseIpAddr,
  type StatusColours,
  type StatusSources,
  type StatusView,
} from "../status-view.js";

/** Why status could not be read: a message, the fix in one line, and the exit code. */
interface StatusError {
  readonly message: string;
  readonly hint: string;
  readonly code: number;
}

const ansi = (n: number) => (s: string) => `\u001b[${n}m${s}\u001b[0m`;
const COLOURS: StatusColours = { good: ansi(32), bad: ansi(31), warn: ansi(33) };

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

const readPidAlive = async (pidFile: string): Promise<"running" | "stopped" | "unknown"> => {
  const text = await readFile(pidFile, "utf8").catch((e: unknown) => (errno(e) === "ENOENT" ? "" : undefined));
  if (text === undefined) return "unknown";
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return "stopped";
  try {
    process.kill(pid, 0);
    return "running";
  } catch (e) {
    // EPERM: it exists, it is just not ours to signal.
    return errno(e) === "EPERM" ? "running" : "stopped";
  }
};

const readPlanBeside = async (configPath: string): Promise<Plan | undefined> => {
  const text = await readFile(join(dirname(configPath), "plan.json"), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const p = JSON.parse(text) as Plan;
    return Array.isArray(p.backends) && Array.isArray(p.checks) ? p : undefined;
  } catch {
    return undefined;
  }
};

/** Read everything status shows from this node: installed files, the runtime API, the interface. */
export const readStatus = async (
  config: Config,
  lbNode: LbNode,
): Promise<{ view: StatusView } | { error: StatusError }> => {
  const h = config.haproxy;
  let cfg: string;
  try {
    cfg = await readFile(h.configPath, "utf8");
  } catch (e) {
    const why =
      errno(e) === "ENOENT" ? "no such file" : errno(e) === "EACCES" ? "permission denied" : (e as Error).message;
    return {
      error: {
        message: `cannot read the installed haproxy.cfg ${h.configPath} (config haproxy.configPath): ${why}`,
        hint:
          errno(e) === "EACCES"
            ? "run portico status as root or as a user that can read it"
            : "run portico apply on this node first, or set haproxy.configPath to where the file is",
        code: EXIT.usage,
      },
    };
  }
  const stats = await readStats(h.statsSocket);
  if (stats.isErr()) {
    const e = stats.error;
    const missing = e.message.includes("ENOENT");
    const refused = e.message.includes("ECONNREFUSED");
    const denied = e.message.includes("EACCES");
    const why = missing
      ? "the socket does not exist"
      : refused
        ? "nothing listens on it"
        : denied
          ? "permission denied"
          : e.message;
    const hint =
      missing || refused
        ? `HAProxy is not running with this stats socket: start it (systemctl start haproxy) or set haproxy.statsSocket in the config to its "stats socket" path`
        : denied
          ? "run portico status as root or as a member of the socket's group (the stats socket is mode 660)"
          : (e.hint ?? "check that HAProxy answers on its stats socket (echo 'show info' | socat stdio <socket>)");
    return {
      error: {
        message: `cannot read HAProxy's runtime API at ${h.statsSocket} (config haproxy.statsSocket): ${why}`,
        hint,
        code: EXIT.applyFailed,
      },
    };
  }
  const ip = await run("ip", ["-j", "addr", "show", "dev", lbNode.interface], { timeoutMs: 10_000 });
  const addresses = ip.isErr()
    ? { error: ip.error.message }
    : ip.value.code !== 0
      ? { error: ip.value.stderr.trim() || `ip exited ${ip.value.code}` }
      : parseIpAddr(ip.value.stdout);
  const keepalivedConf = await readFile(config.keepalived.configPath, "utf8").catch(() => undefined);
  const plan = await readPlanBeside(h.configPath);
  const sources: StatusSources = {
    node: lbNode.name,
    interface: lbNode.interface,
    layout: readLayout(cfg),
    stats: stats.value,
    addresses,
    vrrp: keepalivedConf === undefined ? NO_VRRP_STATE : readKeepalivedState(keepalivedConf),
    keepalived: await readPidAlive(config.keepalived.pidFile ?? "/run/keepalived.pid"),
    ...(plan === undefined ? {} : { plan }),
  };
  const bgp = config.bgp === undefined ? undefined : await readBgpStatus(config, lbNode.name, plan);
  const l4 = await readL4Status();
  return {
    view: {
      ...buildStatus(sources),
      ...(l4 === undefined ? {} : { l4 }),
      ...(bgp === undefined ? {} : { bgp }),
    },
  };
};

// Home, then clear to the end of the screen: the next table replaces the last in place.
const REDRAW = "\u001b[H\u001b[J";

/** `portico status --config <file> --node <lbNode> [--watch [--interval <duration>]] [--output text|json]` */
export const statusCommand = async (flags: Flags, io: Io): Promise<number> => {
  const output = flags.string("output") ?? "text";
  if (output !== "text" && output !== "json")
    return fail(io, `status: --output must be text or json, not "${output}"`, EXIT.usage);
  const node = flags.required("node");
  if (node === undefined) return fail(io, "status needs --node <lbNode>", EXIT.usage);
  const watch = flags.boolean("watch");
  const intervalText = flags.string("interval");
  if (intervalText !== undefined && !watch) return fail(io, "status: --interval needs --watch", EXIT.usage);
  const interval = parseDuration(intervalText ?? "2s", 200, 3_600_000);
  if (interval.isErr())
    return fail(io, `status: --interval: ${interval.error} (accepted: 200ms to 1h, e.g. 2s)`, EXIT.usage);
  const config = await loadConfig(flags.configPath(io));
  if (config.isErr()) return fail(io, config.error.message, EXIT.usage);
  const found = findLbNode(config.value, node);
  if (found.isErr()) return fail(io, found.error.message, EXIT.usage);

  const colours = io.color === true ? COLOURS : NO_COLOURS;
  const render = (view: StatusView): string =>
    output === "json" ? `${JSON.stringify(view, null, watch ? undefined : 2)}\n` : formatStatus(view, colours);

  if (!watch) {
    const r = await readStatus(config.value, found.value);
    if ("error" in r) return fail(io, `${r.error.message}\nhint: ${r.error.hint}`, r.error.code);
    io.stdout(render(r.view));
    return EXIT.ok;
  }

  // --watch: until SIGINT. A terminal gets the table redrawn in place; a pipe or file gets one
  // block (one JSON line with --output json) per refresh. A failed read is shown, not fatal:
  // HAProxy restarting should not end the watch.
  const stop = io.interrupt ?? sigint();
  const inPlace = io.stdoutTty === true && output === "text";
  while (!stop.aborted) {
    const r = await readStatus(config.value, found.value);
    const stamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const body =
      "error" in r
        ? output === "json"
          ? `${JSON.stringify({ error: r.error.message, hint: r.error.hint })}\n`
          : `portico: ${r.error.message}\nhint: ${r.error.hint}\n`
        : render(r.view);
    if (output === "json") io.stdout(body);
    else
      io.stdout(
        `${inPlace ? REDRAW : ""}Every ${intervalText ?? "2s"} at ${stamp} (Ctrl-C to stop)\n${body}${inPlace ? "" : "\n"}`,
      );
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        stop.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, interval.value);
      stop.addEventListener("abort", done, { once: true });
    });
  }
  return EXIT.ok;
};

const sigint = (): AbortSignal => {
  const c = new AbortController();
  process.once("SIGINT", () => c.abort());
  return c.signal;
};
