import { preview } from "../_preview.js";
import { parseHostPort } from "../hostPort.js";
import type { Ip } from "../ip.js";
import type { Port } from "../model.js";
import { parseSafePath } from "../safePath.js";
import type { HaproxyConfig } from "../settings.js";
import {
  checkKnown,
  defaulted,
  optional,
  parsed,
  readFields,
  wholeNumber,
  type Bad,
  type ConfigField,
  type Section,
} from "./_field.js";

/** An absolute path that is safe in a config file, as a field's type and parser. */
export const safePath: Pick<ConfigField<string>, "type" | "parse"> = {
  type: "absolute path",
  parse: parsed(parseSafePath),
};

/** The fields of `haproxy`. */
export const HAPROXY_FIELDS = {
  configPath: defaulted<string>({
    ...safePath,
    default: "/etc/haproxy/haproxy.cfg",
    example: "/etc/haproxy/haproxy.cfg",
    description: "Where haproxy.cfg is written.",
  }),
  statsSocket: defaulted<string>({
    ...safePath,
    default: "/run/haproxy/admin.sock",
    example: "/run/haproxy/admin.sock",
    description: "HAProxy's runtime API socket.",
  }),
  masterSocket: defaulted<string>({
    ...safePath,
    // Debian's haproxy.service starts haproxy with `-S /run/haproxy-master.sock`.
    default: "/run/haproxy-master.sock",
    example: "/run/haproxy/master.sock",
    description: "HAProxy's master CLI socket (reloads).",
  }),
  frontendMaxconn: defaulted<number>({
    ...wholeNumber(1, 10_000_000),
    default: 20_000,
    example: "50000",
    description:
      "maxconn of every frontend (one Service port): a flood on one Service cannot take every connection " +
      "of the node. HAProxy's global limit (from the open-files limit) still applies.",
  }),
  peersPort: defaulted<number>({
    ...wholeNumber(1, 65_535),
    default: 10_000,
    example: "10000",
    description:
      "Loopback TCP port of HAProxy's local peer (127.0.0.1), rendered only when a Service uses sessionAffinity: ClientIP: " +
      "a reload hands the stick tables from the old worker to the new one through it.",
  }),
  threads: optional<number>({
    ...wholeNumber(1, 256),
    defaultText: "absent (one thread per CPU)",
    example: "4",
    description: "HAProxy's nbthread; absent, HAProxy runs one thread per CPU it may use.",
  }),
  prometheus: optional<{ address: Ip; port: Port }>({
    type: "address:port",
    defaultText: "absent (no exporter)",
    example: "127.0.0.1:8405",
    description:
      "Serve HAProxy's own Prometheus metrics at GET /metrics on this address (keep it local or firewalled).",
    parse: (v, q, bad) =>
      (typeof v === "string" ? parseHostPort(v) : undefined) ??
      bad(q, `"${preview(v)}" is not address:port (e.g. 127.0.0.1:8405)`),
  }),
};

/** The `haproxy` section. */
export const HAPROXY_SECTION: Section = {
  type: "mapping",
  defaultText: "{}",
  example: "{}",
  description: "HAProxy's files and sockets on an LB node (Debian defaults).",
  fields: HAPROXY_FIELDS,
};

/** Parse the `haproxy` mapping; a field left undefined had a problem (or, if optional, was absent). */
export const parseHaproxy = (
  s: Readonly<Record<string, unknown>>,
  p: string,
  bad: Bad,
): { -readonly [K in keyof HaproxyConfig]-?: HaproxyConfig[K] | undefined } => {
  const v = readFields(HAPROXY_FIELDS, s, p, bad);
  checkKnown(s, Object.keys(HAPROXY_FIELDS), p, bad);
  return v;
};
