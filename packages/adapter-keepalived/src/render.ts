import type { LbNodeName, RenderFn } from "@portico/core";
import { file } from "./_conf.js";
import { headSections, instanceSection } from "./_sections.js";
import { checkInstances, nodeHead } from "./_view.js";

/** Options for {@link renderKeepalived}. */
export interface KeepalivedRenderOptions {
  /** The LB node this keepalived.conf is for: it sets the priorities, the source address and the peers. */
  readonly node: LbNodeName;
}

/**
 * Render keepalived.conf for one LB node: VRRPv3 with unicast adverts between the LB nodes, one
 * `vrrp_instance` per planned VIP group with this node's priority, and HAProxy liveness tracking.
 * Byte-stable; returns Err (never throws) for an unknown node or anything unsafe in the plan.
 */
export const renderKeepalived: RenderFn<KeepalivedRenderOptions> = (plan, options) =>
  nodeHead(plan, options.node).andThen((head) =>
    checkInstances(plan, head.name).map(({ instances }) =>
      file([...headSections(head, instances.length), ...instances.map((inst) => instanceSection(head, inst))]),
    ),
  );
