import type { LbNodeName, RenderFn } from "@portico/core";
import { printMembership, printRuleset } from "./_print.js";
import { viewOf } from "./_view.js";

/** Options for {@link renderNftables} and {@link renderNftablesMembership}. */
export interface NftablesRenderOptions {
  /** The LB node the ruleset is for: its interface carries `direct` forwarding. */
  readonly node: LbNodeName;
  /** Nodes whose health check says down: out of every Maglev table (their marks stay reserved). */
  readonly down?: ReadonlySet<string>;
  /**
   * Nodes whose check says down, by the id of the check backend: out of the tables of the
   * listeners that track that check only (HAProxy's verdicts, read from its stats socket).
   */
  readonly checkDown?: ReadonlyMap<string, ReadonlySet<string>>;
}

const NONE: ReadonlySet<string> = new Set();

/**
 * renderNftables renders the plan's L4 listeners into one nftables ruleset for one LB node:
 * `table inet portico` (nat: DNAT by the Maglev table, source NAT back) and `table netdev
 * portico` (direct: the packet forwarded unchanged to the chosen node), each replaced whole in
 * one `nft -f` transaction; every other table is left alone.
 */
export const renderNftables: RenderFn<NftablesRenderOptions> = (plan, options) =>
  viewOf(plan, options.node, options.down ?? NONE, options.checkDown).map(printRuleset);

/**
 * renderNftablesMembership renders only the `up_` sets' and spill maps' elements for the nodes that
 * are up, as one transaction for a ruleset that {@link renderNftables} rendered from the same plan:
 * a health verdict moves nodes without replacing a rule, a primary map or a counter.
 */
export const renderNftablesMembership: RenderFn<NftablesRenderOptions> = (plan, options) =>
  viewOf(plan, options.node, options.down ?? NONE, options.checkDown).map(printMembership);
