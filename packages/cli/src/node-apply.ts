import { readFile } from "node:fs/promises";
import {
  applyHaproxy,
  type HaproxyApplyOptions,
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
  type AdapterError,
  type Config,
  type LbNodeName,
  type Plan,
  type VrrpState,
} from "@portico/core";

/** What applying a plan on one LB node did, target by target. */
export interface NodeApplyOutcome {
  readonly haproxy: { readonly ok: HaproxyApplyReport } | { readonly error: AdapterError };
  /** Absent when the config leaves keepalived alone (`keepalived.apply: false`). */
  readonly keepalived?: { readonly ok: KeepalivedApplyOutcome } | { readonly error: AdapterError };
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
 * Apply a plan to this LB node: HAProxy first (it serves the traffic), then keepalived. A
 * long-running caller passes one `renderer` (and one `keepalivedRenderer`) for every plan, so each
 * render reuses the last, and may pace HAProxy's reloads (`minReloadIntervalMs`).
 */
export const applyOnNode = async (
  plan: Plan,
  config: Config,
  node: LbNodeName,
  renderer?: HaproxyRenderer,
  keepalivedRenderer?: KeepalivedRenderer,
  haproxyOptions: Pick<HaproxyApplyOptions, "minReloadIntervalMs"> = {},
): Promise<NodeApplyOutcome> => {
  const haproxy = (
    await applyHaproxy(plan, { ...haproxyOptions, ...(renderer === undefined ? {} : { renderer }) })
  ).match(
    (ok) => ({ ok }),
    (error) => ({ error }),
  );
  if (config.keepalived.apply === false) return { haproxy };
  const text =
    keepalivedRenderer === undefined ? renderKeepalived(plan, { node }) : keepalivedRenderer.render(plan, { node });
  if (text.isErr()) return { haproxy, keepalived: { error: text.error } };
  const keepalived = (
    await applyKeepalived(text.value, {
      configPath: config.keepalived.configPath,
      pidFile: config.keepalived.pidFile ?? "/run/keepalived.pid",
    })
  ).match(
    (ok) => ({ ok }),
    (error) => ({ error }),
  );
  return { haproxy, keepalived };
};
