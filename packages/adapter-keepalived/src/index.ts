/**
 * Portico's keepalived adapter: a Plan rendered into keepalived.conf for one LB node, and checked
 * with the real `keepalived -t`.
 * @packageDocumentation
 */
export { renderKeepalived, type KeepalivedRenderOptions } from "./render.js";
export { validateKeepalived, type KeepalivedValidateOptions } from "./validate.js";
export { validateKeepalivedIsolated, type KeepalivedIsolatedOptions } from "./isolated.js";
