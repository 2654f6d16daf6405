/**
 * Portico's Kubernetes adapter: informers that turn the cluster into snapshots for the core's
 * planner, the status publisher (status, finalizer, Events) and Lease leader election.
 *
 * @packageDocumentation
 */
export { Coalescer, type CoalesceTiming } from "./coalesce.js";
export { LEASE_DEFAULTS, LeaderElector, type LeaderCallbacks, type LeaseOptions } from "./leader.js";
export { EVENT_SOURCE, publishStatus, type PublishReport } from "./publisher.js";
export { SnapshotSource } from "./source.js";
export {
  CLEANUP_FINALIZER,
  reconcileStatus,
  type ClassPolicy,
  type KubeCondition,
  type ServiceEvent,
  type ServiceObject,
  type StatusAction,
} from "./status.js";
export { ClusterWatch, type Backoff, type ClusterWatchOptions, type WatchHealth } from "./watch.js";
