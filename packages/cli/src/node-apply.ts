import { readFile } from "node:fs/promises";
import {
  applyHaproxy,
  foreignListeners,
  type HaproxyApplyReport,
  type HaproxyRenderer,
} from "@portico/adapter-haproxy";
import {
  applyKeepalived,
  readKeepalivedState,
  renderKeepalived,
  type KeepalivedApplyOutcome,
  type KeepalivedRenderer,
} from "@portico/adapter-keepalived";
import {
  NO_VRRP_STATE,
  withoutTakenPorts,
  type AdapterError,
  type Config,
  type Ip,
  type LbNodeName,
  type Plan,
  type VrrpState,
} from "@portico/core";
import { applyBirdOnNode, type BirdNodeOutcome } from "./bird-apply.js";
import { applyL4, type L4ApplyOutcome } from "./l4-apply.js";

/** What applying a plan on one LB node did, target by target. */
export interface NodeApplyOutcome {
  readonly haproxy: { readonly ok: HaproxyApplyReport } | { readonly error: AdapterError };
  /** Absent when the config leaves keepalived alone (`keepalived.apply: false`). */
  readonly keepalived?: { readonly ok: KeepalivedApplyOutcome } | { readonly error: AdapterError };
  /** Absent without a `bgp` section or with `bgp.apply: false`. */
  readonly bird?: BirdNodeOutcome;
  /** Absent when there is no L4 ruleset to install (see `applyL4`). */
  readonly nftables?: L4ApplyOutcome;
}

/**
 * The VRRP state running on this node, read back from the installed keepalived.conf, so VRIDs and
 * masters stay where they are across restarts of Portico. No file: a fresh start.
 */
export const installedVrrpState = async (config: Config): Promise<VrrpState> => {
  const text = await readFile(config.keepalived.configPath, "utf8").catch(() => undefined);
  return text === undefined ? NO_VRRP_STATE : readKeepalivedState(text);
};

/**
 * The plan without the frontends on ports that another program of this LB node listens on (sshd
 * on 0.0.0.0:22): those Services say so, and the reload goes on without them.
 */
export const installablePlan = async (plan: Plan): Promise<Plan> => {
  const ports = new Set<number>(plan.frontends.map((f) => f.port));
  return withoutTakenPorts(plan, await foreignListeners(plan.settings.haproxy.masterSocket, ports));
};

/**
 * Apply a plan to this LB node: HAProxy first (it serves the traffic), then keepalived. A
 * long-running caller passes one `renderer` (and one `keepalivedRenderer`) for every plan, so each
 * render reuses the last.
 */
export const applyOnNode = async (
  plan: Plan,
  config: Config,
  node: LbNodeName,
  renderer?: HaproxyRenderer,
  keepalivedRenderer?: KeepalivedRenderer,
  announce?: readonly Ip[],
  l4?: { readonly force: boolean; readonly down?: ReadonlySet<string> },
): Promise<NodeApplyOutcome> => {
  const haproxy = (await applyHaproxy(plan, renderer === undefined ? {} : { renderer })).match(
    (ok) => ({ ok }),
    (error) => ({ error }),
  );
  // The L4 ruleset next: like HAProxy, it serves traffic before keepalived moves any VIP here.
  const nft = await applyL4(plan, config, node, l4?.force ?? true, l4?.down);
  const nftables = nft === undefined ? {} : { nftables: nft };
  // BIRD after the data planes, so a VIP is announced once its frontend is there.
  const birdOutcome = await applyBirdOnNode(plan, config, node, announce);
  const bird = birdOutcome === undefined ? {} : { bird: birdOutcome };
  if (config.keepalived.apply === false) return { haproxy, ...nftables, ...bird };
  const text =
    keepalivedRenderer === undefined ? renderKeepalived(plan, { node }) : keepalivedRenderer.render(plan, { node });
  if (text.isErr()) return { haproxy, ...nftables, keepalived: { error: text.error }, ...bird };
  const keepalived = (
    await applyKeepalived(text.value, {
      configPath: config.keepalived.configPath,
      pidFile: config.keepalived.pidFile ?? "/run/keepalived.pid",
    })
  ).match(
    (ok) => ({ ok }),
    (error) => ({ error }),
  );
  return { haproxy, ...nftables, keepalived, ...bird };
};
