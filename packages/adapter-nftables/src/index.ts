/**
 * Portico's nftables adapter: the plan's L4 listeners rendered into one ruleset for one LB node
 * (nat and direct forwarding over Maglev tables), checked with the real `nft -c`, loaded
 * atomically with `nft -f`, membership changes as element updates; and read back.
 * @packageDocumentation
 */
export { renderNftables, renderNftablesMembership, type NftablesRenderOptions } from "./render.js";
export { validateNftables, type NftablesValidateOptions } from "./validate.js";
export {
  applyNftables,
  applyNftablesMembership,
  type NftablesApplyOptions,
  type NftablesApplyOutcome,
} from "./apply.js";
export { readNftablesState, type NftablesListenerState, type NftablesState } from "./state.js";
export { readNftablesKernelState } from "./kernelState.js";
export { listPorticoTables, tablesNamedIn, type PorticoTableFamily } from "./tables.js";
