/**
 * Portico's HAProxy adapter: render a {@link @portico/core#Plan} into haproxy.cfg and check the
 * text with the real `haproxy -c`.
 *
 * @packageDocumentation
 */

/** Render a Plan into haproxy.cfg text; see {@link HaproxyRenderOptions}. */
export { renderHaproxy, type HaproxyRenderOptions } from "./render/full.js";
/** Render from the last render's sections (and a controller's renderer); byte-identical to `renderHaproxy`. */
export {
  HaproxyRenderer,
  renderHaproxyCached,
  type HaproxyRenderCache,
  type RenderedHaproxy,
} from "./render/cached.js";
/** Validate haproxy.cfg text with `haproxy -c`; see {@link HaproxyValidateOptions}. */
export { validateHaproxy, type HaproxyValidateOptions } from "./validate.js";
/** Apply a Plan on an LB node: runtime API when only servers changed, else a checked seamless reload. */
export {
  applyHaproxy,
  parseShowProc,
  type HaproxyApplyOptions,
  type HaproxyApplyReport,
  type ProcState,
} from "./apply.js";
/** The one client for HAProxy's runtime API and master CLI; commands are a closed, checked set. */
export {
  formatCommand,
  sendCommand,
  sendCommands,
  succeeded,
  type RuntimeCommand,
  type SendOptions,
} from "./runtime.js";
/** Read `show stat` (frontends, backends, servers: state, weight, sessions, last check) from the stats socket. */
export { parseShowStat, readStats, serverState, type CheckResult, type ServerState, type StatRow } from "./stats.js";
/** The frontends, backends and server slots a rendered haproxy.cfg declares, for `portico status`. */
export { readLayout, type HaproxyLayout, type LayoutFrontend, type LayoutServer } from "./layout.js";
/** The ports of an LB node something other than HAProxy listens on (from /proc), so a reload never binds them. */
export { foreignListeners, parseProcNetTcp, type Listener } from "./listeners.js";
/** The frontends new to the installed config that HAProxy itself cannot bind here (tried by a throwaway daemon). */
export { unbindablePorts, type BindProbeOptions } from "./bindProbe.js";
