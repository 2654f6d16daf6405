import { ANNOTATIONS, optionShortName, type AnnotationSpec } from "./annotations.js";
import { CONFIG_API_VERSION, CONFIG_DEFAULTS, CONFIG_KIND } from "./config.js";
import { SOURCE_RANGES_ANNOTATION } from "./ingest.js";

/** One field of `portico.yaml`, as the reference documents it. */
export interface ConfigFieldSpec {
  /** Dotted path; `[]` marks a list item (`pools[].name`). */
  readonly path: string;
  readonly type: string;
  /** As the docs print it; `required` for fields without a default. */
  readonly default: string;
  readonly example: string;
  readonly description: string;
}

const d = (v: unknown): string => JSON.stringify(v);
const H = CONFIG_DEFAULTS.healthCheck;
const V = CONFIG_DEFAULTS.vrrp;

/**
 * Every field `parseConfig` accepts. A test compares this list with the fields the parser
 * itself knows (and parses every example with it), so the reference cannot drift from the parser.
 * The `serviceDefaults.*` rows are generated from {@link ANNOTATIONS}.
 */
export const CONFIG_FIELDS: readonly ConfigFieldSpec[] = [
  {
    path: "apiVersion",
    type: "string",
    default: "required",
    example: CONFIG_API_VERSION,
    description: `Must be ${CONFIG_API_VERSION}.`,
  },
  { path: "kind", type: "string", default: "required", example: CONFIG_KIND, description: `Must be ${CONFIG_KIND}.` },
  {
    path: "loadBalancerClass",
    type: "qualified name",
    default: CONFIG_DEFAULTS.loadBalancerClass,
    example: "portico.dev/haproxy",
    description: "Services with this spec.loadBalancerClass are Portico's; a foreign class is never touched.",
  },
  {
    path: "handleUnclassed",
    type: "boolean",
    default: d(CONFIG_DEFAULTS.handleUnclassed),
    example: "true",
    description: "Also take LoadBalancer Services without a loadBalancerClass.",
  },
  {
    path: "pools",
    type: "list",
    default: "required",
    example: "[{name: default, addresses: [...]}]",
    description: "Address pools, tried in this order. Ranges of different pools must not overlap.",
  },
  {
    path: "pools[].name",
    type: "DNS-1123 label",
    default: "required",
    example: "public",
    description: "The name portico.dev/pool refers to.",
  },
  {
    path: "pools[].addresses",
    type: "list of a-b ranges, CIDRs or addresses (IPv4 and IPv6)",
    default: "required",
    example: '["198.18.100.10-198.18.100.50", "2001:db8:100::/120"]',
    description: "The addresses of the pool; an IPv6 prefix's all-zero address is never handed out.",
  },
  {
    path: "pools[].autoAssign",
    type: "boolean",
    default: d(CONFIG_DEFAULTS.pool.autoAssign),
    example: "false",
    description: "false: only Services that ask for this pool (portico.dev/pool) or for an address in it get one.",
  },
  {
    path: "pools[].namespaces",
    type: "list of namespace names",
    default: "every namespace",
    example: "[team-a, team-b]",
    description: "Only Services in these namespaces may take addresses from the pool.",
  },
  {
    path: "pools[].serviceSelector",
    type: "label selector (matchLabels, matchExpressions)",
    default: "every Service",
    example: "{matchLabels: {tier: edge}}",
    description: "Only Services whose labels match may take addresses from the pool.",
  },
  {
    path: "lbNodes",
    type: "list",
    default: "required",
    example: "[{name: lb1, address: 198.18.1.1, interface: eth0}]",
    description: "The dedicated load-balancer nodes; all of one address family.",
  },
  {
    path: "lbNodes[].name",
    type: "DNS-1123 label",
    default: "required",
    example: "lb1",
    description: "The name given to --node.",
  },
  {
    path: "lbNodes[].address",
    type: "IP address",
    default: "required",
    example: "198.18.1.1",
    description: "The address VRRP adverts come from and peers send to.",
  },
  {
    path: "lbNodes[].interface",
    type: "Linux interface name",
    default: "required",
    example: "eth0",
    description: "The interface that carries the VIPs.",
  },
  {
    path: "lbNodes[].weight",
    type: "whole number 1-100",
    default: "1",
    example: "3",
    description: "A bigger node masters proportionally more VIPs (weighted rendezvous hashing, capped at its share).",
  },
  {
    path: "lbNodes[].drain",
    type: "boolean",
    default: "false",
    example: "true",
    description:
      "Holds no masters, stays a backup everywhere: set it, apply on every node, then stop and remove the node.",
  },
  {
    path: "healthCheck",
    type: "mapping",
    default: "{}",
    example: "{}",
    description: "Health-check timing and kube-proxy's health port.",
  },
  {
    path: "healthCheck.kubeProxyPort",
    type: "port",
    default: d(H.kubeProxyPort),
    example: "10256",
    description: "kube-proxy's health port: checked once per node for every externalTrafficPolicy: Cluster Service.",
  },
  {
    path: "healthCheck.intervalMs",
    type: "whole number 100-3600000",
    default: d(H.intervalMs),
    example: "2000",
    description: "Time between checks; per Service (Local policy): portico.dev/health-check-interval.",
  },
  {
    path: "healthCheck.rise",
    type: "whole number 1-100",
    default: d(H.rise),
    example: "2",
    description: "Good checks before a server takes traffic.",
  },
  {
    path: "healthCheck.fall",
    type: "whole number 1-100",
    default: d(H.fall),
    example: "3",
    description: "Failed checks before a server is taken out.",
  },
  {
    path: "healthCheck.fastinterMs",
    type: "whole number 100-3600000",
    default: d(H.fastinterMs),
    example: "500",
    description:
      "Time between checks while a server is changing state (HAProxy fastinter), so it falls or rises sooner; never slower than the check's interval.",
  },
  {
    path: "healthCheck.downinterMs",
    type: "whole number 100-3600000",
    default: d(H.downinterMs),
    example: "2000",
    description:
      "Time between checks while a server is down (HAProxy downinter); never slower than the check's interval.",
  },
  { path: "vrrp", type: "mapping", default: "{}", example: "{}", description: "VRRP router ids and timing." },
  {
    path: "vrrp.vridFirst",
    type: "VRID 1-255",
    default: d(V.vridFirst),
    example: "1",
    description: "First VRRP router id Portico may use.",
  },
  {
    path: "vrrp.vridLast",
    type: "VRID 1-255",
    default: d(V.vridLast),
    example: "255",
    description: "Last VRRP router id Portico may use.",
  },
  {
    path: "vrrp.advertIntMs",
    type: "multiple of 10, 10-40950",
    default: d(V.advertIntMs),
    example: "100",
    description: "VRRPv3 advertisement interval; failover takes about three of these.",
  },
  {
    path: "vrrp.preempt",
    type: "boolean",
    default: "true",
    example: "false",
    description: "false renders nopreempt: a returning higher-priority node does not take its VIPs back.",
  },
  {
    path: "vrrp.haproxyCheck",
    type: "{kind: script, pidFile, intervalS, fall, rise} | {kind: process}",
    default: "{kind: script, pidFile: /run/haproxy.pid, intervalS: 1, fall: 2, rise: 2}",
    example: "{kind: process}",
    description:
      "How keepalived knows HAProxy is alive (FAULT without it, never a weighted tracker): a pgrep script as keepalived.scriptUser, or vrrp_track_process (host namespaces only).",
  },
  {
    path: "haproxy",
    type: "mapping",
    default: "{}",
    example: "{}",
    description: "HAProxy's files and sockets on an LB node (Debian defaults).",
  },
  {
    path: "haproxy.configPath",
    type: "absolute path",
    default: CONFIG_DEFAULTS.haproxy.configPath,
    example: "/etc/haproxy/haproxy.cfg",
    description: "Where haproxy.cfg is written.",
  },
  {
    path: "haproxy.statsSocket",
    type: "absolute path",
    default: CONFIG_DEFAULTS.haproxy.statsSocket,
    example: "/run/haproxy/admin.sock",
    description: "HAProxy's runtime API socket.",
  },
  {
    path: "haproxy.masterSocket",
    type: "absolute path",
    default: CONFIG_DEFAULTS.haproxy.masterSocket,
    example: "/run/haproxy/master.sock",
    description: "HAProxy's master CLI socket (reloads).",
  },
  {
    path: "haproxy.frontendMaxconn",
    type: "whole number 1-10000000",
    default: d(CONFIG_DEFAULTS.haproxy.frontendMaxconn),
    example: "50000",
    description:
      "maxconn of every frontend (one Service port): a flood on one Service cannot take every connection of the node. HAProxy's global limit (from the open-files limit) still applies.",
  },
  {
    path: "haproxy.threads",
    type: "whole number 1-256",
    default: "absent (one thread per CPU)",
    example: "4",
    description: "HAProxy's nbthread; absent, HAProxy runs one thread per CPU it may use.",
  },
  {
    path: "haproxy.prometheus",
    type: "address:port",
    default: "absent (no exporter)",
    example: "127.0.0.1:8405",
    description:
      "Serve HAProxy's own Prometheus metrics at GET /metrics on this address (keep it local or firewalled).",
  },
  {
    path: "keepalived",
    type: "mapping",
    default: "{}",
    example: "{}",
    description: "keepalived's files on an LB node (Debian defaults).",
  },
  {
    path: "keepalived.configPath",
    type: "absolute path",
    default: CONFIG_DEFAULTS.keepalived.configPath,
    example: "/etc/keepalived/keepalived.conf",
    description: "Where keepalived.conf is written.",
  },
  {
    path: "controller",
    type: "mapping",
    default: "{}",
    example: "{}",
    description: "How portico run watches the cluster, elects the status writer and reports itself.",
  },
  {
    path: "controller.lease",
    type: "mapping",
    default: "{}",
    example: "{name: portico-status}",
    description:
      "The coordination.k8s.io/v1 Lease that elects the one LB node writing Service status: namespace (portico-system), name (portico-status), durationMs (15000), renewDeadlineMs (10000, below durationMs), retryPeriodMs (2000, below renewDeadlineMs).",
  },
  {
    path: "controller.coalesce",
    type: "mapping",
    default: "{}",
    example: "{quietMs: 100, maxDelayMs: 1000}",
    description:
      "Bursts of events make one plan: after quietMs (100) without events, at most maxDelayMs (1000) after the first; a change after quietMs without events waits only 10 ms.",
  },
  {
    path: "controller.listen",
    type: "address:port",
    default: CONFIG_DEFAULTS.controller.listen,
    example: "127.0.0.1:9750",
    description: "Where /metrics, /healthz and /readyz listen; keep it local or firewalled.",
  },
  {
    path: "tuning",
    type: "mapping",
    default: "{}",
    example: "{}",
    description: "Packet-processing tuning for portico tune (RPS, RFS, XPS, IRQ affinity).",
  },
  {
    path: "tuning.rps",
    type: "auto | always | off",
    default: "auto",
    example: "always",
    description: "auto: RPS where the device has fewer receive queues than NUMA-local CPUs.",
  },
  {
    path: "tuning.rfs",
    type: "boolean",
    default: "true",
    example: "false",
    description: "Receive Flow Steering on the interfaces that get RPS.",
  },
  {
    path: "tuning.rpsSockFlowEntries",
    type: "power of two",
    default: "32768",
    example: "65536",
    description: "RFS's global flow table; each queue gets entries / queues.",
  },
  {
    path: "tuning.xps",
    type: "boolean",
    default: "true",
    example: "false",
    description: "Share the CPUs over the transmit queues (devices with 2 or more).",
  },
  {
    path: "tuning.irqAffinity",
    type: "off | spread",
    default: "off",
    example: "spread",
    description: "spread: pin each queue interrupt to one NUMA-local CPU (and print the irqbalance ban).",
  },
  {
    path: "tuning.excludeCpus",
    type: "CPU list",
    default: "none",
    example: '"0-1"',
    description: "CPUs never used for steering, e.g. those HAProxy is pinned to.",
  },
  {
    path: "tuning.topologies",
    type: "list",
    default: "none",
    example: "[{node: lb1, cpus: 8, rxQueues: 1}]",
    description:
      "Per LB node: { node, cpus, numaNodes, rxQueues, txQueues, numaNode, irqs }, so render writes tuning.json without the machine.",
  },
  {
    path: "keepalived.pidFile",
    type: "absolute path",
    default: CONFIG_DEFAULTS.keepalived.pidFile,
    example: "/run/keepalived.pid",
    description: "keepalived's pid file: apply sends SIGHUP to this process.",
  },
  {
    path: "keepalived.scriptUser",
    type: "Unix user name",
    default: CONFIG_DEFAULTS.keepalived.scriptUser,
    example: "nobody",
    description: "The non-root user keepalived runs the HAProxy check as.",
  },
  {
    path: "keepalived.apply",
    type: "boolean",
    default: "true",
    example: "false",
    description:
      "Whether portico apply and portico run install keepalived.conf and reload (or start) keepalived; false when keepalived is managed otherwise.",
  },
  {
    path: "maxBackendsPerService",
    type: "whole number 0-100000",
    default: d(CONFIG_DEFAULTS.maxBackendsPerService),
    example: "50",
    description:
      "externalTrafficPolicy: Cluster: at most this many backend nodes per Service, a rendezvous-hash subset that changes minimally as nodes come and go; 0 keeps every node.",
  },
  {
    path: "podIpsRoutable",
    type: "boolean",
    default: d(CONFIG_DEFAULTS.podIpsRoutable),
    example: "true",
    description:
      "Pod IPs are reachable from the LB nodes: ports without a nodePort (allocateLoadBalancerNodePorts: false) then target the ready pods directly.",
  },
  {
    path: "serviceDefaults",
    type: "mapping",
    default: "{}",
    example: "{balance: leastconn}",
    description: "Cluster-wide defaults for per-Service options; keys are the annotation names without portico.dev/.",
  },
  ...(Object.values(ANNOTATIONS) as readonly AnnotationSpec<unknown>[])
    .filter((s) => s.configDefault)
    .map((s) => ({
      path: `serviceDefaults.${optionShortName(s)}`,
      type: s.type,
      default: s.defaultText,
      example: s.example,
      description: `Default for ${s.key}.`,
    })),
];

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const row = (cells: readonly string[]): string => `| ${cells.map(cell).join(" | ")} |`;

/**
 * The reference page (`docs/reference.md`): every `portico.dev/` annotation and every config
 * field, printed from the same tables the parsers use. `npm run docs:reference` writes it; a
 * test fails when the committed page is stale.
 */
export const renderReference = (): string => {
  const lines: string[] = [
    "# Reference: annotations and config",
    "",
    "<!-- Generated by `npm run docs:reference` from the parsers' own tables; do not edit. -->",
    "",
    "## Service annotations",
    "",
    "Every value is parsed into a closed type before it can reach a configuration file. An unknown `portico.dev/` key or a bad value is a Warning condition (`portico.dev/Degraded`) naming the key and the accepted values, and the option takes its default; a bad address request or pool is an error (no address is assigned rather than a different one).",
    "",
    row(["Annotation", "Type", "Default", "Example", "Description"]),
    row(["---", "---", "---", "---", "---"]),
    ...(Object.values(ANNOTATIONS) as readonly AnnotationSpec<unknown>[]).map((s) =>
      row([`\`${s.key}\``, s.type, s.defaultText, `\`${s.example}\``, s.description]),
    ),
    "",
    "## Service fields",
    "",
    row(["Field", "What Portico does"]),
    row(["---", "---"]),
    row([
      "`spec.loadBalancerClass`",
      "Portico's class (config loadBalancerClass) or none (with handleUnclassed) is planned; a foreign class is never touched.",
    ]),
    row([
      "`spec.loadBalancerIP`",
      "Deprecated upstream, still honoured as a request; portico.dev/load-balancer-ips wins.",
    ]),
    row([
      "`spec.ipFamilies`, `spec.ipFamilyPolicy`",
      "One VIP per family: SingleStack the first, RequireDualStack all (else not served), PreferDualStack those a pool offers. Each family's backends use the nodes' InternalIP of that family.",
    ]),
    row([
      "`spec.loadBalancerSourceRanges`",
      `Canonical CIDRs (both families) the frontends admit; empty admits all. The legacy annotation ${SOURCE_RANGES_ANNOTATION} applies when the field is empty. A bad range fails the Service closed.`,
    ]),
    row([
      "`spec.sessionAffinity`, `sessionAffinityConfig.clientIP.timeoutSeconds`",
      "ClientIP: a stick table on the source address with that expiry.",
    ]),
    row([
      "`spec.externalTrafficPolicy`, `spec.healthCheckNodePort`",
      "Local: servers are the nodes with ready or serving-terminating endpoints (every eligible node without EndpointSlices), checked on healthCheckNodePort. Cluster: every eligible node, tracking one shared kube-proxy check per node.",
    ]),
    row([
      "`spec.allocateLoadBalancerNodePorts: false`",
      "With podIpsRoutable, ports without a nodePort target the ready pods; otherwise a per-port NoNodePort condition.",
    ]),
    row([
      "`spec.ports[].protocol`",
      "TCP is served; UDP and SCTP are planned (unservedListeners) and reported per port with error portico.dev/ProtocolNotServed.",
    ]),
    "",
    "## Config fields (`portico.yaml`)",
    "",
    row(["Field", "Type", "Default", "Example", "Description"]),
    row(["---", "---", "---", "---", "---"]),
    ...CONFIG_FIELDS.map((f) => row([`\`${f.path}\``, f.type, f.default, `\`${f.example}\``, f.description])),
    "",
  ];
  return lines.join("\n");
};
