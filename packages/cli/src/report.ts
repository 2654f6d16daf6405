import type { Diagnostic, Plan, ServicePlan } from "@portico/core";

/** The `status.json` that `portico render` writes: what each Service's status should say. */
export interface StatusReport {
  readonly apiVersion: "portico.dev/v1alpha1";
  readonly kind: "StatusReport";
  /** The LB node the files were rendered for. */
  readonly node: string;
  readonly summary: Summary;
  readonly services: readonly {
    readonly namespace: string;
    readonly name: string;
    readonly state: ServicePlan["state"];
    readonly vips: readonly string[];
    readonly ipMode: ServicePlan["ipMode"];
    readonly status: ServicePlan["status"];
    readonly diagnostics: readonly Diagnostic[];
  }[];
  /** Diagnostics about objects other than the Services above (nodes, slices, unreadable objects). */
  readonly diagnostics: readonly Diagnostic[];
  /** Services that left Portico (type changed, being deleted) whose `status.loadBalancer` is to be cleared. */
  readonly statusToClear: readonly { readonly namespace: string; readonly name: string }[];
}

/** Counts for a one-line summary. */
export interface Summary {
  readonly services: number;
  readonly ready: number;
  readonly partial: number;
  readonly failed: number;
  readonly frontends: number;
  readonly backends: number;
  readonly vrrpInstances: number;
}

/** Count a plan's outcomes. */
export const summarise = (plan: Plan): Summary => ({
  services: plan.services.length,
  ready: plan.services.filter((s) => s.state === "ready").length,
  partial: plan.services.filter((s) => s.state === "partial").length,
  failed: plan.services.filter((s) => s.state === "failed").length,
  frontends: plan.frontends.length,
  backends: plan.backends.length,
  vrrpInstances: plan.vrrpInstances.length,
});

/** Build the status report for one LB node. */
export const statusReport = (plan: Plan, node: string): StatusReport => {
  const keys = new Set<string>(plan.services.map((s) => s.key));
  return {
    apiVersion: "portico.dev/v1alpha1",
    kind: "StatusReport",
    node,
    summary: summarise(plan),
    services: plan.services.map((s) => {
      const [namespace = "", name = ""] = s.key.split("/");
      return {
        namespace,
        name,
        state: s.state,
        vips: s.vips,
        ipMode: s.ipMode,
        status: s.status,
        diagnostics: s.diagnostics,
      };
    }),
    diagnostics: plan.diagnostics.filter(
      (d) => !(d.object.kind === "Service" && keys.has(`${d.object.namespace}/${d.object.name}`)),
    ),
    statusToClear: (plan.statusToClear ?? []).map((k) => {
      const [namespace = "", name = ""] = k.split("/");
      return { namespace, name };
    }),
  };
};
