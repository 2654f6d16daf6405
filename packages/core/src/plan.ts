// The Plan types live in plan/types.ts; adapter.ts and annotations.ts still import them from here.
export type * from "./plan/types.js";
