import { readFile } from "node:fs/promises";
import { applyNftables, renderNftables, type NftablesApplyOutcome } from "@portico/adapter-nftables";
import type { AdapterError, Config, LbNodeName, Plan } from "@portico/core";

/** What installing the L4 ruleset did: loaded it, found it loaded, or failed (the last one stays). */
export type L4ApplyOutcome = { readonly ok: NftablesApplyOutcome } | { readonly error: AdapterError };

/**
 * applyL4 installs the plan's L4 ruleset on this LB node (`nft -c`, atomic write, `nft -f`).
 * Undefined when there is nothing to do: the config leaves nftables alone, or the plan has no L4
 * listener and none was ever installed. `force` loads even text equal to the installed file (the
 * first apply of a process: the kernel may have lost the tables since, e.g. on a reboot).
 * `checkDown`: the nodes HAProxy's checks say are down, per check backend, out of the tables.
 */
export const applyL4 = async (
  plan: Plan,
  config: Config,
  node: LbNodeName,
  force: boolean,
  down?: ReadonlySet<string>,
  checkDown?: ReadonlyMap<string, ReadonlySet<string>>,
): Promise<L4ApplyOutcome | undefined> => {
  const n = config.nftables;
  if (n === undefined || !n.apply) return undefined;
  const installed = await readFile(n.configPath, "utf8").catch(() => undefined);
  if ((plan.l4Listeners ?? []).length === 0 && installed === undefined) return undefined;
  const text = renderNftables(plan, {
    node,
    ...(down === undefined ? {} : { down }),
    ...(checkDown === undefined ? {} : { checkDown }),
  });
  if (text.isErr()) return { error: text.error };
  return (await applyNftables(text.value, { configPath: n.configPath, force })).match(
    (ok) => ({ ok }),
    (error) => ({ error }),
  );
};
