import { err, ok, type Result } from "neverthrow";
import {
  formatBgpCommunity,
  isAsn,
  isBgpCommunity,
  isDns1123Label,
  isSafePath,
  parseIp,
  type AdapterError,
  type Asn,
  type BgpCommunity,
  type Ip,
  type IpFamily,
  type LbNodeName,
  type SafePath,
} from "@portico/core";

// The planner and the config parser already guarantee all of this. The renderer checks again
// because a Plan is a plain value anyone can build (or cast), and one stray quote, brace or
// semicolon in bird.conf would let text from outside Portico become configuration.

/** An Err of kind `render` from this adapter. */
export const renderError = (message: string): AdapterError => ({ kind: "render", adapter: "bird", message });

/** Untrusted text for an error message: quoted, escaped and capped, so it cannot forge log lines. */
export const quote = (value: unknown): string => {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
};

const fail = <T>(where: string, value: unknown, what: string): Result<T, AdapterError> =>
  err(renderError(`${where}: ${quote(value)} is not ${what}`));

/** An IP address in canonical form, of `family` when given. */
export const checkIp = (value: unknown, where: string, family?: IpFamily): Result<Ip, AdapterError> => {
  if (typeof value !== "string") return fail(where, value, "an IP address");
  const parsed = parseIp(value);
  if (parsed.isErr() || parsed.value !== value) return fail(where, value, "an IP address in canonical form");
  const is4 = !value.includes(":");
  return family === undefined || (family === 4) === is4
    ? ok(parsed.value)
    : fail(where, value, `an IPv${family} address`);
};

/** An LB node name: a DNS-1123 label, as the config parser requires. */
export const checkNodeName = (value: unknown, where: string): Result<LbNodeName, AdapterError> =>
  isDns1123Label(value) ? ok(value as LbNodeName) : fail(where, value, "an LB node name (DNS-1123 label)");

/** A 4-byte AS number. */
export const checkAsn = (value: unknown, where: string): Result<Asn, AdapterError> =>
  isAsn(value) ? ok(value) : fail(where, value, "an AS number (1-4294967295)");

/** A whole number within bounds. */
export const checkInt = (value: unknown, min: number, max: number, where: string): Result<number, AdapterError> =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max
    ? ok(value as number)
    : fail(where, value, `a whole number from ${min} to ${max}`);

/** An absolute path of `[A-Za-z0-9_./-]` without `..`: safe inside a BIRD string. */
export const checkPath = (value: unknown, where: string): Result<SafePath, AdapterError> =>
  isSafePath(value) ? ok(value) : fail(where, value, "an absolute path of [A-Za-z0-9_./-]");

/** A standard or large community, as BIRD's filter language writes it. */
export const checkCommunity = (value: unknown, where: string): Result<BgpCommunity, AdapterError> =>
  isBgpCommunity(value) ? ok(value) : fail(where, value, "a BGP community");

/** A boolean. */
export const checkBool = (value: unknown, where: string): Result<boolean, AdapterError> =>
  typeof value === "boolean" ? ok(value) : fail(where, value, "true or false");

/** All of a list of results, or the first Err. */
export const all = <T>(results: readonly Result<T, AdapterError>[]): Result<T[], AdapterError> => {
  const out: T[] = [];
  for (const r of results) {
    if (r.isErr()) return err(r.error);
    out.push(r.value);
  }
  return ok(out);
};

/** The community's text, for a comment. */
export const communityText = formatBgpCommunity;
