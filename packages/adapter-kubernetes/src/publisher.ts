import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { match } from "ts-pattern";
import { ownCondition, type StatusAction } from "./service-status.js";

/** The outcome of applying status actions. */
export interface PublishReport {
  readonly applied: number;
  /** Actions that failed, with the API's reason (a conflict, 409 or 422, is retried on the next plan). */
  readonly failed: readonly { readonly action: StatusAction; readonly message: string }[];
}

/** The component name on Events, as `kubectl describe` shows it. */
export const EVENT_SOURCE = "portico";

// The API caps an Event message at 1024 bytes.
const MAX_EVENT_MESSAGE = 1000;

/**
 * Apply status actions through the real client: status with a strategic merge patch of Portico's
 * conditions (by type) and the ingress on the `status` subresource, finalizers with a JSON patch whose `test` states the list they were computed from
 * (after a concurrent change the test fails with 422, and it is retried on the next plan), Events
 * as core/v1 Events. `isLeader` is asked before every write, so losing the lease stops writes at once.
 */
export const publishStatus = async (
  kc: KubeConfig,
  actions: readonly StatusAction[],
  isLeader: () => boolean,
  now: () => Date = () => new Date(),
): Promise<PublishReport> => {
  const core = kc.makeApiClient(CoreV1Api);
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  const strategic = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);
  let applied = 0;
  const failed: { action: StatusAction; message: string }[] = [];
  for (const action of actions) {
    if (!isLeader()) break;
    try {
      await match(action)
        .with({ kind: "patchStatus" }, (a) =>
          // A strategic merge of Portico's conditions only (merged by type), so a condition another
          // controller writes meanwhile is never overwritten; the ingress list is atomic.
          core.patchNamespacedServiceStatus(
            {
              name: a.name,
              namespace: a.namespace,
              body: {
                status: {
                  loadBalancer: { ingress: a.ingress },
                  conditions: [
                    ...a.conditions.filter(ownCondition),
                    ...(a.removeConditions ?? []).map((type) => ({ type, $patch: "delete" })),
                  ],
                },
              },
            },
            strategic,
          ),
        )
        .with({ kind: "addFinalizer" }, { kind: "removeFinalizer" }, (a) =>
          // The precondition covers the finalizer list only (a JSON patch `test`), so our own status
          // write a moment earlier does not conflict; with no list yet, the object's version guards.
          a.from.length > 0
            ? core.patchNamespacedService(
                {
                  name: a.name,
                  namespace: a.namespace,
                  body: [
                    { op: "test", path: "/metadata/finalizers", value: a.from },
                    a.finalizers.length === 0
                      ? { op: "remove", path: "/metadata/finalizers" }
                      : { op: "replace", path: "/metadata/finalizers", value: a.finalizers },
                  ],
                },
                setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
              )
            : core.patchNamespacedService(
                {
                  name: a.name,
                  namespace: a.namespace,
                  body: { metadata: { finalizers: a.finalizers, resourceVersion: a.resourceVersion } },
                },
                merge,
              ),
        )
        .with({ kind: "event" }, (a) => {
          const time = now();
          return core.createNamespacedEvent({
            namespace: a.namespace,
            body: {
              metadata: { generateName: `${a.name}.`, namespace: a.namespace },
              involvedObject: { kind: "Service", apiVersion: "v1", namespace: a.namespace, name: a.name, uid: a.uid },
              type: a.event.type,
              reason: a.event.reason,
              message:
                a.event.message.length > MAX_EVENT_MESSAGE
                  ? `${a.event.message.slice(0, MAX_EVENT_MESSAGE - 1)}…`
                  : a.event.message,
              source: { component: EVENT_SOURCE },
              reportingComponent: EVENT_SOURCE,
              firstTimestamp: time,
              lastTimestamp: time,
              count: 1,
            },
          });
        })
        .exhaustive();
      applied++;
    } catch (e) {
      const code = (e as { code?: number }).code;
      failed.push({ action, message: code === undefined ? (e as Error).message : `HTTP ${code}` });
    }
  }
  return { applied, failed };
};
