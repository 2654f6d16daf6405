/** A decoded JSON or YAML mapping. */
export type Json = Record<string, unknown>;

/** Whether a decoded value is a mapping (not null, not a list). */
export const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The value as a mapping; anything else reads as an empty one. */
export const rec = (v: unknown): Json => (isRecord(v) ? v : {});

/** The value as a list; anything else reads as an empty one. */
export const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
