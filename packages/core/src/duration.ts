import { err, ok, type Result } from "neverthrow";
import { preview } from "./_preview.js";
import type { Millis } from "./model.js";

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parse a duration such as `500ms`, `5s`, `2m`, `1h` (one whole number and a unit) into
 * milliseconds within `[min, max]`.
 */
export const parseDuration = (text: string, min: number, max: number): Result<Millis, string> => {
  const m = /^([0-9]{1,9})(ms|s|m|h)$/.exec(text);
  if (m === null) return err(`"${preview(text)}" is not a duration like 500ms, 5s, 2m or 1h`);
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms < min || ms > max) return err(`"${preview(text)}" is outside ${formatMillis(min)}-${formatMillis(max)}`);
  return ok(ms as Millis);
};

/** Milliseconds in the largest whole unit, for messages and docs. */
export const formatMillis = (ms: number): string =>
  ms % 3_600_000 === 0 && ms > 0
    ? `${ms / 3_600_000}h`
    : ms % 60_000 === 0 && ms > 0
      ? `${ms / 60_000}m`
      : ms % 1000 === 0 && ms > 0
        ? `${ms / 1000}s`
        : `${ms}ms`;
