import { err, ok, type Result } from "neverthrow";
import { isRecord } from "./_json.js";
import { checkKnown, defaultsOf, readField, readSection, type Bad } from "./config/_field.js";
import { BFD_FIELDS, BGP_FIELDS, checkBgpUse, parseBgp } from "./config/_bgp.js";
import { COALESCE_FIELDS, LEASE_FIELDS, LISTEN_DEFAULT, parseController } from "./config/_controller.js";
import { HAPROXY_FIELDS, parseHaproxy } from "./config/_haproxy.js";
import { HEALTH_CHECK_FIELDS, parseHealthCheck } from "./config/_healthCheck.js";
import { KEEPALIVED_FIELDS, parseKeepalived } from "./config/_keepalived.js";
import { LB_NODE_FIELDS, parseLbNodes } from "./config/_lbNode.js";
import { parsePools, POOL_FIELDS } from "./config/_pool.js";
import { CONFIG_SCHEMA, readServiceDefaults, TOP_LEVEL_FIELDS as T } from "./config/_schema.js";
import { parseTuningSection, TUNING_DEFAULTS } from "./config/_tuning.js";
import { parseVrrp, VRRP_FIELDS } from "./config/_vrrp.js";
import { NFTABLES_FIELDS, parseNftables } from "./config/_nftables.js";
import type { Config } from "./settings.js";

/** ConfigIssue: one problem in the config, the path of the field and what is wrong with it. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** CONFIG_DEFAULTS: the default of every optional field, as a config would spell it, read from the schema. */
export const CONFIG_DEFAULTS = {
  loadBalancerClass: T.loadBalancerClass.default,
  handleUnclassed: T.handleUnclassed.default,
  healthCheck: defaultsOf(HEALTH_CHECK_FIELDS),
  vrrp: defaultsOf(VRRP_FIELDS),
  haproxy: defaultsOf(HAPROXY_FIELDS),
  keepalived: defaultsOf(KEEPALIVED_FIELDS),
  lbNode: defaultsOf(LB_NODE_FIELDS),
  controller: { lease: defaultsOf(LEASE_FIELDS), coalesce: defaultsOf(COALESCE_FIELDS), listen: LISTEN_DEFAULT },
  tuning: TUNING_DEFAULTS,
  serviceDefaults: {},
  maxBackendsPerService: T.maxBackendsPerService.default,
  podIpsRoutable: T.podIpsRoutable.default,
  reservedPorts: T.reservedPorts.default,
  shareAcrossNamespaces: T.shareAcrossNamespaces.default,
  podCidrs: T.podCidrs.default,
  pool: defaultsOf(POOL_FIELDS),
  bgp: { ...defaultsOf(BGP_FIELDS), bfd: defaultsOf(BFD_FIELDS) },
  nftables: defaultsOf(NFTABLES_FIELDS),
} as const;

/** parseConfig: `portico.yaml` (already decoded from YAML/JSON) as a {@link Config}, collecting every problem. */
export const parseConfig = (input: unknown): Result<Config, readonly ConfigIssue[]> => {
  const issues: ConfigIssue[] = [];
  const bad: Bad = (path, message) => {
    issues.push({ path, message });
    return undefined;
  };
  if (!isRecord(input)) return err([{ path: "", message: "the config must be a YAML mapping" }]);

  readField(T.apiVersion, input, "apiVersion", "", bad);
  readField(T.kind, input, "kind", "", bad);
  checkKnown(input, Object.keys(CONFIG_SCHEMA), "", bad);
  const serviceDefaults = readServiceDefaults(input["serviceDefaults"], bad);
  const maxBackendsPerService = readField(T.maxBackendsPerService, input, "maxBackendsPerService", "", bad);
  const podIpsRoutable = readField(T.podIpsRoutable, input, "podIpsRoutable", "", bad);
  const reservedPorts = readField(T.reservedPorts, input, "reservedPorts", "", bad);
  const shareAcrossNamespaces = readField(T.shareAcrossNamespaces, input, "shareAcrossNamespaces", "", bad);
  const podCidrs = readField(T.podCidrs, input, "podCidrs", "", bad);
  const loadBalancerClass = readField(T.loadBalancerClass, input, "loadBalancerClass", "", bad);
  const handleUnclassed = readField(T.handleUnclassed, input, "handleUnclassed", "", bad);
  const pools = parsePools(input["pools"], bad);
  const lbNodes = parseLbNodes(input["lbNodes"], bad);
  const healthCheck = readSection(input, "healthCheck", bad, (s, p) => parseHealthCheck(s, p, bad));
  const vrrp = readSection(input, "vrrp", bad, (s, p) => parseVrrp(s, p, bad));
  const haproxy = readSection(input, "haproxy", bad, (s, p) => parseHaproxy(s, p, bad));
  const keepalived = readSection(input, "keepalived", bad, (s, p) => parseKeepalived(s, p, bad));
  const controller = readSection(input, "controller", bad, (s, p) => parseController(s, p, bad));
  const tuning = parseTuningSection(input["tuning"], lbNodes, bad);
  const bgp = input["bgp"] === undefined ? undefined : readSection(input, "bgp", bad, (s, p) => parseBgp(s, p, bad));
  checkBgpUse(pools, lbNodes, { bgp: input["bgp"], lbNodes: input["lbNodes"] }, bad);
  const nftables = readSection(input, "nftables", bad, (s, p) => parseNftables(s, p, bad));

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
      preemptDelayS: d(vrrp?.preemptDelayS),
      peersOnLink: d(vrrp?.peersOnLink),
    },
    haproxy: {
      configPath: d(haproxy?.configPath),
      statsSocket: d(haproxy?.statsSocket),
      masterSocket: d(haproxy?.masterSocket),
      frontendMaxconn: d(haproxy?.frontendMaxconn),
      peersPort: d(haproxy?.peersPort),
      maxconn: d(haproxy?.maxconn),
      hardStopAfterMs: d(haproxy?.hardStopAfterMs),
      maxReloads: d(haproxy?.maxReloads),
      reloadIntervalMs: d(haproxy?.reloadIntervalMs),
      user: d(haproxy?.user),
      group: d(haproxy?.group),
      chroot: d(haproxy?.chroot),
      logTarget: d(haproxy?.logTarget),
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
    reservedPorts: d(reservedPorts),
    ...(bgp === undefined ? {} : { bgp }),
    nftables: {
      configPath: d(nftables?.configPath),
      apply: d(nftables?.apply),
      tcpDataPlane: d(nftables?.tcpDataPlane),
      udpDataPlane: d(nftables?.udpDataPlane),
      sctpDataPlane: d(nftables?.sctpDataPlane),
      // Absent by default: the plan sizes its tables from the node count.
      ...(nftables?.maglevTableSize === undefined ? {} : { maglevTableSize: nftables.maglevTableSize }),
      flowPinTimeoutS: d(nftables?.flowPinTimeoutS),
      udpFlowPinTimeoutS: d(nftables?.udpFlowPinTimeoutS),
      flowPinMapSize: d(nftables?.flowPinMapSize),
    },
    shareAcrossNamespaces: d(shareAcrossNamespaces),
    podCidrs: d(podCidrs),
  });
};

/** formatConfigIssues: config issues one per line, `path: message`. */
export const formatConfigIssues = (issues: readonly ConfigIssue[]): string =>
  issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("\n");
