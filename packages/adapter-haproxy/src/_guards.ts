import { err, ok, type Result } from "neverthrow";
import {
  isIdent,
  isSafePath,
  parseCidr,
  parseIp,
  parsePort,
  type Cidr,
  type Ident,
  type Ip,
  type Port,
} from "@portico/core";

// The planner already guarantees all of this; the renderer guards again because a Plan can be
// built by hand (it is a public type), and a stray newline or '#' in haproxy.cfg would inject
// configuration. Each check returns the value to print, so nothing unchecked reaches the file.

/** A printable, bounded rendering of untrusted input for error messages (never for the file). */
export const show = (value: unknown): string => {
  const s = typeof value === "string" ? value : String(value);
  const cut = s.length > 64 ? `${s.slice(0, 64)}…` : s;
  return JSON.stringify(cut);
};

/** A Service key as is when it looks like one, quoted and escaped otherwise. */
export const showKey = (key: string): string =>
  /^[a-z0-9][a-z0-9.-]{0,252}\/[a-z0-9][a-z0-9.-]{0,252}$/.test(key) ? key : show(key);

/** A derived identifier: `[a-z0-9_-]`, 1-63 characters. */
export const guardIdent = (value: unknown): Result<Ident, string> =>
  isIdent(value) ? ok(value as Ident) : err(`${show(value)} is not a derived identifier ([a-z0-9_-], 1-63 characters)`);

/** An IP address, returned in canonical form (the parsed value, not the input, is printed). */
export const guardIp = (value: unknown): Result<Ip, string> =>
  typeof value === "string" ? parseIp(value) : err(`${show(value)} is not an IP address`);

/** A port, 1-65535. */
export const guardPort = (value: unknown): Result<Port, string> => parsePort(value);

/** A whole number within bounds. */
export const guardInt = (value: unknown, min: number, max: number): Result<number, string> =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
    ? ok(value)
    : err(`${show(value)} is not a whole number from ${min} to ${max}`);

/** An absolute path that needs no quoting in haproxy.cfg. */
export const guardPath = (value: unknown): Result<string, string> =>
  isSafePath(value) ? ok(value) : err(`${show(value)} is not an absolute path of [A-Za-z0-9_./-]`);

/** One of a closed set of keywords. */
export const guardOneOf = <T extends string>(value: unknown, allowed: readonly T[]): Result<T, string> =>
  allowed.includes(value as T) ? ok(value as T) : err(`${show(value)} is not one of ${allowed.join(", ")}`);

/** A CIDR, returned in canonical form; host bits must already be zero (the planner masks them). */
export const guardCidr = (value: unknown): Result<Cidr, string> =>
  typeof value === "string" ? parseCidr(value) : err(`${show(value)} is not a CIDR`);

/** A Unix user or group name as useradd accepts it. */
export const guardName = (value: unknown): Result<string, string> =>
  typeof value === "string" && /^[a-z_][a-z0-9_-]{0,31}$/.test(value)
    ? ok(value)
    : err(`${show(value)} is not a user or group name ([a-z_][a-z0-9_-], at most 32)`);
