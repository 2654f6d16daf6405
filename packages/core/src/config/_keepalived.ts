import { preview } from "../_preview.js";
import type { KeepalivedConfig } from "../settings.js";
import { boolean, checkKnown, defaulted, readFields, type Bad, type Section } from "./_field.js";
import { safePath } from "./_haproxy.js";

// A Unix user name keepalived can look up (useradd's default rule).
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** The fields of `keepalived`. */
export const KEEPALIVED_FIELDS = {
  configPath: defaulted<string>({
    ...safePath,
    default: "/etc/keepalived/keepalived.conf",
    example: "/etc/keepalived/keepalived.conf",
    description: "Where keepalived.conf is written.",
  }),
  pidFile: defaulted<string>({
    ...safePath,
    default: "/run/keepalived.pid",
    example: "/run/keepalived.pid",
    description: "keepalived's pid file: apply sends SIGHUP to this process.",
  }),
  scriptUser: defaulted<string>({
    type: "Unix user name",
    default: "nobody",
    example: "nobody",
    description: "The non-root user keepalived runs the HAProxy check as.",
    parse: (v, q, bad) =>
      typeof v === "string" && USER.test(v) && v !== "root"
        ? v
        : bad(q, `"${preview(v)}" is not a non-root user name ([a-z_][a-z0-9_-], at most 32)`),
  }),
  apply: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "false",
    description:
      "Whether portico apply and portico run install keepalived.conf and reload (or start) keepalived; " +
      "false when keepalived is managed otherwise.",
  }),
};

/** The `keepalived` section. */
export const KEEPALIVED_SECTION: Section = {
  type: "mapping",
  defaultText: "{}",
  example: "{}",
  description: "keepalived's files on an LB node (Debian defaults).",
  fields: KEEPALIVED_FIELDS,
};

/** Parse the `keepalived` mapping; a field left undefined had a problem, recorded through `bad`. */
export const parseKeepalived = (
  s: Readonly<Record<string, unknown>>,
  p: string,
  bad: Bad,
): { -readonly [K in keyof KeepalivedConfig]-?: KeepalivedConfig[K] | undefined } => {
  const v = readFields(KEEPALIVED_FIELDS, s, p, bad);
  checkKnown(s, Object.keys(KEEPALIVED_FIELDS), p, bad);
  return v;
};
