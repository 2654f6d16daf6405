import { err, ok, type Result } from "neverthrow";
import {
  isDns1123Label,
  isIdent,
  isInterfaceName,
  isSafePath,
  parseIp,
  type AdapterError,
  type Ident,
  type Ip,
  type LbNodeName,
  type Vrid,
} from "@portico/core";

// The planner already guarantees all of this. The renderer checks again because a Plan is a plain
// value anyone can build (or cast), and one stray newline or brace in keepalived.conf would let
// text from outside Portico become configuration.

const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** An Err of kind `render` from this adapter. */
export const renderError = (message: string): AdapterError => ({ kind: "render", adapter: "keepalived", message });

/** Untrusted text for an error message: quoted, escaped and capped, so it cannot forge log lines. */
export const quote = (value: unknown): string => {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
};

const fail = <T>(where: string, value: unknown, what: string): Result<T, AdapterError> =>
  err(renderError(`${where}: ${quote(value)} is not ${what}`));

/** A derived identifier: `[a-z0-9_-]`, 1-63 characters. */
export const checkIdent = (value: unknown, where: string): Result<Ident, AdapterError> =>
  isIdent(value) ? ok(value as Ident) : fail(where, value, "an identifier ([a-z0-9_-], at most 63)");

/** An IP address in canonical form (canonical text keeps the output byte-stable). */
export const checkIp = (value: unknown, where: string): Result<Ip, AdapterError> => {
  if (typeof value !== "string") return fail(where, value, "an IP address");
  const parsed = parseIp(value);
  return parsed.isOk() && parsed.value === value
    ? ok(parsed.value)
    : fail(where, value, "an IP address in canonical form");
};

/** A Linux interface name: 1-15 of `A-Z a-z 0-9 _ . -`, and not `.` or `..`. */
export const checkInterface = (value: unknown, where: string): Result<string, AdapterError> =>
  isInterfaceName(value) ? ok(value) : fail(where, value, "a Linux interface name (1-15 of A-Z a-z 0-9 _ . -)");

/** A VRRP virtual router id, 1-255. */
export const checkVrid = (value: unknown, where: string): Result<Vrid, AdapterError> =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 255
    ? ok(value as Vrid)
    : fail(where, value, "a VRID (1-255)");

/** An LB node name: a DNS-1123 label, as the config parser requires. */
export const checkNodeName = (value: unknown, where: string): Result<LbNodeName, AdapterError> =>
  isDns1123Label(value) ? ok(value as LbNodeName) : fail(where, value, "an LB node name (DNS-1123 label)");

/** A VRRP priority Portico may give: 1-254 (255 means "address owner" and cannot be tracked down). */
export const checkPriority = (value: unknown, where: string): Result<number, AdapterError> =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 254
    ? ok(value as number)
    : fail(where, value, "a VRRP priority (1-254)");

/** The VRRPv3 advert interval: centisecond steps from 10 ms to 40950 ms (a 12-bit field). */
export const checkAdvertIntMs = (value: unknown, where: string): Result<number, AdapterError> =>
  Number.isInteger(value) && (value as number) % 10 === 0 && (value as number) >= 10 && (value as number) <= 40_950
    ? ok(value as number)
    : fail(where, value, "an advert interval (a multiple of 10 ms from 10 to 40950)");

/** An absolute path of `[A-Za-z0-9_./-]` without `..`: safe inside a keepalived script line. */
export const checkPath = (value: unknown, where: string): Result<string, AdapterError> =>
  isSafePath(value) ? ok(value) : fail(where, value, "an absolute path of [A-Za-z0-9_./-]");

/** A non-root Unix user name for keepalived's `script_user`. */
export const checkUser = (value: unknown, where: string): Result<string, AdapterError> =>
  typeof value === "string" && USER.test(value) && value !== "root"
    ? ok(value)
    : fail(where, value, "a non-root user name");

/** A whole number within bounds (script interval, fall, rise). */
export const checkInt = (value: unknown, min: number, max: number, where: string): Result<number, AdapterError> =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max
    ? ok(value as number)
    : fail(where, value, `a whole number from ${min} to ${max}`);
