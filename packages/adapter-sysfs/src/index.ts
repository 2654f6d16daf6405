/**
 * @portico/adapter-sysfs reads an LB node's CPU, NUMA and NIC-queue topology from /sys and /proc
 * and applies the RPS, RFS, XPS and IRQ-affinity writes planned by @portico/core's `planTuning`,
 * reading every write back.
 */
export { applyTuning, sameValue, type ApplyOptions, type ApplyReport, type WriteOutcome } from "./apply.js";
export { irqbalanceRunning } from "./irqbalance.js";
export { readTopology, type TopologyOptions } from "./topology.js";
export type { Roots } from "./_paths.js";
