/**
 * Test builders for Portico: Kubernetes-shaped objects with sensible defaults, in the shape
 * `kubectl get -o json` prints, so tests go through the same ingest path as users' input.
 */
import { parseConfig, formatConfigIssues } from "../config.js";
import type { Config } from "../settings.js";
import { ingest } from "../ingest.js";
import type { ClusterSnapshot } from "../model.js";
import { plan } from "../plan/plan.js";
import type { Plan } from "../plan/types.js";

type Json = Record<string, unknown>;

/** A port of {@link aService}. */
export interface PortInput {
  readonly name?: string;
  readonly port: number;
  readonly nodePort?: number;
  readonly protocol?: string;
}

/** Options for {@link aService}; every field has a default. */
export interface ServiceInput {
  readonly namespace?: string;
  readonly name?: string;
  readonly created?: string;
  readonly type?: string;
  readonly policy?: "Local" | "Cluster";
  readonly healthCheckNodePort?: number;
  readonly ports?: readonly PortInput[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly loadBalancerClass?: string;
  readonly statusIps?: readonly string[];
  readonly ipFamilies?: readonly string[];
  readonly deleting?: boolean;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly ipFamilyPolicy?: "SingleStack" | "PreferDualStack" | "RequireDualStack";
  readonly loadBalancerIP?: string;
  readonly loadBalancerSourceRanges?: readonly string[];
  readonly sessionAffinity?: "None" | "ClientIP";
  readonly sessionAffinityTimeoutSeconds?: number;
  readonly allocateLoadBalancerNodePorts?: boolean;
}

/** A `type: LoadBalancer` Service, Cluster policy, one TCP port 80 -> nodePort 30080. */
export const aService = (o: ServiceInput = {}): Json => {
  const policy = o.policy ?? "Cluster";
  const ports = o.ports ?? [{ name: "http", port: 80, nodePort: 30080 }];
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: o.name ?? "web",
      namespace: o.namespace ?? "default",
      uid: `uid-${o.namespace ?? "default"}-${o.name ?? "web"}`,
      generation: o.generation ?? 1,
      creationTimestamp: o.created ?? "2026-01-01T00:00:00Z",
      ...(o.annotations === undefined ? {} : { annotations: { ...o.annotations } }),
      ...(o.labels === undefined ? {} : { labels: { ...o.labels } }),
      ...(o.deleting === true ? { deletionTimestamp: "2026-02-01T00:00:00Z" } : {}),
    },
    spec: {
      type: o.type ?? "LoadBalancer",
      externalTrafficPolicy: policy,
      ...(policy === "Local" ? { healthCheckNodePort: o.healthCheckNodePort ?? 32000 } : {}),
      ...(o.loadBalancerClass === undefined ? {} : { loadBalancerClass: o.loadBalancerClass }),
      ipFamilies: o.ipFamilies ?? ["IPv4"],
      ...(o.ipFamilyPolicy === undefined ? {} : { ipFamilyPolicy: o.ipFamilyPolicy }),
      ...(o.loadBalancerIP === undefined ? {} : { loadBalancerIP: o.loadBalancerIP }),
      ...(o.loadBalancerSourceRanges === undefined
        ? {}
        : { loadBalancerSourceRanges: [...o.loadBalancerSourceRanges] }),
      ...(o.sessionAffinity === undefined ? {} : { sessionAffinity: o.sessionAffinity }),
      ...(o.sessionAffinityTimeoutSeconds === undefined
        ? {}
        : { sessionAffinityConfig: { clientIP: { timeoutSeconds: o.sessionAffinityTimeoutSeconds } } }),
      ...(o.allocateLoadBalancerNodePorts === undefined
        ? {}
        : { allocateLoadBalancerNodePorts: o.allocateLoadBalancerNodePorts }),
      ports: ports.map((p) => ({
        name: p.name ?? `p${p.port}`,
        port: p.port,
        protocol: p.protocol ?? "TCP",
        targetPort: p.port,
        ...(p.nodePort === undefined ? {} : { nodePort: p.nodePort }),
      })),
    },
    status: {
      loadBalancer: o.statusIps === undefined ? {} : { ingress: o.statusIps.map((ip) => ({ ip, ipMode: "VIP" })) },
    },
  };
};

/** Options for {@link aNode}. */
export interface NodeInput {
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly { key: string; value?: string; effect: string }[];
  readonly deleting?: boolean;
  /** More InternalIPs (e.g. the IPv6 one). */
  readonly moreIps?: readonly string[];
}

/** A Node with one InternalIP. */
export const aNode = (name: string, ip: string, o: NodeInput = {}): Json => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name,
    labels: { "kubernetes.io/hostname": name, ...o.labels },
    ...(o.deleting === true ? { deletionTimestamp: "2026-02-01T00:00:00Z" } : {}),
  },
  spec: o.taints === undefined ? {} : { taints: o.taints.map((t) => ({ ...t })) },
  status: {
    addresses: [
      { type: "InternalIP", address: ip },
      ...(o.moreIps ?? []).map((a) => ({ type: "InternalIP", address: a })),
      { type: "Hostname", address: name },
    ],
  },
});

/** An endpoint of {@link anEndpointSlice}. */
export interface EndpointInput {
  readonly ip: string;
  readonly node: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

/** Options for {@link anEndpointSlice}. */
export interface SliceInput {
  readonly addressType?: "IPv4" | "IPv6";
  readonly ports?: readonly { name: string; port: number; protocol?: string }[];
}

/** An EndpointSlice for `namespace/service` with the given endpoints. */
export const anEndpointSlice = (
  namespace: string,
  service: string,
  endpoints: readonly EndpointInput[],
  suffix = "abcde",
  o: SliceInput = {},
): Json => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { name: `${service}-${suffix}`, namespace, labels: { "kubernetes.io/service-name": service } },
  addressType: o.addressType ?? "IPv4",
  endpoints: endpoints.map((e) => ({
    addresses: [e.ip],
    nodeName: e.node,
    conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
  })),
  ports: (o.ports ?? [{ name: "http", port: 8080, protocol: "TCP" }]).map((p) => ({ protocol: "TCP", ...p })),
});

/** Options for {@link aConfig}. */
export interface ConfigInput {
  readonly pools?: readonly {
    name: string;
    addresses: readonly string[];
    autoAssign?: boolean;
    namespaces?: readonly string[];
    serviceSelector?: Json;
  }[];
  readonly lbNodes?: readonly { name: string; address: string; interface: string }[];
  readonly handleUnclassed?: boolean;
  readonly loadBalancerClass?: string;
  readonly vrrp?: Json;
  readonly healthCheck?: Json;
  readonly haproxy?: Json;
  readonly serviceDefaults?: Json;
  readonly maxBackendsPerService?: number;
  readonly podIpsRoutable?: boolean;
  readonly reservedPorts?: readonly number[];
  readonly shareAcrossNamespaces?: boolean;
  readonly podCidrs?: readonly string[];
}

/** The documented example config, with overrides. */
export const aConfig = (o: ConfigInput = {}): Json => ({
  apiVersion: "portico.dev/v1alpha1",
  kind: "PorticoConfig",
  loadBalancerClass: o.loadBalancerClass ?? "portico.dev/haproxy",
  handleUnclassed: o.handleUnclassed ?? true,
  pools: (o.pools ?? [{ name: "default", addresses: ["198.18.100.10-198.18.100.50", "2001:db8:100::/120"] }]).map(
    (p) => ({
      ...p,
      addresses: [...p.addresses],
      ...(p.namespaces === undefined ? {} : { namespaces: [...p.namespaces] }),
    }),
  ),
  lbNodes: (
    o.lbNodes ?? [
      { name: "lb1", address: "198.18.1.1", interface: "eth0" },
      { name: "lb2", address: "198.18.1.2", interface: "eth0" },
    ]
  ).map((n) => ({ ...n })),
  ...(o.vrrp === undefined ? {} : { vrrp: o.vrrp }),
  ...(o.healthCheck === undefined ? {} : { healthCheck: o.healthCheck }),
  ...(o.haproxy === undefined ? {} : { haproxy: o.haproxy }),
  ...(o.serviceDefaults === undefined ? {} : { serviceDefaults: o.serviceDefaults }),
  ...(o.maxBackendsPerService === undefined ? {} : { maxBackendsPerService: o.maxBackendsPerService }),
  ...(o.podIpsRoutable === undefined ? {} : { podIpsRoutable: o.podIpsRoutable }),
  ...(o.reservedPorts === undefined ? {} : { reservedPorts: [...o.reservedPorts] }),
  ...(o.shareAcrossNamespaces === undefined ? {} : { shareAcrossNamespaces: o.shareAcrossNamespaces }),
  ...(o.podCidrs === undefined ? {} : { podCidrs: [...o.podCidrs] }),
});

/** {@link aConfig}, parsed; throws on an invalid config (tests only). */
export const aParsedConfig = (o: ConfigInput = {}): Config =>
  parseConfig(aConfig(o)).match(
    (c) => c,
    (issues) => {
      throw new Error(`invalid test config:\n${formatConfigIssues(issues)}`);
    },
  );

/** Ingest objects into a snapshot. */
export const aSnapshot = (...objects: readonly unknown[]): ClusterSnapshot => ingest(objects);

/** Ingest and plan in one step. */
export const planOf = (objects: readonly unknown[], config: Config = aParsedConfig()): Plan =>
  plan(ingest(objects), config);

/** Three worker nodes, 198.18.2.1-3. */
export const threeNodes = (): Json[] => [
  aNode("worker-1", "198.18.2.1"),
  aNode("worker-2", "198.18.2.2"),
  aNode("worker-3", "198.18.2.3"),
];
