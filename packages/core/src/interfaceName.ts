import { err, ok, type Result } from "neverthrow";
import { preview } from "./_preview.js";

declare const brand: unique symbol;

/**
 * InterfaceName: a Linux network interface name Portico will write into a config file or a sysfs
 * path: 1-15 of `[A-Za-z0-9_.-]`, not `.` or `..`.
 */
export type InterfaceName = string & { readonly [brand]: "InterfaceName" };

// The kernel (dev_valid_name) takes 1-15 bytes other than '/', ':' and whitespace, and not "." or "..";
// this is the part of that set that is safe unquoted in haproxy.cfg and keepalived.conf.
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** isInterfaceName: whether a value is an {@link InterfaceName}. */
export const isInterfaceName = (value: unknown): value is InterfaceName =>
  typeof value === "string" && INTERFACE_NAME.test(value) && value !== "." && value !== "..";

/** parseInterfaceName: the only way to get an {@link InterfaceName}, so no other string reaches a path. */
export const parseInterfaceName = (value: unknown): Result<InterfaceName, string> =>
  isInterfaceName(value)
    ? ok(value)
    : err(`"${preview(value)}" is not a Linux interface name (1-15 of A-Z a-z 0-9 _ . -)`);
