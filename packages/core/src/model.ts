import { err, ok, type Result } from "neverthrow";
import type { Cidr, Ip, IpFamily } from "./ip.js";

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A TCP/UDP/SCTP port number, 1-65535. */
export type Port = Brand<number, "Port">;
/** `namespace/name` of a Service; both parts are validated DNS-1123 names. */
export type ServiceKey = Brand<string, "ServiceKey">;
/** A validated Kubernetes Node name (DNS-1123 subdomain). */
export type NodeName = Brand<string, "NodeName">;
/** The name of a load-balancer node from the Portico config. */
export type LbNodeName = Brand<string, "LbNodeName">;
/** A VRRP virtual router id, 1-255. */
export type Vrid = Brand<number, "Vrid">;
/** A duration in milliseconds, a non-negative integer. */
export type Millis = Brand<number, "Millis">;
/**
 * A derived identifier that is safe in any config file: `[a-z0-9_]`, at most 63 characters.
 * Never a raw Kubernetes name; see `ident()` in the planner.
 */
export type Ident = Brand<string, "Ident">;

/** IDENT_PATTERN: an {@link Ident}'s grammar as a regular expression source, for patterns that read one back. */
export const IDENT_PATTERN = "[a-z0-9_-]{1,63}";
const IDENT = new RegExp(`^${IDENT_PATTERN}$`);

/** isIdent: whether a value has the shape of an {@link Ident} (`[a-z0-9_-]`, 1-63), as a hand-built plan must. */
export const isIdent = (value: unknown): value is Ident => typeof value === "string" && IDENT.test(value);

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parse a port number (1-65535). */
export const parsePort = (value: unknown): Result<Port, string> =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535
    ? ok(value as Port)
    : err(`${JSON.stringify(value) ?? String(value)} is not a port number (1-65535)`);

/** Parse a VRID (1-255). */
export const parseVrid = (value: unknown): Result<Vrid, string> =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 255
    ? ok(value as Vrid)
    : err(`${JSON.stringify(value) ?? String(value)} is not a VRRP router id (1-255)`);

/** Parse a DNS-1123 label (namespace names, Service names): at most 63 characters. */
export const isDns1123Label = (value: unknown): value is string =>
  typeof value === "string" && value.length <= 63 && DNS1123_LABEL.test(value);

/** Parse a DNS-1123 subdomain (Node names): at most 253 characters. */
export const isDns1123Subdomain = (value: unknown): value is string =>
  typeof value === "string" && value.length <= 253 && DNS1123_SUBDOMAIN.test(value);

/** Build a Service key from validated parts. */
export const serviceKey = (namespace: string, name: string): ServiceKey => `${namespace}/${name}` as ServiceKey;

/** The Kubernetes Service protocols. */
export type Protocol = "TCP" | "UDP" | "SCTP";

/** One port of a Service, as Portico reads it. */
export interface ServicePort {
  readonly name: string;
  readonly protocol: Protocol;
  readonly port: Port;
  /** Absent when `allocateLoadBalancerNodePorts: false` or not yet allocated. */
  readonly nodePort?: Port;
}

/** `externalTrafficPolicy`. */
export type TrafficPolicy = "Cluster" | "Local";

/** `spec.ipFamilyPolicy`. */
export type IpFamilyPolicy = "SingleStack" | "PreferDualStack" | "RequireDualStack";

/** `spec.sessionAffinity`. */
export type SessionAffinity = "None" | "ClientIP";

/** A `type: LoadBalancer` (or formerly so) Service, parsed. Raw strings stay here; configs never see them. */
export interface Service {
  readonly key: ServiceKey;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly generation: number;
  /** RFC 3339 second-precision UTC time; empty when the object has none. */
  readonly creationTimestamp: string;
  readonly type: string;
  readonly loadBalancerClass?: string;
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly healthCheckNodePort?: Port;
  readonly ipFamilies: readonly IpFamily[];
  readonly ipFamilyPolicy: IpFamilyPolicy;
  readonly ports: readonly ServicePort[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** `spec.loadBalancerIP` (deprecated upstream, still honoured), parsed. */
  readonly loadBalancerIP?: Ip;
  /**
   * `spec.loadBalancerSourceRanges` (or, when that is empty, the legacy annotation
   * `service.beta.kubernetes.io/load-balancer-source-ranges`): canonical, deduplicated, sorted
   * CIDRs. Empty admits every source.
   */
  readonly loadBalancerSourceRanges: readonly Cidr[];
  /** False when some source range could not be parsed: the Service is then not served at all. */
  readonly sourceRangesValid: boolean;
  readonly sessionAffinity: SessionAffinity;
  /** `sessionAffinityConfig.clientIP.timeoutSeconds`, 1-86400 (Kubernetes' default 10800). */
  readonly sessionAffinityTimeoutSeconds: number;
  /** `spec.allocateLoadBalancerNodePorts`; true unless set to false. */
  readonly allocateLoadBalancerNodePorts: boolean;
  /** Addresses currently published in `status.loadBalancer.ingress[].ip` (the sticky allocation). */
  readonly statusIps: readonly Ip[];
  readonly deleting: boolean;
}

/** A Node taint. */
export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: string;
}

/** A Kubernetes Node, parsed. */
export interface Node {
  readonly name: NodeName;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly deleting: boolean;
  /** `InternalIP` addresses in the order the Node lists them. */
  readonly internalIps: readonly Ip[];
}

/** One endpoint of an EndpointSlice. */
export interface Endpoint {
  readonly addresses: readonly Ip[];
  readonly nodeName?: NodeName;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

/** A discovery.k8s.io/v1 EndpointSlice, parsed. */
export interface EndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** The owning Service, from the `kubernetes.io/service-name` label. */
  readonly service: ServiceKey;
  readonly addressType: "IPv4" | "IPv6" | "FQDN";
  readonly endpoints: readonly Endpoint[];
  readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol: Protocol }[];
}

/** Everything Portico knows about the cluster at one moment. */
export interface ClusterSnapshot {
  readonly services: readonly Service[];
  readonly nodes: readonly Node[];
  readonly endpointSlices: readonly EndpointSlice[];
  /** Problems found while reading the objects; objects with errors are left out of the lists. */
  readonly diagnostics: readonly Diagnostic[];
}

/** What a diagnostic is about. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** How bad a diagnostic is: an error stops that object (or port) from being served. */
export type Severity = "error" | "warning" | "info";

/**
 * A problem with one object, one field. `reason` is a stable CamelCase code that scripts and
 * Service conditions use; `message` is for people and names the object and the field.
 */
export interface Diagnostic {
  readonly severity: Severity;
  readonly reason: string;
  readonly object: ObjectRef;
  readonly field?: string;
  readonly message: string;
}

/** Re-exported so the model reads in one place. */
export type { Cidr, Ip, IpFamily };
