import { readFile } from "node:fs/promises";
import {
  applyHaproxy,
  foreignListeners,
  type HaproxyApplyReport,
  type HaproxyRenderer,
  unbindablePorts,
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
 * The plan without the frontends on ports that another program of this LB node holds: one that
 * listens (sshd on 0.0.0.0:22, seen in /proc), or any socket HAProxy cannot bind beside (bound and
 * not listening, tried by HAProxy itself). Those Services say so, and the reload goes on without them.
 */
export const installablePlan = async (plan: Plan): Promise<Plan> => {
  const ports = new Set<number>(plan.frontends.map((f) => f.port));
  const listened = await foreignListeners(plan.settings.haproxy.masterSocket, ports);
  // Only what the listeners left is tried, so each port is named once, by what holds it.
  const unbindable = await unbindablePorts(withoutTakenPorts(plan, listened));
  return withoutTakenPorts(plan, [...listened, ...unbindable]);
};

/** What a caller of {@link applyOnNode} may add; a one-shot `portico apply` gives none of it. */
export interface NodeApplyOptions {
  /** One renderer for every plan of a long-running caller, so each render reuses the last. */
  readonly renderer?: HaproxyRenderer;
  readonly keepalivedRenderer?: KeepalivedRenderer;
  /** The BGP VIPs the announcer announces now; bird.conf carries them. */
  readonly announce?: readonly Ip[];
  /** `force`: load the whole L4 ruleset even when it reads unchanged; `down`: nodes out of the tables. */
  readonly l4?: {
    readonly force: boolean;
    readonly down?: ReadonlySet<string>;
    /** The nodes HAProxy's checks say are down, by check backend (`portico run`'s L4Health loop). */
    readonly checkDown?: ReadonlyMap<string, ReadonlySet<string>>;
  };
  /** Paces HAProxy's reloads: a reload sooner than this after the last is deferred. */
  readonly minReloadIntervalMs?: number;
}

/**
 * Apply a plan to this LB node: HAProxy first (it serves the traffic), then the L4 ruleset, then
 * BIRD (a VIP is announced once its data planes serve it), then keepalived.
 */
export const applyOnNode = async (
  plan: Plan,
  config: Config,
  node: LbNodeName,
  options: NodeApplyOptions = {},
): Promise<NodeApplyOutcome> => {
  const { renderer, keepalivedRenderer, announce, l4, minReloadIntervalMs } = options;
  const haproxy = (
    await applyHaproxy(plan, {
      ...(minReloadIntervalMs === undefined ? {} : { minReloadIntervalMs }),
      ...(renderer === undefined ? {} : { renderer }),
    })
  ).match(
    (ok) => ({ ok }),
    (error) => ({ error }),
  );
  const nft = await applyL4(plan, config, node, l4?.force ?? true, l4?.down, l4?.checkDown);
  const nftables = nft === undefined ? {} : { nftables: nft };
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
