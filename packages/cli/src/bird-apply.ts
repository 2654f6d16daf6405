import { applyBird, renderBird, type BirdApplyOutcome } from "@portico/adapter-bird";
import { readStats } from "@portico/adapter-haproxy";
import type { AdapterError, Config, Ip, LbNodeName, Plan } from "@portico/core";
import { syncLoopbackVips } from "./local-vips.js";
import { announcedBy, servableVips } from "./servable.js";

/** What installing bird.conf on this LB node did. */
export type BirdNodeOutcome = { readonly ok: BirdApplyOutcome } | { readonly error: AdapterError };

/**
 * applyBirdOnNode renders bird.conf for this node, makes its BGP VIPs local (`lo`) and installs
 * the file (`bird -p`, atomic write, `birdc configure` or start). `announce` is what BIRD is to
 * announce now (the running announcer's choice); absent: what HAProxy's stats say this node can
 * serve right now, none when HAProxy does not answer. Undefined when the config has no `bgp`
 * section or leaves BIRD alone (`bgp.apply: false`). `gracefulShutdown`: the node is leaving.
 */
export const applyBirdOnNode = async (
  plan: Plan,
  config: Config,
  node: LbNodeName,
  announce?: readonly Ip[],
  gracefulShutdown?: boolean,
): Promise<BirdNodeOutcome | undefined> => {
  const bgp = config.bgp;
  if (bgp === undefined || !bgp.apply) return undefined;
  const now =
    announce ??
    (await readStats(config.haproxy.statsSocket, { timeoutMs: 2_000 })).match(
      (rows) => servableVips(plan, node, rows),
      () => [],
    );
  const text = renderBird(plan, { node, announce: now, ...(gracefulShutdown === true ? { gracefulShutdown } : {}) });
  if (text.isErr()) return { error: text.error };
  const local = await syncLoopbackVips(announcedBy(plan, node), config);
  if (local.isErr()) return { error: local.error };
  return (await applyBird(text.value, { configPath: bgp.configPath, socket: bgp.socket })).match(
    (ok) => ({ ok }),
    (error) => ({ error }),
  );
};
