/**
 * Portico's HAProxy adapter: render a {@link @portico/core#Plan} into haproxy.cfg and check the
 * text with the real `haproxy -c`.
 *
 * @packageDocumentation
 */

/** Render a Plan into haproxy.cfg text; see {@link HaproxyRenderOptions}. */
export { renderHaproxy, type HaproxyRenderOptions } from "./render.js";
/** Validate haproxy.cfg text with `haproxy -c`; see {@link HaproxyValidateOptions}. */
export { validateHaproxy, type HaproxyValidateOptions } from "./validate.js";
