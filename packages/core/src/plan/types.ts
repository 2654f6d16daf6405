import type {
  BgpConfig,
  HaproxyConfig,
  HealthCheckConfig,
  KeepalivedConfig,
  LbNode,
  NftablesConfig,
  VrrpConfig,
} from "../settings.js";
import type {
  Cidr,
  Diagnostic,
  Ident,
  Ip,
  IpFamily,
  LbNodeName,
  Millis,
  NodeName,
  Port,
  Protocol,
  ServiceKey,
  Vrid,
} from "../model.js";
import type { Balance, L4DataPlane, ProxyProtocol } from "../vocabulary.js";
import type { BgpAnnouncement } from "./announce.js";

/** `status.loadBalancer.ingress[].ipMode` (Kubernetes 1.30+). */
export type IpMode = "VIP" | "Proxy";

/**
 * An HTTP health check against every server of a backend: `GET <path>` on `port`, healthy on
 * `expectStatus`. For `externalTrafficPolicy: Local` the port is the Service's
 * `healthCheckNodePort`; kube-proxy's own health port is checked once per node in the shared
 * check backend ({@link Plan.checks}).
 */
export interface HttpCheck {
  readonly kind: "http";
  readonly source: "healthCheckNodePort" | "kubeProxy";
  readonly path: "/healthz";
  readonly port: Port;
  readonly expectStatus: 200;
  readonly intervalMs: number;
  readonly rise: number;
  readonly fall: number;
}

/**
 * A TCP connect check on the server's own address and port: a pod's (pods have no /healthz), or
 * a node's nodePort while a Local Service fails open (no endpoint ready anywhere).
 */
export interface TcpCheck {
  readonly kind: "tcp";
  readonly source: "endpoint" | "nodePort";
  readonly intervalMs: number;
  readonly rise: number;
  readonly fall: number;
}

/**
 * The servers follow the state of the same node's server in a shared check backend (HAProxy
 * `track`): for `externalTrafficPolicy: Cluster`, one kube-proxy check per node and family serves
 * every Service, so adding Services adds no checks; for `Local`, one check of the Service's
 * `healthCheckNodePort` per node and family serves every port of the Service.
 */
export interface TrackCheck {
  readonly kind: "track";
  readonly source: "kubeProxy" | "healthCheckNodePort";
  /** The id of a {@link CheckBackend} of the plan. */
  readonly backend: Ident;
}

/** How a backend's servers are health-checked. */
export type HealthCheck = HttpCheck | TcpCheck | TrackCheck;

/** One backend server: an eligible node's address and the Service port's nodePort. */
export interface Server {
  readonly id: Ident;
  readonly node: NodeName;
  readonly address: Ip;
  readonly port: Port;
  /** HAProxy weight, 0-256 (0 drains). */
  readonly weight: number;
  /** With a `track` check: the id of this node's server in the check backend. */
  readonly track?: Ident;
}

/** Client-IP session affinity (`sessionAffinity: ClientIP`): a stick table on the source address. */
export interface Affinity {
  readonly kind: "clientIp";
  /** `sessionAffinityConfig.clientIP.timeoutSeconds`: the stick entry's expiry. */
  readonly timeoutSeconds: number;
}

/** Per-backend timeouts from the Service's options; absent ones come from HAProxy's defaults section. */
export interface BackendTimeouts {
  readonly connectMs?: Millis;
  readonly serverMs?: Millis;
  readonly tunnelMs?: Millis;
}

/**
 * A backend that only health-checks: one server per node, checked on kube-proxy's health port
 * (shared by every Cluster-policy Service) or on one Local Service's `healthCheckNodePort`.
 */
export interface CheckBackend {
  readonly id: Ident;
  readonly healthCheck: HttpCheck;
  /** Sorted by node name; `port` is the health port. */
  readonly servers: readonly Server[];
}

/**
 * A UDP or SCTP listener that HAProxy cannot serve: planned in full (VIP, port, servers) so a
 * later data plane (IPVS) can, and reported per port in the Service's status meanwhile.
 */
export interface UnservedListener {
  readonly id: Ident;
  readonly service: ServiceKey;
  readonly vip: Ip;
  readonly port: Port;
  readonly protocol: "UDP" | "SCTP";
  readonly servers: readonly Server[];
  readonly reason: "ProtocolNotServed";
}

/** The servers behind one Service port in one address family. */
export interface Backend {
  readonly id: Ident;
  readonly service: ServiceKey;
  readonly servicePort: Port;
  readonly family: IpFamily;
  readonly balance: Balance;
  readonly proxyProtocol: ProxyProtocol;
  readonly healthCheck: HealthCheck;
  /**
   * `nodePort` (also when absent): nodes' address:nodePort; `pod`: endpoints' pod IP:port
   * (allocateLoadBalancerNodePorts: false).
   */
  readonly target?: "nodePort" | "pod";
  readonly affinity?: Affinity;
  readonly timeouts?: BackendTimeouts;
  /** Sorted by node name (pod backends: by address). */
  readonly servers: readonly Server[];
}

/** A listener on one VIP and port. */
export interface Frontend {
  readonly id: Ident;
  readonly service: ServiceKey;
  readonly vip: Ip;
  readonly port: Port;
  readonly protocol: "TCP";
  readonly backend: Ident;
  /** Canonical CIDRs the frontend admits, sorted; empty (or absent) admits every source. */
  readonly sourceRanges?: readonly Cidr[];
  /** `portico.dev/timeout-client`; absent: HAProxy's defaults section. */
  readonly clientTimeoutMs?: Millis;
}

/** One LB node's priority in a VRRP instance. */
export interface VrrpPriority {
  readonly lbNode: LbNodeName;
  /** 1-254; the highest is the master. */
  readonly priority: number;
}

/** A VRRP instance: a set of VIPs that move together between LB nodes. */
export interface VrrpInstance {
  readonly id: Ident;
  readonly vrid: Vrid;
  readonly family: IpFamily;
  /** Sorted. */
  readonly vips: readonly Ip[];
  /** Highest first; the first entry is the intended master. */
  readonly priorities: readonly VrrpPriority[];
}

/** A Kubernetes-style condition for a Service's `status.conditions`. */
export interface Condition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
}

/** One port of an ingress entry; `error` is set for ports that are not served. */
export interface IngressPort {
  readonly port: Port;
  readonly protocol: Protocol;
  readonly error?: string;
}

/** One `status.loadBalancer.ingress[]` entry. */
export interface Ingress {
  readonly ip: Ip;
  readonly ipMode: IpMode;
  readonly ports: readonly IngressPort[];
}

/** The status Portico publishes for a Service. */
export interface ServiceStatus {
  readonly loadBalancer: { readonly ingress: readonly Ingress[] };
  readonly conditions: readonly Condition[];
}

/**
 * The outcome for one Service: `ready` when every port is served, `partial` when some are,
 * `failed` when none is (no VIP, invalid object); `diagnostics` says why.
 */
export interface ServicePlan {
  readonly key: ServiceKey;
  readonly state: "ready" | "partial" | "failed";
  readonly vips: readonly Ip[];
  readonly ipMode: IpMode;
  readonly proxyProtocol: ProxyProtocol;
  readonly frontends: readonly Ident[];
  readonly status: ServiceStatus;
  readonly diagnostics: readonly Diagnostic[];
}

/** The settings from the config that renderers need, carried so a Plan renders on its own. */
export interface PlanSettings {
  readonly haproxy: HaproxyConfig;
  readonly keepalived: KeepalivedConfig;
  readonly vrrp: VrrpConfig;
  readonly healthCheck: HealthCheckConfig;
  /** The config's `bgp` section; absent without one. */
  readonly bgp?: BgpConfig;
  /** Absent in hand-built plans: the defaults. */
  readonly nftables?: NftablesConfig;
}

/**
 * The typed desired state: what every LB node should run. Every list is sorted by a stable key,
 * so equal inputs give byte-identical renders.
 */
export interface Plan {
  /** Every Service Portico is responsible for, by key. */
  readonly services: readonly ServicePlan[];
  /** By id. */
  readonly frontends: readonly Frontend[];
  /** By id. */
  readonly backends: readonly Backend[];
  // The three lists below are optional only so hand-built plans from before them still type-check;
  // the planner always sets them, and absent means empty.
  /** The shared health checks that backends track (kube-proxy's per family, each Local Service's), by id. */
  readonly checks?: readonly CheckBackend[];
  /** UDP/SCTP listeners planned but not served by HAProxy, by id. */
  readonly unservedListeners?: readonly UnservedListener[];
  /** The ports the in-kernel L4 data plane (nftables) serves, by id. */
  readonly l4Listeners?: readonly L4Listener[];
  /**
   * Services that are no longer Portico's (type changed away from LoadBalancer, being deleted)
   * but still carry a load-balancer status: their `status.loadBalancer` is to be cleared. Sorted.
   */
  readonly statusToClear?: readonly ServiceKey[];
  /** By VRID. */
  readonly vrrpInstances: readonly VrrpInstance[];
  /** The VIPs of pools with `announce: bgp` and who announces them, by address; absent means none. */
  readonly announcements?: readonly BgpAnnouncement[];
  /** As configured. */
  readonly lbNodes: readonly LbNode[];
  /** Every diagnostic: from ingest (all objects) and from planning. */
  readonly diagnostics: readonly Diagnostic[];
  readonly settings: PlanSettings;
}

/**
 * L4Listener is one VIP, port and protocol served by the in-kernel L4 data plane: `nat` (DNAT to
 * a server's address and nodePort, source NAT so replies come back) or `direct` (the packet,
 * still addressed to the VIP, forwarded to the chosen node's MAC). The node is chosen by the
 * Maglev table of the servers (`maglevTable` of their nodes and weights at `tableSize`), the same
 * on every LB node.
 */
export interface L4Listener {
  readonly id: Ident;
  readonly service: ServiceKey;
  readonly vip: Ip;
  readonly family: IpFamily;
  readonly port: Port;
  readonly protocol: Protocol;
  readonly mode: L4DataPlane;
  /** Canonical CIDRs admitted, sorted; empty (or absent) admits every source. Others are dropped. */
  readonly sourceRanges?: readonly Cidr[];
  /** ClientIP affinity: the table is indexed by a hash of the source address only. */
  readonly affinity?: Affinity;
  /** Whose verdicts move a server in or out of the table (run by HAProxy, never twice). */
  readonly healthCheck: HttpCheck | TrackCheck;
  /**
   * The Maglev table's size, the same for every listener of the plan: config
   * `nftables.maglevTableSize` when set, else `maglevSize` of the plan's eligible nodes (the
   * cluster's, not this listener's servers), so pods scaling, health verdicts and node selectors
   * never resize it; only the eligible count crossing a size's bound does.
   */
  readonly tableSize: number;
  /** Sorted by node name; weight 0 leaves a server out of the table. */
  readonly servers: readonly Server[];
  /**
   * `direct` listeners: how long an idle flow stays pinned to its node and how many flows a pin
   * map holds (config `nftables.flowPinTimeout`, `udpFlowPinTimeout`, `flowPinMapSize`); absent:
   * the adapter's defaults. ClientIP affinity pins by source address for the affinity's timeout.
   */
  readonly flowPins?: { readonly timeoutSeconds: number; readonly size: number };
}
