import { err, ok, type Result } from "neverthrow";
import {
  bigIntToIp,
  cidrBounds,
  ipFamily,
  ipToBigInt,
  parseCidr,
  parseIp,
  preview,
  type Ip,
  type IpFamily,
} from "./ip.js";
import { isDns1123Label, parsePort, parseVrid, type LbNodeName, type Millis, type Port, type Vrid } from "./model.js";
import { parseTuningSection, TUNING_DEFAULTS } from "./_tuningConfig.js";
import type { TuningConfig } from "./tuning.js";
import { parseServiceDefaults, type ServiceDefaults } from "./annotations.js";
import { parseSelectorObject, type LabelSelector } from "./labels.js";

/** One contiguous block of a pool, inclusive on both ends. */
export interface AddressRange {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
  /** As written in the config, canonicalised (`a-b` or `cidr`). */
  readonly text: string;
}

/** An address pool. */
export interface Pool {
  readonly name: string;
  readonly ranges: readonly AddressRange[];
  /** False: addresses are handed out only to Services that ask for this pool or an address in it. */
  readonly autoAssign: boolean;
  /** When set, only Services in these namespaces may take addresses from the pool. */
  readonly namespaces?: readonly string[];
  /** When set, only Services whose labels match may take addresses from the pool. */
  readonly serviceSelector?: LabelSelector;
}

/** A dedicated load-balancer node. */
export interface LbNode {
  readonly name: LbNodeName;
  /** The address VRRP adverts come from (`unicast_src_ip`) and peers send to. */
  readonly address: Ip;
  /** The interface that carries the VIPs. */
  readonly interface: string;
  /** Relative share of VIPs this node masters, 1-100; absent means 1. */
  readonly weight?: number;
  /** True: master no VIPs, stay a backup for all (maintenance). Absent means false. */
  readonly drain?: boolean;
}

/** Health-check timing shared by every backend unless a Service overrides it. */
export interface HealthCheckConfig {
  /** kube-proxy's health port, checked for `externalTrafficPolicy: Cluster`. */
  readonly kubeProxyPort: Port;
  readonly intervalMs: Millis;
  readonly rise: number;
  readonly fall: number;
  /**
   * Check interval while a server is changing state (after a first failed or good check).
   * Absent (hand-built plans): the check's interval. Never slower than the check's interval.
   */
  readonly fastinterMs?: Millis;
  /** Check interval while a server is down. Absent: the check's interval. Never slower than the check's interval. */
  readonly downinterMs?: Millis;
}

/** VRRP settings. */
export interface VrrpConfig {
  readonly vridFirst: Vrid;
  readonly vridLast: Vrid;
  /** VRRPv3 advertisement interval; failover takes about 3x this. */
  readonly advertIntMs: Millis;
  /** True (the default when absent): a returning higher-priority node takes its VIPs back; false: `nopreempt`. */
  readonly preempt?: boolean;
  /** How keepalived learns that HAProxy is gone; absent means {@link CONFIG_DEFAULTS}' `script` check. */
  readonly haproxyCheck?: HaproxyCheck;
}

/**
 * HAProxy liveness for keepalived; either way a node without HAProxy goes to FAULT and gives up
 * its VIPs (never a weighted tracker, which `nopreempt` would defeat).
 * - `script`: `vrrp_script` running `pgrep -F <pidFile> -r R,S,D,I,T` as `scriptUser` every
 *   `intervalS` seconds; works everywhere, including keepalived in a network namespace.
 * - `process`: `vrrp_track_process` on the process name `haproxy`; event driven (no polling) but
 *   only works when keepalived runs in the host's network and PID namespaces.
 */
export type HaproxyCheck =
  | {
      readonly kind: "script";
      readonly pidFile: string;
      readonly intervalS: number;
      readonly fall: number;
      readonly rise: number;
    }
  | { readonly kind: "process" };

/** Where HAProxy's files and sockets live on an LB node (Debian's defaults). */
export interface HaproxyConfig {
  readonly configPath: string;
  readonly statsSocket: string;
  readonly masterSocket: string;
  /** `maxconn` of every frontend: one flooded Service cannot take every connection. Absent (hand-built plans): HAProxy's global limit. */
  readonly frontendMaxconn?: number;
  /** `nbthread`; absent: HAProxy's default, one thread per CPU it may run on. */
  readonly threads?: number;
  /** Where HAProxy's own Prometheus exporter answers `GET /metrics`; absent: no exporter. */
  readonly prometheus?: { readonly address: Ip; readonly port: Port };
}

/** Where keepalived's files live on an LB node (Debian's defaults). */
export interface KeepalivedConfig {
  readonly configPath: string;
  /** keepalived's main pid file, read by apply to send SIGHUP; absent means /run/keepalived.pid. */
  readonly pidFile?: string;
  /** The non-root user keepalived runs check scripts as; absent means `nobody`. */
  readonly scriptUser?: string;
  /** Whether `portico apply` and `portico run` install keepalived.conf and reload keepalived; absent means true. */
  readonly apply?: boolean;
}

/** How `portico run` watches the cluster, elects a status writer and reports itself. */
export interface ControllerConfig {
  /** The Lease that elects the one LB node that writes Service status. */
  readonly lease: {
    readonly namespace: string;
    readonly name: string;
    readonly durationMs: Millis;
    readonly renewDeadlineMs: Millis;
    readonly retryPeriodMs: Millis;
  };
  /** Bursts of events make one plan: after `quietMs` without events, at most `maxDelayMs` after the first. */
  readonly coalesce: { readonly quietMs: Millis; readonly maxDelayMs: Millis };
  /** Where /metrics, /healthz and /readyz listen (keep it local or firewalled). */
  readonly listen: { readonly address: Ip; readonly port: Port };
}

/** The parsed `portico.yaml`; every field beyond the documented example has a default. */
export interface Config {
  readonly loadBalancerClass: string;
  readonly handleUnclassed: boolean;
  readonly pools: readonly Pool[];
  readonly lbNodes: readonly LbNode[];
  readonly healthCheck: HealthCheckConfig;
  readonly vrrp: VrrpConfig;
  readonly haproxy: HaproxyConfig;
  readonly keepalived: KeepalivedConfig;
  readonly controller: ControllerConfig;
  /** Packet-processing tuning for `portico tune` (RPS/RFS/XPS, IRQ affinity), and declared topologies for `render`. */
  readonly tuning: TuningConfig;
  /** Cluster-wide defaults for per-Service options (keys as the annotations without the prefix). */
  readonly serviceDefaults: ServiceDefaults;
  /** Cluster policy: at most this many backend nodes per Service (rendezvous subset); 0 = all. */
  readonly maxBackendsPerService: number;
  /** Pod IPs are routable from the LB nodes, so ports without a nodePort can target pods directly. */
  readonly podIpsRoutable: boolean;
}

/** One problem in the config: the path of the field and what is wrong with it. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** The API version and kind a config must declare. */
export const CONFIG_API_VERSION = "portico.dev/v1alpha1";
export const CONFIG_KIND = "PorticoConfig";

/** Defaults for every optional field; the reference docs print these. */
export const CONFIG_DEFAULTS = {
  loadBalancerClass: "portico.dev/haproxy",
  handleUnclassed: true,
  healthCheck: { kubeProxyPort: 10256, intervalMs: 2000, rise: 2, fall: 3, fastinterMs: 500, downinterMs: 2000 },
  vrrp: {
    vridFirst: 1,
    vridLast: 255,
    advertIntMs: 100,
    preempt: true,
    haproxyCheck: { kind: "script", pidFile: "/run/haproxy.pid", intervalS: 1, fall: 2, rise: 2 },
  },
  haproxy: {
    configPath: "/etc/haproxy/haproxy.cfg",
    statsSocket: "/run/haproxy/admin.sock",
    // Debian's haproxy.service starts haproxy with `-S /run/haproxy-master.sock`.
    masterSocket: "/run/haproxy-master.sock",
    frontendMaxconn: 20_000,
  },
  keepalived: {
    configPath: "/etc/keepalived/keepalived.conf",
    pidFile: "/run/keepalived.pid",
    scriptUser: "nobody",
    apply: true,
  },
  lbNode: { weight: 1, drain: false },
  controller: {
    lease: {
      namespace: "portico-system",
      name: "portico-status",
      durationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    },
    coalesce: { quietMs: 100, maxDelayMs: 1_000 },
    listen: "127.0.0.1:9750",
  },
  tuning: TUNING_DEFAULTS,
  serviceDefaults: {},
  maxBackendsPerService: 0,
  podIpsRoutable: false,
  pool: { autoAssign: true },
} as const;

// Top-level fields added for the Service contract (kept apart so the list above stays as it was).
const EXTRA_TOP_LEVEL = ["serviceDefaults", "maxBackendsPerService", "podIpsRoutable"] as const;

// A Unix user name keepalived can look up (useradd's default rule).
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

const INTERFACE = /^[A-Za-z0-9_.-]{1,15}$/;
// A path that is safe to write into haproxy.cfg/keepalived.conf without quoting tricks.
const SAFE_PATH = /^\/[A-Za-z0-9_./-]{1,255}$/;
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Parse `portico.yaml` (already decoded from YAML/JSON) into a {@link Config}, collecting every problem. */
export const parseConfig = (input: unknown): Result<Config, readonly ConfigIssue[]> => {
  const issues: ConfigIssue[] = [];
  const bad = (path: string, message: string): undefined => {
    issues.push({ path, message });
    return undefined;
  };
  if (!isRecord(input)) return err([{ path: "", message: "the config must be a YAML mapping" }]);

  if (input["apiVersion"] !== CONFIG_API_VERSION)
    bad("apiVersion", `must be ${CONFIG_API_VERSION}, got "${preview(input["apiVersion"])}"`);
  if (input["kind"] !== CONFIG_KIND) bad("kind", `must be ${CONFIG_KIND}, got "${preview(input["kind"])}"`);
  checkKnown(
    input,
    [
      "apiVersion",
      "kind",
      "loadBalancerClass",
      "handleUnclassed",
      "pools",
      "lbNodes",
      "healthCheck",
      "vrrp",
      "haproxy",
      "keepalived",
      "controller",
      "tuning",
      ...EXTRA_TOP_LEVEL,
    ],
    "",
    bad,
  );
  const serviceDefaults = parseServiceDefaults(input["serviceDefaults"], "serviceDefaults").match(
    (d) => d,
    (list) => {
      for (const i of list) bad(i.path, i.message);
      return {};
    },
  );
  const maxBackendsPerService = optional(
    input,
    "maxBackendsPerService",
    CONFIG_DEFAULTS.maxBackendsPerService as number,
    (v, p) => boundedInt(v, 0, 100_000, p, bad),
  );
  const podIpsRoutable = optional(input, "podIpsRoutable", CONFIG_DEFAULTS.podIpsRoutable as boolean, (v, p) =>
    typeof v === "boolean" ? v : bad(p, "must be true or false"),
  );

  const loadBalancerClass = optional(input, "loadBalancerClass", CONFIG_DEFAULTS.loadBalancerClass, (v, p) =>
    typeof v === "string" && v.length <= 316 && QUALIFIED_NAME.test(v)
      ? v
      : bad(p, `"${preview(v)}" is not a qualified name like portico.dev/haproxy`),
  );
  const handleUnclassed = optional(input, "handleUnclassed", CONFIG_DEFAULTS.handleUnclassed, (v, p) =>
    typeof v === "boolean" ? v : bad(p, "must be true or false"),
  );

  const pools: Pool[] = [];
  const rawPools = input["pools"];
  if (!Array.isArray(rawPools) || rawPools.length === 0) bad("pools", "must be a non-empty list of address pools");
  else
    rawPools.forEach((raw, i) => {
      const pool = parsePool(raw, `pools[${i}]`, bad);
      if (pool) pools.push(pool);
    });
  checkUnique(
    pools.map((p) => p.name),
    "pools",
    "pool name",
    bad,
  );
  checkPoolOverlap(pools, bad);

  const lbNodes: LbNode[] = [];
  const rawNodes = input["lbNodes"];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0)
    bad("lbNodes", "must be a non-empty list of load-balancer nodes");
  else
    rawNodes.forEach((raw, i) => {
      const node = parseLbNode(raw, `lbNodes[${i}]`, bad);
      if (node) lbNodes.push(node);
    });
  checkUnique(
    lbNodes.map((n) => n.name),
    "lbNodes",
    "LB node name",
    bad,
  );
  checkUnique(
    lbNodes.map((n) => n.address),
    "lbNodes",
    "LB node address",
    bad,
  );
  if (lbNodes.length > 0 && lbNodes.every((n) => n.drain === true))
    bad("lbNodes", "every LB node is drained: at least one must be able to hold VIPs");
  // VRRP unicast peers must share the advertising address's family.
  if (new Set(lbNodes.map((n) => ipFamily(n.address))).size > 1)
    bad(
      "lbNodes",
      "every LB node address must be of the same family (IPv4 or IPv6), since VRRP peers advertise to each other over one family",
    );

  const healthCheck = parseSection(input, "healthCheck", bad, (s, p) => ({
    kubeProxyPort: optionalIn(p, s, "kubeProxyPort", CONFIG_DEFAULTS.healthCheck.kubeProxyPort as Port, (v, q) =>
      parsePort(v).match(
        (x) => x,
        (e) => bad(q, e),
      ),
    ),
    intervalMs: optionalIn(
      p,
      s,
      "intervalMs",
      CONFIG_DEFAULTS.healthCheck.intervalMs as Millis,
      (v, q) => boundedInt(v, 100, 3_600_000, q, bad) as Millis | undefined,
    ),
    rise: optionalIn(p, s, "rise", CONFIG_DEFAULTS.healthCheck.rise as number, (v, q) => boundedInt(v, 1, 100, q, bad)),
    fall: optionalIn(p, s, "fall", CONFIG_DEFAULTS.healthCheck.fall as number, (v, q) => boundedInt(v, 1, 100, q, bad)),
    fastinterMs: optionalIn(
      p,
      s,
      "fastinterMs",
      CONFIG_DEFAULTS.healthCheck.fastinterMs as Millis,
      (v, q) => boundedInt(v, 100, 3_600_000, q, bad) as Millis | undefined,
    ),
    downinterMs: optionalIn(
      p,
      s,
      "downinterMs",
      CONFIG_DEFAULTS.healthCheck.downinterMs as Millis,
      (v, q) => boundedInt(v, 100, 3_600_000, q, bad) as Millis | undefined,
    ),
    _known: checkKnown(s, ["kubeProxyPort", "intervalMs", "rise", "fall", "fastinterMs", "downinterMs"], p, bad),
  }));

  const vrrp = parseSection(input, "vrrp", bad, (s, p) => {
    const vridFirst = optionalIn(p, s, "vridFirst", CONFIG_DEFAULTS.vrrp.vridFirst as Vrid, (v, q) =>
      parseVrid(v).match(
        (x) => x,
        (e) => bad(q, e),
      ),
    );
    const vridLast = optionalIn(p, s, "vridLast", CONFIG_DEFAULTS.vrrp.vridLast as Vrid, (v, q) =>
      parseVrid(v).match(
        (x) => x,
        (e) => bad(q, e),
      ),
    );
    if (vridFirst !== undefined && vridLast !== undefined && vridFirst > vridLast)
      bad(`${p}.vridLast`, `must not be below vridFirst (${vridFirst})`);
    return {
      vridFirst,
      vridLast,
      // keepalived takes advert_int in centiseconds at the finest (VRRPv3).
      advertIntMs: optionalIn(p, s, "advertIntMs", CONFIG_DEFAULTS.vrrp.advertIntMs as Millis, (v, q) =>
        typeof v === "number" && Number.isInteger(v) && v % 10 === 0 && v >= 10 && v <= 40_950
          ? (v as Millis)
          : bad(q, "must be a multiple of 10 between 10 and 40950 (milliseconds)"),
      ),
      preempt: optionalIn(p, s, "preempt", CONFIG_DEFAULTS.vrrp.preempt as boolean, (v, q) =>
        typeof v === "boolean" ? v : bad(q, "must be true or false"),
      ),
      haproxyCheck: optionalIn(p, s, "haproxyCheck", CONFIG_DEFAULTS.vrrp.haproxyCheck as HaproxyCheck, (v, q) =>
        parseHaproxyCheck(v, q, bad),
      ),
      _known: checkKnown(s, ["vridFirst", "vridLast", "advertIntMs", "preempt", "haproxyCheck"], p, bad),
    };
  });

  const haproxy = parseSection(input, "haproxy", bad, (s, p) => ({
    configPath: optionalIn(p, s, "configPath", CONFIG_DEFAULTS.haproxy.configPath as string, (v, q) => path(v, q, bad)),
    statsSocket: optionalIn(p, s, "statsSocket", CONFIG_DEFAULTS.haproxy.statsSocket as string, (v, q) =>
      path(v, q, bad),
    ),
    masterSocket: optionalIn(p, s, "masterSocket", CONFIG_DEFAULTS.haproxy.masterSocket as string, (v, q) =>
      path(v, q, bad),
    ),
    frontendMaxconn: optionalIn(p, s, "frontendMaxconn", CONFIG_DEFAULTS.haproxy.frontendMaxconn as number, (v, q) =>
      boundedInt(v, 1, 10_000_000, q, bad),
    ),
    threads: optionalIn<number | undefined>(p, s, "threads", undefined, (v, q) => boundedInt(v, 1, 256, q, bad)),
    prometheus: optionalIn<{ address: Ip; port: Port } | undefined>(
      p,
      s,
      "prometheus",
      undefined,
      (v, q) =>
        (typeof v === "string" ? parseHostPort(v) : undefined) ??
        bad(q, `"${preview(v)}" is not address:port (e.g. 127.0.0.1:8405)`),
    ),
    _known: checkKnown(
      s,
      ["configPath", "statsSocket", "masterSocket", "frontendMaxconn", "threads", "prometheus"],
      p,
      bad,
    ),
  }));
  const keepalived = parseSection(input, "keepalived", bad, (s, p) => ({
    configPath: optionalIn(p, s, "configPath", CONFIG_DEFAULTS.keepalived.configPath as string, (v, q) =>
      path(v, q, bad),
    ),
    pidFile: optionalIn(p, s, "pidFile", CONFIG_DEFAULTS.keepalived.pidFile as string, (v, q) => path(v, q, bad)),
    scriptUser: optionalIn(p, s, "scriptUser", CONFIG_DEFAULTS.keepalived.scriptUser as string, (v, q) =>
      typeof v === "string" && USER.test(v) && v !== "root"
        ? v
        : bad(q, `"${preview(v)}" is not a non-root user name ([a-z_][a-z0-9_-], at most 32)`),
    ),
    apply: optionalIn(p, s, "apply", CONFIG_DEFAULTS.keepalived.apply as boolean, (v, q) =>
      typeof v === "boolean" ? v : bad(q, "must be true or false"),
    ),
    _known: checkKnown(s, ["configPath", "pidFile", "scriptUser", "apply"], p, bad),
  }));

  const controller = parseSection(input, "controller", bad, (s, p) => parseController(s, p, bad));
  const tuning = parseTuningSection(input["tuning"], lbNodes, bad);

  if (issues.length > 0) return err(issues);
  // Every field was either defaulted or parsed; issues would have been recorded otherwise.
  const d = <T>(v: T | undefined): T => v as T;
  return ok({
    loadBalancerClass: d(loadBalancerClass),
    handleUnclassed: d(handleUnclassed),
    pools,
    lbNodes,
    healthCheck: {
      kubeProxyPort: d(healthCheck?.kubeProxyPort),
      intervalMs: d(healthCheck?.intervalMs),
      rise: d(healthCheck?.rise),
      fall: d(healthCheck?.fall),
      fastinterMs: d(healthCheck?.fastinterMs),
      downinterMs: d(healthCheck?.downinterMs),
    },
    vrrp: {
      vridFirst: d(vrrp?.vridFirst),
      vridLast: d(vrrp?.vridLast),
      advertIntMs: d(vrrp?.advertIntMs),
      preempt: d(vrrp?.preempt),
      haproxyCheck: d(vrrp?.haproxyCheck),
    },
    haproxy: {
      configPath: d(haproxy?.configPath),
      statsSocket: d(haproxy?.statsSocket),
      masterSocket: d(haproxy?.masterSocket),
      frontendMaxconn: d(haproxy?.frontendMaxconn),
      // Absent by default: no line is rendered.
      ...(haproxy?.threads === undefined ? {} : { threads: haproxy.threads }),
      ...(haproxy?.prometheus === undefined ? {} : { prometheus: haproxy.prometheus }),
    },
    keepalived: {
      configPath: d(keepalived?.configPath),
      pidFile: d(keepalived?.pidFile),
      scriptUser: d(keepalived?.scriptUser),
      apply: d(keepalived?.apply),
    },
    controller: d(controller),
    tuning: d(tuning),
    serviceDefaults,
    maxBackendsPerService: d(maxBackendsPerService),
    podIpsRoutable: d(podIpsRoutable),
  });
};

/** Format config issues one per line, `path: message`. */
export const formatConfigIssues = (issues: readonly ConfigIssue[]): string =>
  issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("\n");

type Bad = (path: string, message: string) => undefined;

const path = (v: unknown, q: string, bad: Bad): string | undefined =>
  typeof v === "string" && SAFE_PATH.test(v) && !v.split("/").includes("..")
    ? v
    : bad(q, `"${preview(v)}" is not an absolute path of [A-Za-z0-9_./-]`);

const parseHaproxyCheck = (v: unknown, p: string, bad: Bad): HaproxyCheck | undefined => {
  if (!isRecord(v)) return bad(p, "must be a mapping with kind script or process");
  const d = CONFIG_DEFAULTS.vrrp.haproxyCheck;
  if (v["kind"] === "process") {
    checkKnown(v, ["kind"], p, bad);
    return { kind: "process" };
  }
  if (v["kind"] !== "script" && v["kind"] !== undefined)
    return bad(`${p}.kind`, `"${preview(v["kind"])}" is not one of script, process`);
  checkKnown(v, ["kind", "pidFile", "intervalS", "fall", "rise"], p, bad);
  const pidFile = optionalIn(p, v, "pidFile", d.pidFile as string, (x, q) => path(x, q, bad));
  // keepalived takes whole seconds for a vrrp_script interval.
  const intervalS = optionalIn(p, v, "intervalS", d.intervalS as number, (x, q) => boundedInt(x, 1, 60, q, bad));
  const fall = optionalIn(p, v, "fall", d.fall as number, (x, q) => boundedInt(x, 1, 10, q, bad));
  const rise = optionalIn(p, v, "rise", d.rise as number, (x, q) => boundedInt(x, 1, 10, q, bad));
  return pidFile === undefined || intervalS === undefined || fall === undefined || rise === undefined
    ? undefined
    : { kind: "script", pidFile, intervalS, fall, rise };
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const optional = <T>(
  obj: Record<string, unknown>,
  key: string,
  fallback: T,
  parse: (v: unknown, path: string) => T | undefined,
): T | undefined => optionalIn("", obj, key, fallback, parse);

const optionalIn = <T>(
  prefix: string,
  obj: Record<string, unknown>,
  key: string,
  fallback: T,
  parse: (v: unknown, path: string) => T | undefined,
): T | undefined =>
  obj[key] === undefined || obj[key] === null ? fallback : parse(obj[key], prefix ? `${prefix}.${key}` : key);

const parseSection = <T>(
  input: Record<string, unknown>,
  key: string,
  bad: Bad,
  parse: (s: Record<string, unknown>, path: string) => T,
): T | undefined => {
  const raw = input[key] ?? {};
  if (!isRecord(raw)) return bad(key, "must be a mapping");
  return parse(raw, key);
};

const checkKnown = (obj: Record<string, unknown>, known: readonly string[], path: string, bad: Bad): undefined => {
  for (const k of Object.keys(obj).sort()) {
    if (!known.includes(k))
      bad(path ? `${path}.${preview(k)}` : preview(k), `unknown field; known fields: ${known.join(", ")}`);
  }
  return undefined;
};

const boundedInt = (v: unknown, min: number, max: number, path: string, bad: Bad): number | undefined =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
    ? v
    : bad(path, `must be a whole number from ${min} to ${max}`);

const checkUnique = (values: readonly string[], path: string, what: string, bad: Bad): void => {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) bad(path, `${what} "${v}" appears more than once`);
    seen.add(v);
  }
};

const parsePool = (raw: unknown, path: string, bad: Bad): Pool | undefined => {
  if (!isRecord(raw)) return bad(path, "must be a mapping with name and addresses");
  checkKnown(raw, ["name", "addresses", "autoAssign", "namespaces", "serviceSelector"], path, bad);
  const name = raw["name"];
  if (!isDns1123Label(name))
    bad(`${path}.name`, `"${preview(name)}" is not a DNS-1123 label (lowercase letters, digits, '-')`);
  const addresses = raw["addresses"];
  if (!Array.isArray(addresses) || addresses.length === 0)
    return bad(`${path}.addresses`, "must be a non-empty list of ranges (a-b), CIDRs or addresses");
  const ranges: AddressRange[] = [];
  addresses.forEach((a, i) => {
    const r = parseRange(a);
    if (r.isErr())
      bad(
        `${path}.addresses[${i}]`,
        `${r.error} (accepted: an address, a first-last range or a CIDR, e.g. 198.18.100.10-198.18.100.50 or 2001:db8:100::/120)`,
      );
    else ranges.push(r.value);
  });
  const autoAssign = raw["autoAssign"] ?? CONFIG_DEFAULTS.pool.autoAssign;
  if (typeof autoAssign !== "boolean") bad(`${path}.autoAssign`, "must be true or false");
  let namespaces: string[] | undefined;
  if (raw["namespaces"] !== undefined && raw["namespaces"] !== null) {
    const ns = raw["namespaces"];
    if (!Array.isArray(ns) || ns.length === 0 || !ns.every(isDns1123Label))
      bad(`${path}.namespaces`, "must be a non-empty list of namespace names (DNS-1123 labels)");
    else namespaces = [...new Set(ns as string[])].sort();
  }
  let serviceSelector: LabelSelector | undefined;
  if (raw["serviceSelector"] !== undefined && raw["serviceSelector"] !== null) {
    const sel = parseSelectorObject(raw["serviceSelector"]);
    if (sel.isErr()) bad(`${path}.serviceSelector`, sel.error);
    else serviceSelector = sel.value;
  }
  return isDns1123Label(name)
    ? {
        name,
        ranges,
        autoAssign: autoAssign === true,
        ...(namespaces === undefined ? {} : { namespaces }),
        ...(serviceSelector === undefined ? {} : { serviceSelector }),
      }
    : undefined;
};

/** Parse `a-b`, a CIDR or a single address into an inclusive range. */
export const parseRange = (text: unknown): Result<AddressRange, string> => {
  if (typeof text !== "string") return err(`${preview(text)} is not a range, CIDR or address`);
  const t = text.trim();
  if (t.includes("/")) {
    return parseCidr(t).map((cidr) => {
      const [addr, len] = cidr.split("/") as [Ip, string];
      const family = ipFamily(addr);
      const { first, last } = cidrBounds(family, ipToBigInt(addr), Number(len));
      // An IPv6 prefix's all-zero address is the Subnet-Router anycast address (RFC 4291); never hand it out.
      const usableFirst = family === 6 && Number(len) < 127 ? first + 1n : first;
      return { family, first: usableFirst, last, text: cidr as string };
    });
  }
  const dash = t.indexOf("-");
  const firstText = dash < 0 ? t : t.slice(0, dash).trim();
  const lastText = dash < 0 ? t : t.slice(dash + 1).trim();
  const a = parseIp(firstText);
  const b = parseIp(lastText);
  if (a.isErr()) return err(a.error);
  if (b.isErr()) return err(b.error);
  const family = ipFamily(a.value);
  if (family !== ipFamily(b.value)) return err(`"${preview(t)}" mixes IPv4 and IPv6`);
  const first = ipToBigInt(a.value);
  const last = ipToBigInt(b.value);
  if (first > last) return err(`"${preview(t)}" ends before it starts`);
  const canonical =
    first === last ? bigIntToIp(first, family) : `${bigIntToIp(first, family)}-${bigIntToIp(last, family)}`;
  return ok({ family, first, last, text: canonical });
};

const checkPoolOverlap = (pools: readonly Pool[], bad: Bad): void => {
  const all = pools.flatMap((p) => p.ranges.map((r) => ({ pool: p.name, r })));
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const x = all[i]!;
      const y = all[j]!;
      if (x.r.family === y.r.family && x.r.first <= y.r.last && y.r.first <= x.r.last) {
        bad("pools", `${x.r.text} (pool ${x.pool}) overlaps ${y.r.text} (pool ${y.pool})`);
      }
    }
  }
};

const parseLbNode = (raw: unknown, path: string, bad: Bad): LbNode | undefined => {
  if (!isRecord(raw)) return bad(path, "must be a mapping with name, address and interface");
  checkKnown(raw, ["name", "address", "interface", "weight", "drain"], path, bad);
  const weight = optionalIn(path, raw, "weight", CONFIG_DEFAULTS.lbNode.weight as number, (v, q) =>
    boundedInt(v, 1, 100, q, bad),
  );
  const drain = optionalIn(path, raw, "drain", CONFIG_DEFAULTS.lbNode.drain as boolean, (v, q) =>
    typeof v === "boolean" ? v : bad(q, "must be true or false"),
  );
  const name = raw["name"];
  const okName = isDns1123Label(name);
  if (!okName) bad(`${path}.name`, `"${preview(name)}" is not a DNS-1123 label (lowercase letters, digits, '-')`);
  const address =
    typeof raw["address"] === "string"
      ? parseIp(raw["address"])
      : err(`${preview(raw["address"])} is not an IP address`);
  if (address.isErr()) bad(`${path}.address`, address.error);
  const iface = raw["interface"];
  const okIface = typeof iface === "string" && INTERFACE.test(iface) && iface !== "." && iface !== "..";
  if (!okIface)
    bad(`${path}.interface`, `"${preview(iface)}" is not a Linux interface name (1-15 of A-Z a-z 0-9 _ . -)`);
  if (!okName || address.isErr() || !okIface || weight === undefined || drain === undefined) return undefined;
  return { name: name as LbNodeName, address: address.value, interface: iface, weight, drain };
};

const parseController = (s: Record<string, unknown>, p: string, bad: Bad): ControllerConfig | undefined => {
  checkKnown(s, ["lease", "coalesce", "listen"], p, bad);
  const D = CONFIG_DEFAULTS.controller;
  const lease = isRecord(s["lease"] ?? {})
    ? ((s["lease"] ?? {}) as Record<string, unknown>)
    : (bad(`${p}.lease`, "must be a mapping") ?? {});
  checkKnown(lease, ["namespace", "name", "durationMs", "renewDeadlineMs", "retryPeriodMs"], `${p}.lease`, bad);
  const ms = (obj: Record<string, unknown>, path: string, key: string, fallback: number): Millis | undefined =>
    optionalIn(
      path,
      obj,
      key,
      fallback as Millis,
      (v, q) => boundedInt(v, 100, 3_600_000, q, bad) as Millis | undefined,
    );
  const label = (obj: Record<string, unknown>, path: string, key: string, fallback: string): string | undefined =>
    optionalIn(path, obj, key, fallback, (v, q) =>
      isDns1123Label(v) ? v : bad(q, `"${preview(v)}" is not a DNS-1123 label`),
    );
  const lp = `${p}.lease`;
  const namespace = label(lease, lp, "namespace", D.lease.namespace);
  const name = label(lease, lp, "name", D.lease.name);
  const durationMs = ms(lease, lp, "durationMs", D.lease.durationMs);
  const renewDeadlineMs = ms(lease, lp, "renewDeadlineMs", D.lease.renewDeadlineMs);
  const retryPeriodMs = ms(lease, lp, "retryPeriodMs", D.lease.retryPeriodMs);
  // client-go's rule: the leader must give up before anyone else may take over.
  if (durationMs !== undefined && renewDeadlineMs !== undefined && renewDeadlineMs >= durationMs)
    bad(`${lp}.renewDeadlineMs`, `must be below durationMs (${durationMs})`);
  if (renewDeadlineMs !== undefined && retryPeriodMs !== undefined && retryPeriodMs >= renewDeadlineMs)
    bad(`${lp}.retryPeriodMs`, `must be below renewDeadlineMs (${renewDeadlineMs})`);

  const coalesce = isRecord(s["coalesce"] ?? {})
    ? ((s["coalesce"] ?? {}) as Record<string, unknown>)
    : (bad(`${p}.coalesce`, "must be a mapping") ?? {});
  checkKnown(coalesce, ["quietMs", "maxDelayMs"], `${p}.coalesce`, bad);
  const cp = `${p}.coalesce`;
  const quietMs = optionalIn(
    cp,
    coalesce,
    "quietMs",
    D.coalesce.quietMs as Millis,
    (v, q) => boundedInt(v, 0, 60_000, q, bad) as Millis | undefined,
  );
  const maxDelayMs = optionalIn(
    cp,
    coalesce,
    "maxDelayMs",
    D.coalesce.maxDelayMs as Millis,
    (v, q) => boundedInt(v, 1, 600_000, q, bad) as Millis | undefined,
  );
  if (quietMs !== undefined && maxDelayMs !== undefined && quietMs > maxDelayMs)
    bad(`${cp}.quietMs`, `must not exceed maxDelayMs (${maxDelayMs})`);

  const listen = optionalIn(p, s, "listen", D.listen as string, (v, q) =>
    typeof v === "string" ? v : bad(q, "must be address:port"),
  );
  const parsedListen = listen === undefined ? undefined : parseHostPort(listen);
  if (listen !== undefined && parsedListen === undefined)
    bad(`${p}.listen`, `"${preview(listen)}" is not address:port (e.g. 127.0.0.1:9750 or [::1]:9750)`);

  if (
    [namespace, name, durationMs, renewDeadlineMs, retryPeriodMs, quietMs, maxDelayMs, parsedListen].some(
      (x) => x === undefined,
    )
  )
    return undefined;
  return {
    lease: {
      namespace: namespace!,
      name: name!,
      durationMs: durationMs!,
      renewDeadlineMs: renewDeadlineMs!,
      retryPeriodMs: retryPeriodMs!,
    },
    coalesce: { quietMs: quietMs!, maxDelayMs: maxDelayMs! },
    listen: parsedListen!,
  };
};

/** Parse `1.2.3.4:80` or `[2001:db8::1]:80`. */
export const parseHostPort = (text: string): { address: Ip; port: Port } | undefined => {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const ip = parseIp(m[1] ?? m[2] ?? "");
  const port = parsePort(Number(m[3]));
  return ip.isOk() && port.isOk() ? { address: ip.value, port: port.value } : undefined;
};
