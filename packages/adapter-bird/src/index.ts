/**
 * Portico's BIRD 2 adapter: a Plan rendered into bird.conf for one LB node (the VIPs it
 * announces, one BGP session per peer, BFD), checked with the real `bird -p`, installed with
 * `birdc configure`; single VIPs announced and withdrawn without touching a session; and what a
 * running BIRD says, read back.
 * @packageDocumentation
 */
export { renderBird, type BirdRenderOptions } from "./render.js";
export { validateBird, type BirdValidateOptions } from "./validate.js";
export { applyBird, type BirdApplyOptions, type BirdApplyOutcome } from "./apply.js";
export { birdc, type BirdcOptions } from "./birdc.js";
export { readBirdStatus, setAnnounced, type BirdStatus } from "./announce.js";
export { readBirdBfd, readBirdProtocols, vipOfProtocol, type BirdBfdSession, type BirdProtocol } from "./state.js";
export { protocolName } from "./protocolName.js";
