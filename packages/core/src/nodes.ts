import type { IpFamily } from "./ip.js";
import { ipFamily, type Ip } from "./ip.js";
import type { Node } from "./model.js";

/**
 * Nodes carrying this label are never load-balancer backends, unless its value is one Go's
 * `strconv.ParseBool` reads as false (`0`, `f`, `F`, `false`, `False`, `FALSE`).
 */
export const EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
/** The taint the cluster autoscaler puts on a node it is about to delete. */
export const TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler";

// What Go's strconv.ParseBool reads as false; anything else (true, or unparsable) excludes, as
// the label's presence does upstream.
const PARSE_BOOL_FALSE: ReadonlySet<string> = new Set(["0", "f", "F", "false", "False", "FALSE"]);

/**
 * Whether a node may be a backend, as the upstream service controller decides it: no Ready
 * check (health checks handle readiness, and dropping NotReady nodes would churn every config
 * during a control-plane outage); excluded by label, by the autoscaler's deletion taint, and
 * while being deleted.
 */
export const isEligible = (node: Node): boolean => {
  const label = node.labels[EXCLUDE_LABEL];
  if (label !== undefined && !PARSE_BOOL_FALSE.has(label)) return false;
  if (node.taints.some((t) => t.key === TO_BE_DELETED_TAINT)) return false;
  return !node.deleting;
};

/** The node's first InternalIP of a family: its backend address for VIPs of that family. */
export const backendAddress = (node: Node, family: IpFamily): Ip | undefined =>
  node.internalIps.find((ip) => ipFamily(ip) === family);
