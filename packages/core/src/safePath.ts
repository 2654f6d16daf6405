import { err, ok, type Result } from "neverthrow";
import { preview } from "./_preview.js";

declare const brand: unique symbol;

/**
 * SafePath: an absolute path that can be written into haproxy.cfg or keepalived.conf without quoting:
 * `/` then 1-255 of `[A-Za-z0-9_./-]`, with no `..` segment.
 */
export type SafePath = string & { readonly [brand]: "SafePath" };

const SAFE_PATH = /^\/[A-Za-z0-9_./-]{1,255}$/;

/** isSafePath: whether a value is a {@link SafePath}. */
export const isSafePath = (value: unknown): value is SafePath =>
  typeof value === "string" && SAFE_PATH.test(value) && !value.split("/").includes("..");

/** parseSafePath: the only way to get a {@link SafePath}. */
export const parseSafePath = (value: unknown): Result<SafePath, string> =>
  isSafePath(value) ? ok(value) : err(`"${preview(value)}" is not an absolute path of [A-Za-z0-9_./-]`);
