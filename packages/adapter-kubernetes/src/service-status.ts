import { NO_ELIGIBLE_NODE, PORTS_ERROR_CONDITION, type Condition, type Plan, type ServicePlan } from "@portico/core";

/** The finalizer the upstream service controller uses, so a Service's VIP is released before it goes. */
export const CLEANUP_FINALIZER = "service.kubernetes.io/load-balancer-cleanup";

/** The prefix of the condition types Portico owns on a Service. */
const OWN_CONDITION_PREFIX = "portico.dev/";

/** A Service as the API returns it (plain JSON), reduced to what status publishing reads. */
export interface ServiceObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly finalizers?: readonly string[];
    readonly deletionTimestamp?: unknown;
  };
  readonly spec?: { readonly type?: string; readonly loadBalancerClass?: string };
  readonly status?: {
    readonly loadBalancer?: { readonly ingress?: readonly unknown[] };
    readonly conditions?: readonly KubeCondition[];
  };
}

/** A `metav1.Condition` as stored on the Service. */
export interface KubeCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

/** Which Services Portico takes by class: the config's fields of the same names. */
export interface ClassPolicy {
  readonly loadBalancerClass: string;
  readonly handleUnclassed: boolean;
}

/** An Event to record on a Service: the upstream reasons, or Portico's own for its conditions. */
export interface ServiceEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

/** One write the status publisher makes. Names come from the API's own objects, never from configs. */
export type StatusAction =
  | {
      readonly kind: "addFinalizer" | "removeFinalizer";
      readonly namespace: string;
      readonly name: string;
      /** The object's version when this was computed. */
      readonly resourceVersion: string;
      /** The finalizers as read, and as they should be. */
      readonly from: readonly string[];
      readonly finalizers: readonly string[];
    }
  | {
      readonly kind: "patchStatus";
      readonly namespace: string;
      readonly name: string;
      readonly ingress: readonly unknown[] | null;
      /** Every condition as it should be: other controllers' as read, and Portico's. */
      readonly conditions: readonly KubeCondition[];
      /** Portico's condition types to remove (no longer set). */
      readonly removeConditions?: readonly string[];
    }
  | {
      readonly kind: "event";
      readonly namespace: string;
      readonly name: string;
      readonly uid: string;
      readonly event: ServiceEvent;
    };

/** Whether a condition type is Portico's to write: its own types, and the upstream one it sets for ports it cannot serve. */
export const ownCondition = (c: { type: string }): boolean =>
  c.type.startsWith(OWN_CONDITION_PREFIX) || c.type === PORTS_ERROR_CONDITION;
const sameCondition = (a: KubeCondition, b: Condition): boolean =>
  a.status === b.status &&
  a.reason === b.reason &&
  a.message === b.message &&
  (a.observedGeneration ?? 0) === b.observedGeneration;

/**
 * Work out the writes that make the cluster's Services say what the plan says: the status
 * (ingress and Portico's conditions, only when they differ; other controllers' conditions are
 * kept), the cleanup finalizer on every Service Portico serves, and its removal (with the status
 * cleared) once a Service leaves the plan. Services Portico never took are never written to:
 * one not in the plan is cleaned up only if it carries the finalizer and its class is Portico's
 * (`classes`, the config), since the finalizer's name is the upstream one that every
 * load-balancer controller puts on the Services it serves. `now` stamps conditions whose status
 * changed. `holds` names the Services to leave as they are but for adding the finalizer: ones not
 * installed yet, and ones whose frontends still serve on this LB node (their finalizer stays on).
 */
export const reconcileStatus = (
  services: readonly ServiceObject[],
  plan: Plan,
  now: string,
  classes: ClassPolicy,
  holds: (key: string) => boolean = () => false,
): StatusAction[] => {
  const planned = new Map<string, ServicePlan>(plan.services.map((s) => [s.key, s]));
  const actions: StatusAction[] = [];
  const sorted = [...services].sort((a, b) => key(a).localeCompare(key(b)));
  for (const svc of sorted) {
    const namespace = svc.metadata?.namespace;
    const name = svc.metadata?.name;
    if (namespace === undefined || name === undefined) continue;
    const uid = svc.metadata?.uid ?? "";
    const resourceVersion = svc.metadata?.resourceVersion ?? "";
    const finalizers = svc.metadata?.finalizers ?? [];
    const hasFinalizer = finalizers.includes(CLEANUP_FINALIZER);
    const current = svc.status?.conditions ?? [];
    const sp = planned.get(`${namespace}/${name}`);
    const event = (e: ServiceEvent): void => void actions.push({ kind: "event", namespace, name, uid, event: e });

    const held = holds(`${namespace}/${name}`);
    if (sp === undefined) {
      if (held) continue;
      // Not (or no longer) ours. Only a Service of our class that carries the finalizer was ever
      // ours; on a foreign class the finalizer, the status and the deletion are another
      // controller's. The API server clears the class when the type leaves LoadBalancer, so a
      // classless non-LoadBalancer Service is ours if it still carries Portico's own conditions
      // (only Portico writes them): otherwise, with handleUnclassed off, its finalizer would
      // hold a deletion forever.
      const lbClass = svc.spec?.loadBalancerClass;
      const classDropped = lbClass === undefined && svc.spec?.type !== "LoadBalancer" && current.some(ownCondition);
      if (!hasFinalizer || !(isOurClass(lbClass, classes) || classDropped)) continue;
      const hadIngress = (svc.status?.loadBalancer?.ingress ?? []).length > 0;
      if (hadIngress || current.some(ownCondition)) {
        event({ type: "Normal", reason: "DeletingLoadBalancer", message: "Deleting load balancer" });
        actions.push({
          kind: "patchStatus",
          namespace,
          name,
          ingress: null,
          conditions: current.filter((c) => !ownCondition(c)),
          removeConditions: current.filter(ownCondition).map((c) => c.type),
        });
      }
      actions.push({
        kind: "removeFinalizer",
        namespace,
        name,
        resourceVersion,
        from: finalizers,
        finalizers: finalizers.filter((f) => f !== CLEANUP_FINALIZER),
      });
      event({ type: "Normal", reason: "DeletedLoadBalancer", message: "Deleted load balancer" });
      continue;
    }

    if (!hasFinalizer) {
      actions.push({
        kind: "addFinalizer",
        namespace,
        name,
        resourceVersion,
        from: finalizers,
        finalizers: [...finalizers, CLEANUP_FINALIZER],
      });
      event({ type: "Normal", reason: "EnsuringLoadBalancer", message: "Ensuring load balancer" });
    }
    if (held) continue;

    const desiredIngress = sp.status.loadBalancer.ingress.map((i) => ({
      ip: i.ip,
      ipMode: i.ipMode,
      ports: i.ports.map((p) => ({
        port: p.port,
        protocol: p.protocol,
        ...(p.error === undefined ? {} : { error: p.error }),
      })),
    }));
    const currentIngress = svc.status?.loadBalancer?.ingress ?? [];
    const ingressChanged = JSON.stringify(currentIngress) !== JSON.stringify(asStored(desiredIngress, currentIngress));
    const conditions: KubeCondition[] = [
      ...current.filter((c) => !ownCondition(c)),
      ...sp.status.conditions.map((c) => {
        const before = current.find((x) => x.type === c.type);
        // lastTransitionTime moves only when the status itself flips.
        const lastTransitionTime = before !== undefined && before.status === c.status ? before.lastTransitionTime : now;
        return {
          type: c.type,
          status: c.status,
          reason: c.reason,
          message: c.message,
          observedGeneration: c.observedGeneration,
          lastTransitionTime,
        };
      }),
    ];
    const conditionsChanged =
      sp.status.conditions.some((c) => {
        const before = current.find((x) => x.type === c.type);
        return before === undefined || !sameCondition(before, c);
      }) || current.some((c) => ownCondition(c) && !sp.status.conditions.some((x) => x.type === c.type));
    if (!ingressChanged && !conditionsChanged) continue;
    actions.push({
      kind: "patchStatus",
      namespace,
      name,
      ingress: desiredIngress.length === 0 ? null : desiredIngress,
      conditions,
      removeConditions: current
        .filter((c) => ownCondition(c) && !sp.status.conditions.some((x) => x.type === c.type))
        .map((c) => c.type),
    });

    const ready = sp.status.conditions.find((c) => c.type === "portico.dev/LoadBalancerReady");
    const readyBefore = current.find((c) => c.type === "portico.dev/LoadBalancerReady");
    if (
      // Failed, or served as before while the new spec is not (the last good load balancer kept).
      ready?.status === "False" &&
      (readyBefore === undefined || !sameCondition(readyBefore, ready))
    ) {
      event({
        type: "Warning",
        reason: "SyncLoadBalancerFailed",
        message: `Error syncing load balancer: ${ready.reason}: ${ready.message}`,
      });
    } else if (ingressChanged && desiredIngress.length > 0) {
      event({
        type: "Normal",
        reason: currentIngress.length === 0 ? "EnsuredLoadBalancer" : "UpdatedLoadBalancer",
        message: `${currentIngress.length === 0 ? "Ensured" : "Updated"} load balancer: ${desiredIngress.map((i) => i.ip).join(", ")}`,
      });
    }
    const degraded = sp.status.conditions.find((c) => c.type === "portico.dev/Degraded");
    const degradedBefore = current.find((c) => c.type === "portico.dev/Degraded");
    // The upstream reason, once as the Service enters the state (the condition remembers it).
    const noNode = (c: KubeCondition | Condition | undefined): boolean =>
      c?.status === "True" && c.reason === NO_ELIGIBLE_NODE;
    if (noNode(degraded) && !noNode(degradedBefore)) {
      event({
        type: "Warning",
        reason: "UnAvailableLoadBalancer",
        message: `There are no available nodes for LoadBalancer: ${degraded!.message}`,
      });
    } else if (
      degraded?.status === "True" &&
      (degradedBefore === undefined || !sameCondition(degradedBefore, degraded))
    ) {
      event({ type: "Warning", reason: degraded.reason, message: degraded.message });
    }
  }
  return actions;
};

/**
 * The ingress as the API server stores it: one before 1.30 drops `ipMode` (an unknown field), so
 * when every stored entry lacks it the desired one is compared without it; otherwise each
 * publish would write it again, and each write come back as a change, forever.
 */
const asStored = (desired: readonly { ipMode?: string }[], stored: readonly unknown[]): readonly unknown[] => {
  const dropsIpMode = stored.length > 0 && stored.every((i) => typeof i === "object" && i !== null && !("ipMode" in i));
  return dropsIpMode ? desired.map(({ ipMode: _ipMode, ...rest }) => rest) : desired;
};

const isOurClass = (lbClass: string | undefined, classes: ClassPolicy): boolean =>
  lbClass === undefined ? classes.handleUnclassed : lbClass === classes.loadBalancerClass;

const key = (s: ServiceObject): string => `${s.metadata?.namespace ?? ""}/${s.metadata?.name ?? ""}`;
