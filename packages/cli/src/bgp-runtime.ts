import { readFile } from "node:fs/promises";
import { parseShowProc, parseShowStat, sendCommand, sendCommands, type StatRow } from "@portico/adapter-haproxy";
import { readBirdStatus, setAnnounced } from "@portico/adapter-bird";
import type { NftablesState } from "@portico/adapter-nftables";
import { CONFIG_DEFAULTS, type Config, type Ip, type LbNodeName, type Plan } from "@portico/core";
import { Announcer } from "./announcer.js";
import { applyBirdOnNode } from "./bird-apply.js";
import { cachedL4Tables } from "./l4-tables.js";
import { announcedBy, announcesL4, bothServe, l4ServesVip, servableVips, type ServesVip } from "./servable.js";

/** What the L4 health loop tells the announcer: the tables as it last loaded them, and when it loads. */
export interface L4Loaded {
  serves(): ServesVip | undefined;
  onLoaded(fn: () => void): unknown;
}

const ALL: ServesVip = () => true;

/** How often `portico run` looks at HAProxy: a VIP it cannot serve is withdrawn within about this long. */
export const ANNOUNCE_POLL_MS = 20;

/**
 * Looks in a row HAProxy may not answer before every VIP is withdrawn: a reload rebinds the stats
 * socket. A master that says HAProxy is gone withdraws at the first look.
 */
export const ANNOUNCE_MISSES = 3;

/** The master's line of `show proc`: its pid first. */
const MASTER_LINE = /^(\d+)\s+master\b/m;

/**
 * haproxyWatch says whether HAProxy is gone for sure, asked when its stats socket did not answer:
 * the master says it runs no worker, or the master process it answered from before has exited. A
 * refused or slow master socket alone is no verdict: a reload re-executes the master (same pid)
 * and its socket refuses for that moment. The pid is trusted only where `/proc/<pid>/comm` says
 * haproxy, so a master in another pid namespace is never taken for dead.
 */
const haproxyWatch = (masterSocket: string) => {
  let masterPid: number | undefined;
  const isHaproxy = async (pid: number) =>
    (await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim() === "haproxy";
  return {
    /** Learn the master's pid (once, and again after it changed). */
    async learn(): Promise<void> {
      if (masterPid !== undefined && (await isHaproxy(masterPid))) return;
      const r = await sendCommand(masterSocket, { kind: "show-proc" }, { timeoutMs: 200 });
      const pid = r.isOk() ? Number(MASTER_LINE.exec(r.value)?.[1]) : NaN;
      masterPid = Number.isInteger(pid) && pid > 1 && (await isHaproxy(pid)) ? pid : undefined;
    },
    async gone(): Promise<boolean> {
      const r = await sendCommand(masterSocket, { kind: "show-proc" }, { timeoutMs: 200 });
      if (r.isOk()) return (parseShowProc(r.value)?.workers.length ?? 1) === 0;
      return masterPid !== undefined && !(await isHaproxy(masterPid));
    },
  };
};

/**
 * `show stat` of the worker that serves, or undefined (no verdict): during a reload the stats
 * socket may still reach the old worker, which has unbound its frontends (`Stopping: 1` in its
 * `show info`) while the new one serves them. Both are asked on one connection, so of one process.
 */
const servingStats = async (socket: string): Promise<readonly StatRow[] | undefined> => {
  const answers = await sendCommands(socket, [{ kind: "show-info" }, { kind: "show-stat" }], { timeoutMs: 200 });
  if (answers.isErr() || /^Stopping: 1$/m.test(answers.value[0] ?? "")) return undefined;
  return parseShowStat(answers.value[1] ?? "").unwrapOr(undefined);
};

/** A running {@link Announcer} and the plan it judges by. */
export interface BgpRuntime {
  readonly announcer: Announcer;
  /** Tell it the plan that now runs. */
  setPlan(plan: Plan): void;
  /** The VIPs the plan that runs has this node announce. */
  planned(): readonly Ip[];
  /** Judge L4 VIPs by the health loop's tables too, and look each time it loads them. */
  followL4(l4: L4Loaded): void;
  /**
   * Leave: with `bgp.drain: withdraw` withdraw every VIP; with `prepend` keep them announced with
   * the graceful-shutdown community and a prepended path, so the routers move new flows away first.
   */
  leave(): Promise<void>;
}

/**
 * startBgpRuntime starts the announcer of `portico run` on this node: it reads HAProxy's stats
 * socket every {@link ANNOUNCE_POLL_MS} and announces through BIRD's control socket what this node
 * can serve; it begins from what BIRD announces now, so a restart withdraws nothing that is served.
 * A VIP whose ports nftables serves is servable only while its tables are non-empty: while the plan
 * has this node announce one, each look asks `readL4` too (by default the kernel's Maglev maps of
 * the installed ruleset, read again every second; a writer of the tables may pass what it last loaded). Without an answer from
 * it an L4 VIP stays as it is, so a restart withdraws nothing that is served. After `followL4` (the L4
 * health loop) a VIP is servable only while both the loop's tables and the kernel's last read say
 * so: a table the loop empties is withdrawn at once (it makes the announcer look when it loads),
 * while the kernel stays the word on what a full load or anyone else did to the tables.
 */
export const startBgpRuntime = async (
  config: Config,
  node: LbNodeName,
  log?: (event: { readonly vip: Ip; readonly announced: boolean; readonly error?: string }) => void,
  readL4: () => Promise<NftablesState | undefined> = cachedL4Tables(
    config.nftables?.configPath ?? CONFIG_DEFAULTS.nftables.configPath,
  ),
): Promise<BgpRuntime | undefined> => {
  const bgp = config.bgp;
  if (bgp === undefined || !bgp.apply) return undefined;
  const socket = { socket: bgp.socket, timeoutMs: 2_000 };
  let plan: Plan | undefined;
  let loaded: L4Loaded | undefined;
  const haproxy = haproxyWatch(config.haproxy.masterSocket);
  const now = (await readBirdStatus(socket)).match(
    (s) => s.announced,
    () => [],
  );
  const announcer: Announcer = new Announcer(
    {
      servable: async (): Promise<ReadonlySet<Ip> | undefined> => {
        if (plan === undefined) return undefined;
        const rows = await servingStats(config.haproxy.statsSocket);
        // A stats socket that does not answer while HAProxy still runs is a reload: misses count.
        if (rows === undefined) return (await haproxy.gone()) ? new Set() : undefined;
        await haproxy.learn();
        if (!announcesL4(plan, node)) return new Set(servableVips(plan, node, rows));
        const l4 = await readL4();
        const fromLoop = loaded?.serves();
        const asIs = new Set<Ip>(announcer.announced());
        const serves: ServesVip =
          l4 === undefined && fromLoop === undefined
            ? (vip) => asIs.has(vip)
            : bothServe(l4 === undefined ? ALL : l4ServesVip(plan, l4), fromLoop ?? ALL);
        return new Set(servableVips(plan, node, rows, serves));
      },
      set: async (vip, on) => await setAnnounced(vip, on, socket),
      now: () => performance.now(),
      ...(log === undefined ? {} : { log }),
    },
    { pollMs: ANNOUNCE_POLL_MS, upDelayMs: bgp.upDelayMs, missesToWithdraw: ANNOUNCE_MISSES },
    now,
  );
  announcer.start();
  return {
    announcer,
    planned: () => (plan === undefined ? [] : announcedBy(plan, node)),
    followL4(l4) {
      loaded = l4;
      l4.onLoaded(() => announcer.nudge());
    },
    setPlan(p) {
      plan = p;
      announcer.setPlanned(announcedBy(p, node));
    },
    async leave() {
      if (bgp.drain === "withdraw" || plan === undefined) return announcer.leave();
      await announcer.stop();
      await applyBirdOnNode(plan, config, node, announcer.announced(), true);
    },
  };
};
