import type { ServiceDefaults } from "./annotations.js";
import type { Announce, Asn, BgpCommunity, BgpDrain } from "./bgp.js";
import type { Cidr, Ip, IpFamily } from "./ip.js";
import type { LabelSelector } from "./labels.js";
import type { LbNodeName, Millis, Port, Vrid } from "./model.js";
import type { SafePath } from "./safePath.js";
import type { TuningConfig } from "./tuning.js";
import type { DataPlane, L4DataPlane } from "./vocabulary.js";

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
  /** How the pool's VIPs are announced; absent means `vrrp`. */
  readonly announce?: Announce;
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
  /** The BGP router id; absent means the node's address, which must then be IPv4. */
  readonly routerId?: Ip;
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
  /**
   * With preemption on, seconds a returning higher-priority node waits (after its advert timeout)
   * before taking its VIPs back; absent means 0 (none). Also delays the first master after a start.
   */
  readonly preemptDelayS?: number;
  /**
   * True (the default when absent): every LB node shares one link with the others, so adverts must
   * arrive with TTL 255 (`min_ttl 255`); false for peers reached through routers.
   */
  readonly peersOnLink?: boolean;
  /** How keepalived learns that HAProxy is gone; absent means the default `script` check (pgrep). */
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
  | { readonly kind: "process" }
  /**
   * `stats`: a `vrrp_script` running `program <socket>` as root, which asks HAProxy's stats socket
   * for `show info`: a worker must answer, so a wedged or stopped worker fails it too.
   */
  | {
      readonly kind: "stats";
      readonly socket: string;
      readonly program: string;
      readonly intervalS: number;
      readonly fall: number;
      readonly rise: number;
    };

/** Where HAProxy's files and sockets live on an LB node (Debian's defaults). */
export interface HaproxyConfig {
  readonly configPath: string;
  readonly statsSocket: string;
  readonly masterSocket: string;
  /**
   * `maxconn` of every frontend: one flooded Service cannot take every connection.
   * Absent (hand-built plans): HAProxy's global limit.
   */
  readonly frontendMaxconn?: number;
  /**
   * Loopback port of HAProxy's local peer, through which a reload hands the stick tables
   * (ClientIP affinity) to the new worker; absent means 10000.
   */
  readonly peersPort?: number;
  /** `nbthread`; absent: HAProxy's default, one thread per CPU it may run on. */
  readonly threads?: number;
  /** Global `maxconn`; absent (hand-built plans): HAProxy's own, from the open-files limit. */
  readonly maxconn?: number;
  /** `hard-stop-after`: how long replaced workers keep their connections; absent: 30 min. */
  readonly hardStopAfterMs?: Millis;
  /** `mworker-max-reloads`: reloads a replaced worker may outlive; absent: 50. */
  readonly maxReloads?: number;
  /** The shortest time between two reloads by `portico run`; absent: no minimum. */
  readonly reloadIntervalMs?: Millis;
  /** The user and group HAProxy's workers run as; absent or `root`: no `user`/`group` line. */
  readonly user?: string;
  readonly group?: string;
  /** The workers' chroot; absent or `none`: no chroot. */
  readonly chroot?: string;
  /** The syslog socket HAProxy logs to; absent: /dev/log. */
  readonly logTarget?: string;
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

/** NftablesConfig: the in-kernel L4 data plane on an LB node and the default data plane per protocol. */
export interface NftablesConfig {
  /** Where the ruleset is written before `nft -f` loads it. */
  readonly configPath: string;
  /** Whether apply and run load it. */
  readonly apply: boolean;
  readonly tcpDataPlane: DataPlane;
  readonly udpDataPlane: L4DataPlane;
  readonly sctpDataPlane: L4DataPlane;
  /** Slots of every Maglev table; absent: `maglevSize` of the plan's eligible nodes (at least 16381). */
  readonly maglevTableSize?: number;
  /** Seconds an idle TCP or SCTP flow through `direct` stays pinned to its node; absent: 86400. */
  readonly flowPinTimeoutS?: number;
  /** Seconds an idle UDP flow through `direct` stays pinned to its node; absent: 120. */
  readonly udpFlowPinTimeoutS?: number;
  /** Flows each `direct` listener pins at most; absent: 65536. */
  readonly flowPinMapSize?: number;
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
  /** BGP announcements for pools with `announce: bgp`; absent when the config has no `bgp` section. */
  readonly bgp?: BgpConfig;
  /** Ports the LB nodes use themselves: no Service gets a frontend on them. */
  readonly reservedPorts: readonly Port[];
  /** The L4 data plane; absent in hand-built configs means the defaults. */
  readonly nftables?: NftablesConfig;
  /** A sharing key joins Services of different namespaces too; absent (hand-built configs): false. */
  readonly shareAcrossNamespaces?: boolean;
  /** With podIpsRoutable: the only addresses pod backends may have; absent or empty: no allow-list. */
  readonly podCidrs?: readonly Cidr[];
}

/** BFD on a BGP session (BIRD's bfd protocol): the session goes down after `multiplier` missed packets. */
export interface BfdConfig {
  readonly enabled: boolean;
  /** Transmit and receive interval. */
  readonly intervalMs: Millis;
  readonly multiplier: number;
}

/** One BGP neighbour of every LB node, with the section's defaults filled in. */
export interface BgpPeer {
  readonly address: Ip;
  readonly asn: Asn;
  /** A file holding BIRD's `password "<secret>";` line, included into the session (TCP MD5). */
  readonly passwordFile?: SafePath;
  readonly bfd: BfdConfig;
  /** The TTL of a multihop session; absent: a directly connected neighbour. */
  readonly multihop?: number;
  readonly holdTimeS: number;
  readonly keepaliveS: number;
  /** Attached to every VIP announced to this peer, sorted. */
  readonly communities: readonly BgpCommunity[];
  /** LOCAL_PREF on iBGP sessions; absent: BIRD's default (100). */
  readonly localPreference?: number;
}

/** BGP settings: who the LB nodes are, who they peer with, how they leave. */
export interface BgpConfig {
  readonly asn: Asn;
  /** Sorted by address. */
  readonly peers: readonly BgpPeer[];
  readonly drain: BgpDrain;
  /** How long a VIP must be servable again before it is announced again. */
  readonly upDelayMs: Millis;
  readonly configPath: SafePath;
  /** BIRD's control socket, for birdc. */
  readonly socket: SafePath;
  /** Whether `portico apply` and `portico run` install bird.conf and reconfigure BIRD. */
  readonly apply: boolean;
}
