import type { Ip, ServiceKey } from "../model.js";

/** How a change reaches the data plane: HAProxy's runtime API, a reload, or keepalived's SIGHUP. */
export type ChangePath = "runtime" | "reload" | "keepalived";

/** One server that differs between two plans. */
export interface ServerChange {
  readonly backend: string;
  readonly node: string;
  readonly change: "added" | "removed" | "changed";
  /** For `changed`: the fields that differ (address, port, weight). */
  readonly fields: readonly string[];
}

/** What changes for one Service. */
export interface ServiceDiff {
  readonly key: ServiceKey;
  readonly change: "added" | "removed" | "changed";
  readonly vips: { readonly added: readonly Ip[]; readonly kept: readonly Ip[]; readonly released: readonly Ip[] };
  readonly frontends: { readonly added: readonly string[]; readonly removed: readonly string[] };
  readonly backends: {
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly changed: readonly string[];
  };
  readonly servers: readonly ServerChange[];
  /** The state or conditions to publish changed. */
  readonly status: boolean;
  /** The paths this Service's changes take. */
  readonly paths: readonly ChangePath[];
}

/** VRRP instances that appear, go, or change (VIPs or priorities). */
export interface VrrpChange {
  readonly vrid: number;
  readonly change: "added" | "removed" | "changed";
  /** The master before and after (absent when the instance did not exist). */
  readonly masterBefore?: string;
  readonly masterAfter?: string;
}

/** Everything that differs between two plans, grouped by Service. */
export interface PlanDiff {
  readonly services: readonly ServiceDiff[];
  readonly vrrp: readonly VrrpChange[];
  /**
   * Servers of the shared kube-proxy check backends that differ (a node joining, leaving or
   * changing address): runtime-API changes of the same slot in the check backend and in every
   * Cluster-policy backend, unless `reload` (the check backend appeared, went or outgrew its slots).
   */
  readonly checks: readonly ServerChange[];
  /** Whether HAProxy must reload (anything beyond servers changed). */
  readonly reload: boolean;
  /** Server changes the runtime API can make (Services' servers and the shared check servers). */
  readonly runtimeOps: number;
  readonly summary: {
    readonly added: number;
    readonly removed: number;
    readonly changed: number;
    readonly unchanged: number;
  };
}
