import { isRecord } from "../_json.js";
import { preview } from "../_preview.js";
import { parseHostPort } from "../hostPort.js";
import type { Ip } from "../ip.js";
import { isDns1123Label, type Millis, type Port } from "../model.js";
import type { ControllerConfig } from "../settings.js";
import { checkKnown, defaulted, readField, wholeMillis, type Bad, type ConfigField, type Section } from "./_field.js";

const label: Pick<ConfigField<string>, "type" | "parse"> = {
  type: "DNS-1123 label",
  parse: (v, q, bad) => (isDns1123Label(v) ? v : bad(q, `"${preview(v)}" is not a DNS-1123 label`)),
};
const leaseMillis = wholeMillis(100, 3_600_000);

/** The fields of `controller.lease`. */
export const LEASE_FIELDS = {
  namespace: defaulted<string>({
    ...label,
    default: "portico-system",
    example: "portico-system",
    description: "The Lease's namespace.",
  }),
  name: defaulted<string>({
    ...label,
    default: "portico-status",
    example: "portico-status",
    description: "The Lease's name.",
  }),
  durationMs: defaulted<Millis>({
    ...leaseMillis,
    default: 15_000 as Millis,
    example: "15000",
    description: "How long a Lease holds without renewal before another LB node may take it.",
  }),
  renewDeadlineMs: defaulted<Millis>({
    ...leaseMillis,
    default: 10_000 as Millis,
    example: "10000",
    description: "The holder gives up when it could not renew for this long; below durationMs.",
  }),
  retryPeriodMs: defaulted<Millis>({
    ...leaseMillis,
    default: 2_000 as Millis,
    example: "2000",
    description: "Time between attempts to take or renew the Lease; below renewDeadlineMs.",
  }),
};

/** The fields of `controller.coalesce`. */
export const COALESCE_FIELDS = {
  quietMs: defaulted<Millis>({
    ...wholeMillis(0, 60_000),
    default: 100 as Millis,
    example: "100",
    description: "Plan after this long without events; a change after quietMs without events waits only 10 ms.",
  }),
  maxDelayMs: defaulted<Millis>({
    ...wholeMillis(1, 600_000),
    default: 1_000 as Millis,
    example: "1000",
    description: "Plan at most this long after the first event of a burst; at least quietMs.",
  }),
};

/** The default of `controller.listen`, as a config spells it. */
export const LISTEN_DEFAULT = "127.0.0.1:9750";

/** The fields of `controller`. */
export const CONTROLLER_FIELDS = {
  lease: {
    type: "mapping",
    defaultText: "{}",
    example: "{name: portico-status}",
    description: "The coordination.k8s.io/v1 Lease that elects the one LB node writing Service status.",
    fields: LEASE_FIELDS,
  } satisfies Section,
  coalesce: {
    type: "mapping",
    defaultText: "{}",
    example: "{quietMs: 100, maxDelayMs: 1000}",
    description: "Bursts of events make one plan: after quietMs without events, at most maxDelayMs after the first.",
    fields: COALESCE_FIELDS,
  } satisfies Section,
  listen: defaulted<{ address: Ip; port: Port }>({
    type: "address:port",
    default: parseHostPort(LISTEN_DEFAULT)!,
    defaultText: LISTEN_DEFAULT,
    example: "127.0.0.1:9750",
    description: "Where /metrics, /healthz and /readyz listen; keep it local or firewalled.",
    parse: (v, q, bad) =>
      typeof v !== "string"
        ? bad(q, "must be address:port")
        : (parseHostPort(v) ?? bad(q, `"${preview(v)}" is not address:port (e.g. 127.0.0.1:9750 or [::1]:9750)`)),
  }),
};

/** The `controller` section. */
export const CONTROLLER_SECTION: Section = {
  type: "mapping",
  defaultText: "{}",
  example: "{}",
  description: "How portico run watches the cluster, elects the status writer and reports itself.",
  fields: CONTROLLER_FIELDS,
};

const mapping = (s: Readonly<Record<string, unknown>>, key: string, p: string, bad: Bad): Record<string, unknown> => {
  const raw = s[key] ?? {};
  return isRecord(raw) ? raw : (bad(`${p}.${key}`, "must be a mapping") ?? {});
};

/** Parse the `controller` mapping; undefined when any of it had a problem, recorded through `bad`. */
export const parseController = (
  s: Readonly<Record<string, unknown>>,
  p: string,
  bad: Bad,
): ControllerConfig | undefined => {
  checkKnown(s, Object.keys(CONTROLLER_FIELDS), p, bad);
  const lp = `${p}.lease`;
  const lease = mapping(s, "lease", p, bad);
  checkKnown(lease, Object.keys(LEASE_FIELDS), lp, bad);
  const L = LEASE_FIELDS;
  const namespace = readField(L.namespace, lease, "namespace", lp, bad);
  const name = readField(L.name, lease, "name", lp, bad);
  const durationMs = readField(L.durationMs, lease, "durationMs", lp, bad);
  const renewDeadlineMs = readField(L.renewDeadlineMs, lease, "renewDeadlineMs", lp, bad);
  const retryPeriodMs = readField(L.retryPeriodMs, lease, "retryPeriodMs", lp, bad);
  // client-go's rule: the leader must give up before anyone else may take over.
  if (durationMs !== undefined && renewDeadlineMs !== undefined && renewDeadlineMs >= durationMs)
    bad(`${lp}.renewDeadlineMs`, `must be below durationMs (${durationMs})`);
  if (renewDeadlineMs !== undefined && retryPeriodMs !== undefined && retryPeriodMs >= renewDeadlineMs)
    bad(`${lp}.retryPeriodMs`, `must be below renewDeadlineMs (${renewDeadlineMs})`);

  const cp = `${p}.coalesce`;
  const coalesce = mapping(s, "coalesce", p, bad);
  checkKnown(coalesce, Object.keys(COALESCE_FIELDS), cp, bad);
  const quietMs = readField(COALESCE_FIELDS.quietMs, coalesce, "quietMs", cp, bad);
  const maxDelayMs = readField(COALESCE_FIELDS.maxDelayMs, coalesce, "maxDelayMs", cp, bad);
  if (quietMs !== undefined && maxDelayMs !== undefined && quietMs > maxDelayMs)
    bad(`${cp}.quietMs`, `must not exceed maxDelayMs (${maxDelayMs})`);

  const listen = readField(CONTROLLER_FIELDS.listen, s, "listen", p, bad);
  if (
    namespace === undefined ||
    name === undefined ||
    durationMs === undefined ||
    renewDeadlineMs === undefined ||
    retryPeriodMs === undefined ||
    quietMs === undefined ||
    maxDelayMs === undefined ||
    listen === undefined
  )
    return undefined;
  return {
    lease: { namespace, name, durationMs, renewDeadlineMs, retryPeriodMs },
    coalesce: { quietMs, maxDelayMs },
    listen,
  };
};
