import { preview } from "../_preview.js";
import { parseHostPort } from "../hostPort.js";
import type { Ip } from "../ip.js";
import type { Millis, Port } from "../model.js";
import { parseSafePath } from "../safePath.js";
import type { HaproxyConfig } from "../settings.js";
import {
  checkKnown,
  defaulted,
  optional,
  parsed,
  readFields,
  wholeMillis,
  wholeNumber,
  type Bad,
  type ConfigField,
  type Section,
} from "./_field.js";

// POSIX portable user and group names, as useradd accepts them.
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** An absolute path that is safe in a config file, as a field's type and parser. */
export const safePath: Pick<ConfigField<string>, "type" | "parse"> = {
  type: "absolute path",
  parse: parsed(parseSafePath),
};

// A wildcard exporter bind would publish HAProxy's metrics on every VIP of the node.
const withAddress = (
  hp: { address: Ip; port: Port } | undefined,
  v: unknown,
  q: string,
  bad: Bad,
): { address: Ip; port: Port } | undefined =>
  hp === undefined
    ? bad(q, `"${preview(v)}" is not address:port (e.g. 127.0.0.1:8405)`)
    : hp.address === "0.0.0.0" || hp.address === "::"
      ? bad(q, `"${preview(v)}" listens on every address, every VIP included: name one address`)
      : hp;

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
  maxconn: defaulted<number>({
    ...wholeNumber(1, 10_000_000),
    default: 100_000,
    example: "200000",
    description:
      "HAProxy's global maxconn: the connections the LB node serves at once over every Service. Each takes two " +
      "file descriptors and, while data flows, about 32 kB of buffers (100000 active: about 3 GB); apply lowers " +
      "it to what the open-files hard limit lets HAProxy start with.",
  }),
  hardStopAfterMs: defaulted<Millis>({
    ...wholeMillis(1_000, 86_400_000),
    default: 1_800_000 as Millis,
    example: "3600000",
    description:
      "How long the workers an HAProxy reload replaces may keep serving their open connections. A reload is when " +
      "every open connection starts this countdown; make it at least the longest tunnel timeout you need kept.",
  }),
  maxReloads: defaulted<number>({
    ...wholeNumber(1, 10_000),
    default: 50,
    example: "50",
    description:
      "mworker-max-reloads: a replaced worker still serving connections is stopped once this many later reloads " +
      "happened, which bounds the workers left running.",
  }),
  reloadIntervalMs: defaulted<Millis>({
    ...wholeMillis(0, 600_000),
    default: 5_000 as Millis,
    example: "10000",
    description:
      "portico run reloads HAProxy at most once per this interval; changes that need a reload meanwhile are " +
      "applied together by the next one. A plan the runtime API can apply alone (servers, weights) is never delayed.",
  }),
  user: defaulted<string>({
    type: "Unix user name, or root",
    default: "haproxy",
    example: "haproxy",
    description: "The user HAProxy's workers run as (the master stays root to bind and reload); root: no user line.",
    parse: (v, q, bad) => (typeof v === "string" && USER.test(v) ? v : bad(q, `"${preview(v)}" is not a user name`)),
  }),
  group: defaulted<string>({
    type: "Unix group name, or root",
    default: "haproxy",
    example: "haproxy",
    description: "The group HAProxy's workers run as; root: no group line.",
    parse: (v, q, bad) => (typeof v === "string" && USER.test(v) ? v : bad(q, `"${preview(v)}" is not a group name`)),
  }),
  chroot: defaulted<string>({
    type: "absolute path, or none",
    default: "/var/lib/haproxy",
    example: "/var/lib/haproxy",
    description:
      "The directory HAProxy's workers are locked into (Debian's rsyslog listens on its dev/log); none: no chroot.",
    parse: (v, q, bad) => (v === "none" ? v : parsed(parseSafePath)(v, q, bad)),
  }),
  logTarget: defaulted<string>({
    ...safePath,
    default: "/dev/log",
    example: "/dev/log",
    description:
      "The syslog socket HAProxy logs to (facility local0, info with emerg capped to notice). Inside the chroot, " +
      "/dev/log is rsyslog's own socket, which Debian routes to /var/log/haproxy.log.",
  }),
  prometheus: optional<{ address: Ip; port: Port }>({
    type: "address:port",
    defaultText: "absent (no exporter)",
    example: "127.0.0.1:8405",
    description:
      "Serve HAProxy's own Prometheus metrics at GET /metrics on this address (keep it local or firewalled).",
    parse: (v, q, bad) => withAddress(typeof v === "string" ? parseHostPort(v) : undefined, v, q, bad),
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
