import { join } from "node:path";
import { applyKeepalived, renderKeepalived, type KeepalivedApplyOutcome } from "@portico/adapter-keepalived";
import type { LbNodeName, Plan } from "@portico/core";

/**
 * applyLbKeepalived renders `plan`'s keepalived config for the lab LB node `lb` and starts (or
 * reloads) keepalived in its namespace, its files under `dir`/`lb`/ (keepalived.conf,
 * keepalived.pid, vrrp.pid). The HAProxy check follows the live HAProxy whose pid is in
 * `dir`/`lb`/haproxy.pid, as on a real LB node. Throws when keepalived does not come up, as the
 * labs' set-up does.
 */
export const applyLbKeepalived = async (
  plan: Plan,
  lb: string,
  { dir, netns, timeoutMs }: { readonly dir: string; readonly netns: string; readonly timeoutMs: number },
): Promise<KeepalivedApplyOutcome> => {
  const file = (name: string): string => join(dir, lb, name);
  const own: Plan = {
    ...plan,
    settings: {
      ...plan.settings,
      vrrp: {
        ...plan.settings.vrrp,
        haproxyCheck: { kind: "script", pidFile: file("haproxy.pid"), intervalS: 1, fall: 2, rise: 2 },
      },
    },
  };
  const r = await applyKeepalived(renderKeepalived(own, { node: lb as LbNodeName })._unsafeUnwrap(), {
    configPath: file("keepalived.conf"),
    pidFile: file("keepalived.pid"),
    vrrpPidFile: file("vrrp.pid"),
    netns,
    timeoutMs,
  });
  if (r.isErr()) throw new Error(`${r.error.message} ${r.error.hint ?? ""}`);
  return r.value;
};
