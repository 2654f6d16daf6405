import { readStats } from "@portico/adapter-haproxy";
import { readBirdStatus, setAnnounced } from "@portico/adapter-bird";
import type { NftablesState } from "@portico/adapter-nftables";
import type { Config, Ip, LbNodeName, Plan } from "@portico/core";
import { Announcer } from "./announcer.js";
import { applyBirdOnNode } from "./bird-apply.js";
import { cachedL4Tables } from "./l4-tables.js";
import { announcedBy, announcesL4, l4ServesVip, servableVips, type ServesVip } from "./servable.js";

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
 * A VIP whose ports nftables serves is servable only while its tables are non-empty: while the plan
 * has this node announce one, each look asks `readL4` too (by default the kernel's tables, read
 * again every second; a writer of the tables may pass what it last loaded). Without an answer from
 * it an L4 VIP stays as it is, so a restart withdraws nothing that is served.
 */
export const startBgpRuntime = async (
  config: Config,
  node: LbNodeName,
  log?: (event: { readonly vip: Ip; readonly announced: boolean; readonly error?: string }) => void,
  readL4: () => Promise<NftablesState | undefined> = cachedL4Tables(),
): Promise<BgpRuntime | undefined> => {
  const bgp = config.bgp;
  if (bgp === undefined || !bgp.apply) return undefined;
  const socket = { socket: bgp.socket, timeoutMs: 2_000 };
  let plan: Plan | undefined;
  const now = (await readBirdStatus(socket)).match(
    (s) => s.announced,
    () => [],
  );
  const announcer: Announcer = new Announcer(
    {
      servable: async (): Promise<ReadonlySet<Ip> | undefined> => {
        if (plan === undefined) return undefined;
        const rows = await readStats(config.haproxy.statsSocket, { timeoutMs: 200 });
        if (rows.isErr()) return undefined;
        if (!announcesL4(plan, node)) return new Set(servableVips(plan, node, rows.value));
        const l4 = await readL4();
        const asIs = new Set<Ip>(announcer.announced());
        const serves: ServesVip = l4 === undefined ? (vip) => asIs.has(vip) : l4ServesVip(plan, l4);
        return new Set(servableVips(plan, node, rows.value, serves));
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
