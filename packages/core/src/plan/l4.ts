import type { ServiceOptions } from "../annotations.js";
import { ident } from "../_ident.js";
import type { Ip, IpFamily } from "../ip.js";
import { maglevSize } from "../maglev.js";
import type { Protocol, Service, ServicePort } from "../model.js";
import type { Config } from "../settings.js";
import type { DataPlane, L4DataPlane } from "../vocabulary.js";
import type { HttpCheck, L4Listener, Server, TrackCheck } from "./types.js";

/** The data plane a config without an `nftables` section gives each protocol. */
const DEFAULT_PLANES = { TCP: "proxy", UDP: "nat", SCTP: "nat" } as const satisfies Record<Protocol, DataPlane>;

/**
 * dataPlaneOf is the data plane of a port of `protocol`: the Service's `portico.dev/data-plane`
 * when it has one, else the config's default for the protocol.
 */
export const dataPlaneOf = (protocol: Protocol, options: ServiceOptions, config: Config): DataPlane => {
  if (options.dataPlane !== undefined) return options.dataPlane;
  const n = config.nftables;
  if (n === undefined) return DEFAULT_PLANES[protocol];
  return protocol === "TCP" ? n.tcpDataPlane : protocol === "UDP" ? n.udpDataPlane : n.sctpDataPlane;
};

/**
 * isL4Servable says whether the L4 data plane can serve a port: it has a nodePort and, with
 * externalTrafficPolicy: Local, the Service has a healthCheckNodePort to tell nodes apart.
 */
export const isL4Servable = (service: Service, port: ServicePort, options: ServiceOptions, config: Config): boolean =>
  dataPlaneOf(port.protocol, options, config) !== "proxy" &&
  port.nodePort !== undefined &&
  (service.externalTrafficPolicy === "Cluster" || service.healthCheckNodePort !== undefined);

/**
 * maglevTableSizeOf is the size of every Maglev table of a plan over `eligibleNodes` eligible
 * nodes (the cluster's, before any Service's node selector): `nftables.maglevTableSize` when set,
 * else {@link maglevSize} of the count. Only nodes joining or leaving the eligible list resize it,
 * and only when the count crosses a size's bound (32, 65, 131, 262 nodes); a Service's pods, its
 * health verdicts and node selectors never do. Every LB node counts the same nodes, so it
 * computes the same size.
 */
export const maglevTableSizeOf = (config: Config, eligibleNodes: number): number =>
  config.nftables?.maglevTableSize ?? maglevSize(eligibleNodes);

/** Pin timeouts and map size of a config without them: kube-proxy's established TCP, conntrack's UDP stream. */
export const DEFAULT_FLOW_PINS = { timeoutS: 86_400, udpTimeoutS: 120, size: 65_536 } as const;

const flowPinsOf = (protocol: Protocol, config: Config): { timeoutSeconds: number; size: number } => {
  const n = config.nftables;
  return {
    timeoutSeconds:
      protocol === "UDP"
        ? (n?.udpFlowPinTimeoutS ?? DEFAULT_FLOW_PINS.udpTimeoutS)
        : (n?.flowPinTimeoutS ?? DEFAULT_FLOW_PINS.timeoutS),
    size: n?.flowPinMapSize ?? DEFAULT_FLOW_PINS.size,
  };
};

/**
 * l4Listener is the L4 listener of one port on one VIP in `mode`: `servers` are the port's node
 * servers (weights from the Service's weighting); `tableSize` is the plan's
 * ({@link maglevTableSizeOf}), the same for every listener, never the servers' count, so a
 * server's weight or health never resizes (and so rehashes) a table.
 */
export const l4Listener = (
  service: Service,
  port: ServicePort,
  mode: L4DataPlane,
  vip: { readonly family: IpFamily; readonly ip: Ip },
  healthCheck: HttpCheck | TrackCheck,
  servers: readonly Server[],
  config: Config,
  tableSize: number,
): L4Listener => {
  return {
    id: ident("l4", service.namespace, service.name, port.port, port.protocol.toLowerCase(), `v${vip.family}`),
    service: service.key,
    vip: vip.ip,
    family: vip.family,
    port: port.port,
    protocol: port.protocol,
    mode,
    sourceRanges: service.loadBalancerSourceRanges,
    ...(service.sessionAffinity === "ClientIP"
      ? { affinity: { kind: "clientIp", timeoutSeconds: service.sessionAffinityTimeoutSeconds } }
      : {}),
    healthCheck,
    tableSize,
    // L4 servers carry no track id: verdicts are read per node from HAProxy's check servers.
    servers: servers.map(({ track: _t, ...s }) => s),
    ...(mode === "direct" ? { flowPins: flowPinsOf(port.protocol, config) } : {}),
  };
};
