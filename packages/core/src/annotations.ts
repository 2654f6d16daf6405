import { err, ok, type Result } from "neverthrow";
import { formatMillis, parseDuration } from "./duration.js";
import { preview } from "./_preview.js";
import { ipFamily, parseIp, type Ip } from "./ip.js";
import { formatSelector, parseSelectorString, type LabelSelector } from "./labels.js";
import { isDns1123Label, type Millis } from "./model.js";
import {
  BALANCES,
  DATA_PLANES,
  PROXY_PROTOCOLS,
  type Balance,
  type DataPlane,
  type ProxyProtocol,
} from "./vocabulary.js";

/** The prefix of every Portico annotation. */
export const ANNOTATION_PREFIX = "portico.dev/";

/** How servers of a backend are weighted: all alike, or by the node's count of ready local endpoints. */
export type Weighting = "equal" | "pods-per-node";

/**
 * One per-Service option: its annotation key, a closed parser, and the facts the reference docs
 * print. Values are parsed into closed types before anything else sees them.
 */
export interface AnnotationSpec<T> {
  /** The full key, `portico.dev/...`. */
  readonly key: string;
  /** The accepted values as people read them. */
  readonly type: string;
  /** What applies when the annotation is absent (and the config sets no default). */
  readonly default: T;
  /** The default as the docs and messages print it. */
  readonly defaultText: string;
  readonly example: string;
  readonly description: string;
  /** Whether `serviceDefaults` in the config may set a cluster-wide default for this option. */
  readonly configDefault: boolean;
  /**
   * What a bad value does: `default` warns and uses the default; `error` is an error on the
   * Service (for address requests: falling back would hand out a silently different address).
   */
  readonly onInvalid: "default" | "error";
  readonly parse: (raw: string) => Result<T, string>;
}

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: string): Result<T, string> =>
    (values as readonly string[]).includes(raw)
      ? ok(raw as T)
      : err(`"${preview(raw)}" is not one of ${values.join(", ")}`);

const intIn =
  (min: number, max: number) =>
  (raw: string): Result<number, string> =>
    /^[0-9]{1,6}$/.test(raw) && Number(raw) >= min && Number(raw) <= max
      ? ok(Number(raw))
      : err(`"${preview(raw)}" is not a whole number from ${min} to ${max}`);

const duration =
  (min: number, max: number) =>
  (raw: string): Result<Millis | undefined, string> =>
    parseDuration(raw, min, max);

const SHARING_KEY = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DAY = 86_400_000;

const parseIps = (raw: string): Result<readonly Ip[], string> => {
  const out: Ip[] = [];
  for (const part of raw.split(",")) {
    const ip = parseIp(part.trim());
    if (ip.isErr()) return err(`${ip.error} (accepted: one IPv4 and/or one IPv6 address, comma-separated)`);
    if (out.some((x) => ipFamily(x) === ipFamily(ip.value)))
      return err(`"${preview(raw)}" has more than one IPv${ipFamily(ip.value)} address (one per family)`);
    out.push(ip.value);
  }
  return ok(out);
};

const timeoutSpec = (name: string, what: string, example: string): AnnotationSpec<Millis | undefined> => ({
  key: `${ANNOTATION_PREFIX}timeout-${name}`,
  type: "duration (1ms-24h), e.g. 500ms, 5s, 2m, 1h",
  default: undefined,
  defaultText: "HAProxy defaults section",
  example,
  description: what,
  configDefault: true,
  onInvalid: "default",
  parse: duration(1, DAY),
});

/** The per-Service options Portico understands, by option name. */
export const ANNOTATIONS = {
  proxyProtocol: {
    key: `${ANNOTATION_PREFIX}proxy-protocol`,
    type: PROXY_PROTOCOLS.join(" | "),
    default: "none",
    defaultText: "none",
    example: "v2",
    description:
      "Send the PROXY protocol header to the backends so they see the client's address. The Service's pods must " +
      "expect it; status then reports ipMode: Proxy.",
    configDefault: true,
    onInvalid: "default",
    parse: oneOf<ProxyProtocol>(PROXY_PROTOCOLS),
  },
  balance: {
    key: `${ANNOTATION_PREFIX}balance`,
    type: BALANCES.join(" | "),
    default: "roundrobin",
    defaultText: "roundrobin",
    example: "leastconn",
    description:
      "HAProxy's balance algorithm for the Service's backends; `source` uses consistent hashing so servers can " +
      "change at run time.",
    configDefault: true,
    onInvalid: "default",
    parse: oneOf<Balance>(BALANCES),
  },
  timeoutConnect: timeoutSpec(
    "connect",
    "How long HAProxy waits for a TCP connection to a node to be established.",
    "3s",
  ),
  timeoutClient: timeoutSpec(
    "client",
    "Deprecated: in TCP mode `timeout tunnel` supersedes it once the node is connected. Its value is taken as " +
      "portico.dev/timeout-tunnel (unless that is set), with a warning.",
    "1m",
  ),
  timeoutServer: timeoutSpec(
    "server",
    "Deprecated: in TCP mode `timeout tunnel` supersedes it once the node is connected. Its value is taken as " +
      "portico.dev/timeout-tunnel (unless that is set), with a warning.",
    "1m",
  ),
  timeoutTunnel: timeoutSpec("tunnel", "Idle timeout once both sides talk (long-lived TCP such as WebSockets).", "1h"),
  healthCheckInterval: {
    key: `${ANNOTATION_PREFIX}health-check-interval`,
    type: "duration (100ms-1h)",
    default: undefined,
    defaultText: "config healthCheck.intervalMs",
    example: "5s",
    description:
      "Time between health checks of each server. Applies to externalTrafficPolicy: Local (the Service's own " +
      "healthCheckNodePort); Cluster-policy checks are shared by all Services and use the config.",
    configDefault: false,
    onInvalid: "default",
    parse: duration(100, 3_600_000),
  } satisfies AnnotationSpec<Millis | undefined>,
  healthCheckRise: {
    key: `${ANNOTATION_PREFIX}health-check-rise`,
    type: "whole number 1-100",
    default: undefined,
    defaultText: "config healthCheck.rise",
    example: "2",
    description:
      "Consecutive good checks before a server takes traffic again (Local policy; see health-check-interval).",
    configDefault: false,
    onInvalid: "default",
    parse: intIn(1, 100),
  } satisfies AnnotationSpec<number | undefined>,
  healthCheckFall: {
    key: `${ANNOTATION_PREFIX}health-check-fall`,
    type: "whole number 1-100",
    default: undefined,
    defaultText: "config healthCheck.fall",
    example: "3",
    description: "Consecutive failed checks before a server is taken out (Local policy; see health-check-interval).",
    configDefault: false,
    onInvalid: "default",
    parse: intIn(1, 100),
  } satisfies AnnotationSpec<number | undefined>,
  weighting: {
    key: `${ANNOTATION_PREFIX}weighting`,
    type: "equal | pods-per-node",
    default: "equal",
    defaultText: "equal",
    example: "pods-per-node",
    description:
      "With externalTrafficPolicy: Local, pods-per-node weighs each node by its ready, non-terminating endpoints " +
      "from the EndpointSlices (0 drains it), so every pod gets an equal share. Ignored for Cluster policy, where " +
      "kube-proxy already spreads over every pod.",
    configDefault: true,
    onInvalid: "default",
    parse: oneOf<Weighting>(["equal", "pods-per-node"]),
  },
  pool: {
    key: `${ANNOTATION_PREFIX}pool`,
    type: "pool name (DNS-1123 label)",
    default: undefined,
    defaultText: "any pool that allows the Service, in config order",
    example: "public",
    description:
      "Take the address from this pool only (also pools with autoAssign: false). A pool that does not exist or does " +
      "not allow the Service is an error.",
    configDefault: true,
    onInvalid: "error",
    parse: (raw: string): Result<string | undefined, string> =>
      isDns1123Label(raw) ? ok(raw) : err(`"${preview(raw)}" is not a pool name (a DNS-1123 label)`),
  } satisfies AnnotationSpec<string | undefined>,
  nodeSelector: {
    key: `${ANNOTATION_PREFIX}node-selector`,
    type: "label selector (key=value, key!=value, key in (a,b), key notin (a,b), key, !key)",
    default: undefined,
    defaultText: "every eligible node",
    example: "node-role.kubernetes.io/ingress=true",
    description: "Only nodes whose labels match are backends of the Service, e.g. dedicated ingress nodes.",
    configDefault: true,
    onInvalid: "default",
    parse: (raw: string): Result<LabelSelector | undefined, string> => parseSelectorString(raw),
  } satisfies AnnotationSpec<LabelSelector | undefined>,
  loadBalancerIps: {
    key: `${ANNOTATION_PREFIX}load-balancer-ips`,
    type: "comma-separated IPs, at most one per family",
    default: [],
    defaultText: "none (an address is allocated)",
    example: "198.18.100.20,2001:db8:100::20",
    description:
      "Ask for these addresses (wins over the deprecated spec.loadBalancerIP). An address outside the Service's " +
      "pools or held by another Service is an error condition, never a silent different address.",
    configDefault: false,
    onInvalid: "error",
    parse: parseIps,
  } satisfies AnnotationSpec<readonly Ip[]>,
  allowSharedIp: {
    key: `${ANNOTATION_PREFIX}allow-shared-ip`,
    type: "sharing key ([A-Za-z0-9-_.], 1-63 characters)",
    default: undefined,
    defaultText: "none (the address is not shared)",
    example: "dns",
    description:
      "Services with the same key may share an address when their (port, protocol) sets do not overlap; each port " +
      "has its own backend, so policies and selectors may differ.",
    configDefault: false,
    onInvalid: "default",
    parse: (raw: string): Result<string | undefined, string> =>
      SHARING_KEY.test(raw)
        ? ok(raw)
        : err(`"${preview(raw)}" is not a sharing key (1-63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric)`),
  } satisfies AnnotationSpec<string | undefined>,
  dataPlane: {
    key: `${ANNOTATION_PREFIX}data-plane`,
    type: DATA_PLANES.join(" | "),
    default: undefined,
    defaultText: "config nftables.tcpDataPlane / udpDataPlane / sctpDataPlane by port protocol (proxy, nat, nat)",
    example: "direct",
    description:
      "How the Service's ports are forwarded: proxy (HAProxy; TCP only), nat (nftables DNAT to nodeIP:nodePort with " +
      "source NAT; the client address is not kept) or direct (nftables forwards the packet unchanged to the chosen " +
      "node's MAC; the client address is kept and replies bypass the LB node; LB nodes and nodes on one L2 segment).",
    configDefault: false,
    onInvalid: "default",
    parse: (raw: string): Result<DataPlane | undefined, string> => oneOf<DataPlane>(DATA_PLANES)(raw),
  } satisfies AnnotationSpec<DataPlane | undefined>,
} as const satisfies Record<string, AnnotationSpec<unknown>>;

/** The option names. */
export type OptionName = keyof typeof ANNOTATIONS;

type ValueOf<S> = S extends AnnotationSpec<infer T> ? T : never;

/** The parsed per-Service options. */
export type ServiceOptions = { readonly [K in OptionName]: ValueOf<(typeof ANNOTATIONS)[K]> };

/** Cluster-wide defaults for options, from the config's `serviceDefaults`. */
export type ServiceDefaults = Partial<ServiceOptions>;

/** The short name of an option, as `serviceDefaults` and the docs spell it: the key without the prefix. */
export const optionShortName = (spec: AnnotationSpec<unknown>): string => spec.key.slice(ANNOTATION_PREFIX.length);

/** An option's value as the docs print it. */
export const formatOptionValue = (value: unknown): string =>
  value === undefined
    ? "unset"
    : Array.isArray(value)
      ? value.join(",")
      : typeof value === "object" && value !== null && "requirements" in value
        ? formatSelector(value as LabelSelector)
        : typeof value === "number"
          ? String(value)
          : String(value);

/**
 * Parse the config's `serviceDefaults` mapping (keys are option names without the prefix) with
 * the same parsers the annotations use. Numbers are accepted where the annotation takes digits.
 */
export const parseServiceDefaults = (
  raw: unknown,
  path: string,
): Result<ServiceDefaults, readonly { path: string; message: string }[]> => {
  if (raw === undefined || raw === null) return ok({});
  if (typeof raw !== "object" || Array.isArray(raw))
    return err([{ path, message: "must be a mapping of option names to values" }]);
  const issues: { path: string; message: string }[] = [];
  const out: Record<string, unknown> = {};
  const specs = Object.entries(ANNOTATIONS) as [OptionName, AnnotationSpec<unknown>][];
  const allowed = specs.filter(([, s]) => s.configDefault);
  const allowedNames = allowed.map(([, s]) => optionShortName(s)).join(", ");
  for (const [key, value] of Object.entries(raw as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const found = allowed.find(([, s]) => optionShortName(s) === key);
    if (found === undefined) {
      issues.push({
        path: `${path}.${preview(key)}`,
        message: `not an option with a cluster-wide default; known: ${allowedNames}`,
      });
      continue;
    }
    const text = typeof value === "string" ? value.trim() : typeof value === "number" ? String(value) : undefined;
    const parsed = text === undefined ? err(`${preview(JSON.stringify(value))} is not a string`) : found[1].parse(text);
    if (parsed.isErr()) issues.push({ path: `${path}.${key}`, message: parsed.error });
    else out[found[0]] = parsed.value;
  }
  return issues.length > 0 ? err(issues) : ok(out as ServiceDefaults);
};

export { formatMillis };
