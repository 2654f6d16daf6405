import { applyBird, renderBird, type BirdApplyOutcome } from "@portico/adapter-bird";
import type { AdapterError, Config, Ip, LbNodeName, Plan } from "@portico/core";
import { syncLoopbackVips } from "./local-vips.js";

/** What installing bird.conf on this LB node did. */
export type BirdNodeOutcome = { readonly ok: BirdApplyOutcome } | { readonly error: AdapterError };

/** The BGP VIPs the plan has this LB node announce. */
export const announcedBy = (plan: Plan, node: LbNodeName): Ip[] =>
  (plan.announcements ?? []).filter((a) => a.lbNodes.includes(node)).map((a) => a.vip);

/**
 * applyBirdOnNode renders bird.conf for this node, makes its BGP VIPs local (`lo`) and installs
 * the file (`bird -p`, atomic write, `birdc configure` or start). `announce` is what the node
 * can serve now (absent: every VIP the plan gives it). Undefined when the config has no `bgp`
 * section or leaves BIRD alone (`bgp.apply: false`).
 */
export const applyBirdOnNode = async (
  plan: Plan,
  config: Config,
  node: LbNodeName,
  announce?: readonly Ip[],
): Promise<BirdNodeOutcome | undefined> => {
  const bgp = config.bgp;
  if (bgp === undefined || !bgp.apply) return undefined;
  const text = renderBird(plan, { node, ...(announce === undefined ? {} : { announce }) });
  if (text.isErr()) return { error: text.error };
  const local = await syncLoopbackVips(announcedBy(plan, node), config);
  if (local.isErr()) return { error: local.error };
  return (await applyBird(text.value, { configPath: bgp.configPath, socket: bgp.socket })).match(
    (ok) => ({ ok }),
    (error) => ({ error }),
  );
};
