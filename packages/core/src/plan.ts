import type { HaproxyConfig, HealthCheckConfig, KeepalivedConfig, LbNode, VrrpConfig } from "./config.js";
import type { Diagnostic, Ident, Ip, IpFamily, LbNodeName, NodeName, Port, Protocol, ServiceKey, Vrid } from "./model.js";

/** PROXY protocol towards the backends; `none` when the Service did not ask for it. */
export type ProxyProtocol = "none" | "v1" | "v2";

/** HAProxy balance algorithms Portico plans. */
export type Balance = "roundrobin" | "leastconn" | "source";

/** `status.loadBalancer.ingress[].ipMode` (Kubernetes 1.30+). */
export type IpMode = "VIP" | "Proxy";

/**
 * An HTTP health check against every server of a backend: `GET <path>` on `port`, healthy on
 * `expectStatus`. For `externalTrafficPolicy: Local` the port is the Service's
 * `healthCheckNodePort`; for `Cluster` it is kube-proxy's own health port.
 */
export interface HealthCheck {
  readonly kind: "http";
  readonly source: "healthCheckNodePort" | "kubeProxy";
  readonly path: "/healthz";
  readonly port: Port;
  readonly expectStatus: 200;
  readonly intervalMs: number;
  readonly rise: number;
  readonly fall: number;
}

/** One backend server: an eligible node's address and the Service port's nodePort. */
export interface Server {
  readonly id: Ident;
  readonly node: NodeName;
  readonly address: Ip;
  readonly port: Port;
  /** HAProxy weight, 0-256 (0 drains). */
  readonly weight: number;
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
  /** Sorted by node name. */
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
  /** By VRID. */
  readonly vrrpInstances: readonly VrrpInstance[];
  /** As configured. */
  readonly lbNodes: readonly LbNode[];
  /** Every diagnostic: from ingest (all objects) and from planning. */
  readonly diagnostics: readonly Diagnostic[];
  readonly settings: PlanSettings;
}
