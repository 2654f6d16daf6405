import type { Ip, LbNodeName, RenderFn } from "@portico/core";
import { bfdSection, deviceSection, file, filterSection, headSection, peerSection, vipSection } from "./_conf.js";
import { birdView } from "./_view.js";

/** Options for {@link renderBird}. */
export interface BirdRenderOptions {
  /** The LB node this bird.conf is for: its router id, its session source, the VIPs it announces. */
  readonly node: LbNodeName;
  /**
   * The VIPs announced now (the ones this node can serve); the others are rendered disabled.
   * Absent: every VIP the plan has this node announce.
   */
  readonly announce?: readonly Ip[];
  /** True while the node is leaving: announce with the graceful-shutdown community and a prepended path. */
  readonly gracefulShutdown?: boolean;
}

/**
 * Render bird.conf for one LB node: the router id, one static protocol per VIP the plan has this
 * node announce (its /32 or /128), and one BGP session per peer whose export filter passes only
 * those VIPs, with the peer's communities, BFD and timers. Byte-stable; returns Err (never
 * throws) for an unknown node or anything unsafe in the plan.
 */
export const renderBird: RenderFn<BirdRenderOptions> = (plan, options) =>
  birdView(plan, options.node, {
    ...(options.announce === undefined ? {} : { announce: options.announce }),
    ...(options.gracefulShutdown === undefined ? {} : { gracefulShutdown: options.gracefulShutdown }),
  }).map((view) =>
    file([
      headSection(view),
      deviceSection(),
      ...(view.peers.some((p) => p.bfd !== undefined) ? [bfdSection()] : []),
      ...view.vips.map(vipSection),
      ...view.peers.flatMap((p) => [filterSection(view, p), peerSection(view, p)]),
    ]),
  );
