import { readStats } from "@portico/adapter-haproxy";
import { readBirdStatus, setAnnounced } from "@portico/adapter-bird";
import type { Config, Ip, LbNodeName, Plan } from "@portico/core";
import { Announcer } from "./announcer.js";
import { applyBirdOnNode } from "./bird-apply.js";
import { announcedBy, servableVips, type ServesVip } from "./servable.js";

/** How often `portico run` looks at HAProxy: a VIP it cannot serve is withdrawn within about this long. */
export const ANNOUNCE_POLL_MS = 20;

/** Looks in a row HAProxy may not answer before every VIP is withdrawn: a reload rebinds the stats socket. */
export const ANNOUNCE_MISSES = 3;

/** A running {@link Announcer} and the plan it judges by. */
export interface BgpRuntime {
  readonly announcer: Announcer;
  /** Tell it the plan that now runs. */
  setPlan(plan: Plan): void;
  /** The VIPs the plan that runs has this node announce. */
  planned(): readonly Ip[];
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
 * `alsoServes` is the L4 data plane's say (its table for the VIP is non-empty), when it runs.
 */
export const startBgpRuntime = async (
  config: Config,
  node: LbNodeName,
  log?: (event: { readonly vip: Ip; readonly announced: boolean; readonly error?: string }) => void,
  alsoServes?: ServesVip,
): Promise<BgpRuntime | undefined> => {
  const bgp = config.bgp;
  if (bgp === undefined || !bgp.apply) return undefined;
  const socket = { socket: bgp.socket, timeoutMs: 2_000 };
  let plan: Plan | undefined;
  const now = (await readBirdStatus(socket)).match(
    (s) => s.announced,
    () => [],
  );
  const announcer = new Announcer(
    {
      servable: async () => {
        if (plan === undefined) return undefined;
        const rows = await readStats(config.haproxy.statsSocket, { timeoutMs: 200 });
        return rows.isErr() ? undefined : new Set(servableVips(plan, node, rows.value, alsoServes));
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
