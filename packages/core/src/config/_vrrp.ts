import { isRecord } from "../_json.js";
import { preview } from "../_preview.js";
import { parseVrid, type Millis, type Vrid } from "../model.js";
import { parseSafePath } from "../safePath.js";
import type { HaproxyCheck, VrrpConfig } from "../settings.js";
import {
  boolean,
  checkKnown,
  defaulted,
  parsed,
  readField,
  wholeNumber,
  type Bad,
  type ConfigField,
  type Section,
} from "./_field.js";

/** The fields of a `script` HAProxy check (`vrrp.haproxyCheck`). */
export const HAPROXY_CHECK_SCRIPT_FIELDS = {
  pidFile: defaulted<string>({
    type: "absolute path",
    default: "/run/haproxy.pid",
    example: "/run/haproxy.pid",
    description: "HAProxy's pid file, read by pgrep.",
    parse: parsed(parseSafePath),
  }),
  // keepalived takes whole seconds for a vrrp_script interval.
  intervalS: defaulted<number>({
    ...wholeNumber(1, 60),
    default: 1,
    example: "1",
    description: "Seconds between checks.",
  }),
  fall: defaulted<number>({ ...wholeNumber(1, 10), default: 2, example: "2", description: "Failed checks to FAULT." }),
  rise: defaulted<number>({ ...wholeNumber(1, 10), default: 2, example: "2", description: "Good checks to recover." }),
};

/** The fields of a `stats` HAProxy check: a worker must answer on the stats socket. */
export const HAPROXY_CHECK_STATS_FIELDS = {
  socket: defaulted<string>({
    type: "absolute path",
    default: "/run/haproxy/admin.sock",
    example: "/run/haproxy/admin.sock",
    description: "HAProxy's stats socket (haproxy.statsSocket), asked for show info.",
    parse: parsed(parseSafePath),
  }),
  program: defaulted<string>({
    type: "absolute path",
    default: "/usr/lib/portico/haproxy-check",
    example: "/usr/lib/portico/haproxy-check",
    description: "The check program the Debian package installs (root-owned, run as root).",
    parse: parsed(parseSafePath),
  }),
  intervalS: HAPROXY_CHECK_SCRIPT_FIELDS.intervalS,
  fall: HAPROXY_CHECK_SCRIPT_FIELDS.fall,
  rise: HAPROXY_CHECK_SCRIPT_FIELDS.rise,
};

const SCRIPT = HAPROXY_CHECK_SCRIPT_FIELDS;
const STATS = HAPROXY_CHECK_STATS_FIELDS;
const SCRIPT_DEFAULT = {
  kind: "script",
  pidFile: SCRIPT.pidFile.default,
  intervalS: SCRIPT.intervalS.default,
  fall: SCRIPT.fall.default,
  rise: SCRIPT.rise.default,
} as const satisfies HaproxyCheck;

const parseHaproxyCheck = (v: unknown, p: string, bad: Bad): HaproxyCheck | undefined => {
  if (!isRecord(v)) return bad(p, "must be a mapping with kind script or process");
  if (v["kind"] === "process") {
    checkKnown(v, ["kind"], p, bad);
    return { kind: "process" };
  }
  if (v["kind"] === "stats") {
    checkKnown(v, ["kind", ...Object.keys(STATS)], p, bad);
    const socket = readField(STATS.socket, v, "socket", p, bad);
    const program = readField(STATS.program, v, "program", p, bad);
    const intervalS = readField(STATS.intervalS, v, "intervalS", p, bad);
    const fall = readField(STATS.fall, v, "fall", p, bad);
    const rise = readField(STATS.rise, v, "rise", p, bad);
    return socket === undefined ||
      program === undefined ||
      intervalS === undefined ||
      fall === undefined ||
      rise === undefined
      ? undefined
      : { kind: "stats", socket, program, intervalS, fall, rise };
  }
  if (v["kind"] !== "script" && v["kind"] !== undefined)
    return bad(`${p}.kind`, `"${preview(v["kind"])}" is not one of script, process, stats`);
  checkKnown(v, ["kind", ...Object.keys(SCRIPT)], p, bad);
  const pidFile = readField(SCRIPT.pidFile, v, "pidFile", p, bad);
  const intervalS = readField(SCRIPT.intervalS, v, "intervalS", p, bad);
  const fall = readField(SCRIPT.fall, v, "fall", p, bad);
  const rise = readField(SCRIPT.rise, v, "rise", p, bad);
  return pidFile === undefined || intervalS === undefined || fall === undefined || rise === undefined
    ? undefined
    : { kind: "script", pidFile, intervalS, fall, rise };
};

const vrid: Pick<ConfigField<Vrid>, "type" | "parse"> = { type: "VRID 1-255", parse: parsed(parseVrid) };

/** The fields of `vrrp`. */
export const VRRP_FIELDS = {
  vridFirst: defaulted<Vrid>({
    ...vrid,
    default: 1 as Vrid,
    example: "1",
    description: "First VRRP router id Portico may use.",
  }),
  vridLast: defaulted<Vrid>({
    ...vrid,
    default: 255 as Vrid,
    example: "255",
    description: "Last VRRP router id Portico may use.",
  }),
  advertIntMs: defaulted<Millis>({
    type: "multiple of 10, 10-40950",
    default: 100 as Millis,
    example: "100",
    description: "VRRPv3 advertisement interval; failover takes about three of these.",
    // keepalived takes advert_int in centiseconds at the finest (VRRPv3).
    parse: (v, q, bad) =>
      typeof v === "number" && Number.isInteger(v) && v % 10 === 0 && v >= 10 && v <= 40_950
        ? (v as Millis)
        : bad(q, "must be a multiple of 10 between 10 and 40950 (milliseconds)"),
  }),
  preempt: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "false",
    description: "false renders nopreempt: a returning higher-priority node does not take its VIPs back.",
  }),
  preemptDelayS: defaulted<number>({
    // keepalived takes preempt_delay from 0 to 1000 s.
    ...wholeNumber(0, 1000),
    // Not on by default: keepalived 2.2.7 also waits this long after a reload, and a master whose
    // instance a reload changed hands its VIPs to a backup meanwhile (seen in the lab).
    default: 0,
    example: "30",
    description:
      "With preempt: seconds a returning higher-priority node waits before taking its VIPs back (its checks settle first). " +
      "Also delays the first master after a start, and a reload that changes an instance moves its VIPs to a backup meanwhile.",
  }),
  peersOnLink: defaulted<boolean>({
    ...boolean,
    default: true,
    example: "false",
    description:
      "true: LB nodes share one link, so a VRRP advert must arrive with TTL 255 (min_ttl 255, as RFC 5798 asks); " +
      "false for peers reached through routers (source address checked only).",
  }),
  haproxyCheck: defaulted<HaproxyCheck>({
    type: `{kind: script, ${Object.keys(SCRIPT).join(", ")}} | {kind: process} | {kind: stats, ${Object.keys(STATS).join(", ")}}`,
    default: SCRIPT_DEFAULT,
    defaultText: `{${Object.entries(SCRIPT_DEFAULT)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ")}}`,
    example: "{kind: process}",
    description:
      "How keepalived knows HAProxy is alive (FAULT without it, never a weighted tracker): " +
      "a pgrep script as keepalived.scriptUser, vrrp_track_process (host namespaces only), " +
      "or stats: a worker must answer show info on the stats socket (a wedged worker fails it).",
    parse: parseHaproxyCheck,
  }),
};

/** The `vrrp` section. */
export const VRRP_SECTION: Section = {
  type: "mapping",
  defaultText: "{}",
  example: "{}",
  description: "VRRP router ids and timing.",
  fields: VRRP_FIELDS,
};

/** Parse the `vrrp` mapping; a field left undefined had a problem, recorded through `bad`. */
export const parseVrrp = (
  s: Readonly<Record<string, unknown>>,
  p: string,
  bad: Bad,
): { -readonly [K in keyof VrrpConfig]-?: VrrpConfig[K] | undefined } => {
  const F = VRRP_FIELDS;
  const vridFirst = readField(F.vridFirst, s, "vridFirst", p, bad);
  const vridLast = readField(F.vridLast, s, "vridLast", p, bad);
  if (vridFirst !== undefined && vridLast !== undefined && vridFirst > vridLast)
    bad(`${p}.vridLast`, `must not be below vridFirst (${vridFirst})`);
  const advertIntMs = readField(F.advertIntMs, s, "advertIntMs", p, bad);
  const preempt = readField(F.preempt, s, "preempt", p, bad);
  const haproxyCheck = readField(F.haproxyCheck, s, "haproxyCheck", p, bad);
  const preemptDelayS = readField(F.preemptDelayS, s, "preemptDelayS", p, bad);
  const peersOnLink = readField(F.peersOnLink, s, "peersOnLink", p, bad);
  checkKnown(s, Object.keys(F), p, bad);
  return { vridFirst, vridLast, advertIntMs, preempt, haproxyCheck, preemptDelayS, peersOnLink };
};
