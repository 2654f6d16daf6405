/**
 * Portico's keepalived adapter: a Plan rendered into keepalived.conf for one LB node, checked
 * with the real `keepalived -t`, installed and reloaded; and the VRRP state read back from it.
 * @packageDocumentation
 */
export { renderKeepalived, type KeepalivedRenderOptions } from "./render.js";
export {
  KeepalivedRenderer,
  renderKeepalivedCached,
  type KeepalivedRenderCache,
  type RenderedKeepalived,
} from "./cached.js";
export { validateKeepalived, type KeepalivedValidateOptions } from "./validate.js";
export { validateKeepalivedIsolated, type KeepalivedIsolatedOptions } from "./isolated.js";
export {
  applyKeepalived,
  runningKeepalived,
  type KeepalivedApplyOptions,
  type KeepalivedApplyOutcome,
} from "./apply.js";
export {
  defaultSupervisor,
  KEEPALIVED_UNIT,
  keepalivedLaunch,
  type KeepalivedLaunch,
  type KeepalivedSupervisor,
} from "./launch.js";
export { readKeepalivedState } from "./state.js";
