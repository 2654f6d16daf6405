import { readBirdStatus, type BirdStatus } from "@portico/adapter-bird";
import type { Config, LbNodeName, Plan } from "@portico/core";
import { announcedBy } from "./servable.js";

/** One BGP session of this node as `portico status` shows it. */
export interface BgpSessionView {
  readonly protocol: string;
  readonly peer: string;
  readonly asn?: number;
  /** BIRD's protocol state and BGP state, e.g. `up` and `Established`. */
  readonly state: string;
  readonly info: string;
  readonly since: string;
  /** The BFD session's state (`Up`, `Down`, `Init`), `off` when the session has none. */
  readonly bfd: string;
  /** Routes exported to this peer now. */
  readonly exported?: number;
}

/** The BGP part of `portico status`: sessions, BFD, and the VIPs this node announces. */
export interface BgpStatusView {
  /** False when BIRD does not answer on its control socket. */
  readonly running: boolean;
  readonly sessions: readonly BgpSessionView[];
  /** The VIPs BIRD announces now. */
  readonly announced: readonly string[];
  /** The VIPs the plan has this node announce (from plan.json; absent without one). */
  readonly planned?: readonly string[];
  readonly error?: string;
}

/** bgpStatusOf: the BGP view from what BIRD said (pure). */
export const bgpStatusOf = (s: BirdStatus, planned: readonly string[] | undefined): BgpStatusView => ({
  running: true,
  sessions: s.protocols
    .filter((p) => p.proto === "BGP")
    .map((p) => ({
      protocol: p.name,
      peer: p.neighbor ?? "?",
      ...(p.neighborAs === undefined ? {} : { asn: p.neighborAs }),
      state: p.state,
      info: p.info,
      since: p.since,
      bfd: s.bfd.find((b) => b.address === p.neighbor)?.state ?? "off",
      ...(p.exported === undefined ? {} : { exported: p.exported }),
    })),
  announced: s.announced,
  ...(planned === undefined ? {} : { planned }),
});

/** readBgpStatus asks BIRD on this node (`bgp.socket`) for its sessions, BFD and announcements. */
export const readBgpStatus = async (config: Config, node: LbNodeName, plan?: Plan): Promise<BgpStatusView> => {
  const planned = plan === undefined ? undefined : announcedBy(plan, node);
  const socket = config.bgp?.socket ?? "/run/bird/bird.ctl";
  return (await readBirdStatus({ socket, timeoutMs: 5_000 })).match(
    (s) => bgpStatusOf(s, planned),
    (e) => ({
      running: false,
      sessions: [],
      announced: [],
      ...(planned === undefined ? {} : { planned }),
      error: e.message,
    }),
  );
};

/** The BGP lines of `portico status --output text`. */
export const formatBgpStatus = (
  v: BgpStatusView,
  paint: { good: (s: string) => string; bad: (s: string) => string },
): string[] => {
  if (!v.running) return ["BGP: BIRD does not answer", ...(v.error === undefined ? [] : [`  ${v.error}`])];
  const missing = (v.planned ?? []).filter((p) => !v.announced.includes(p));
  const out = [
    `BGP: announcing ${v.announced.length} VIP${v.announced.length === 1 ? "" : "s"}${v.announced.length === 0 ? "" : ` (${v.announced.join(", ")})`}` +
      (missing.length === 0 ? "" : `; withdrawn here: ${missing.join(", ")}`),
  ];
  for (const s of v.sessions) {
    const up = s.info === "Established";
    out.push(
      `  peer ${s.peer}${s.asn === undefined ? "" : ` AS ${s.asn}`}  ${up ? paint.good(s.info) : paint.bad(s.info || s.state)}  since ${s.since}  BFD ${s.bfd}  ${s.exported ?? 0} exported`,
    );
  }
  return out;
};
