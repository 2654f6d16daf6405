import type { EndpointSlice, NodeName, Service } from "../model.js";
import type { NodeEndpoints } from "../servers.js";
import type { HttpCheck, TcpCheck } from "./types.js";

/** The reason of the warning a Local Service gets while it fails open. */
export const FAIL_OPEN_REASON = "NoReadyEndpoint";

/** What that warning says. */
export const FAIL_OPEN_MESSAGE =
  "no endpoint is ready anywhere: the nodes with serving-terminating endpoints serve, each checked on its " +
  "nodePort, rather than every connection being refused";

/**
 * Whether a Service's node backends of one family fail open, as cloud load balancers do: with
 * no endpoint ready anywhere, kube-proxy's healthCheckNodePort answers 503 on every node (it
 * counts ready endpoints only), which would refuse every connection; the nodes with
 * serving-terminating endpoints are then checked by a TCP connect to their nodePort, which
 * kube-proxy still forwards to those pods. `counts` are the family's endpoints by node.
 */
export const failsOpen = (
  service: Service,
  slices: readonly EndpointSlice[],
  counts: () => ReadonlyMap<NodeName, NodeEndpoints>,
): boolean => {
  if (service.externalTrafficPolicy === "Cluster" || slices.length === 0) return false;
  const all = counts();
  if (someReady(all.values())) return false;
  for (const c of all.values()) if (c.serving > 0) return true;
  return false;
};

/** someReady: whether any node of `counts` has a ready endpoint (a walk, not a copy: every Local backend asks). */
export const someReady = (counts: Iterable<NodeEndpoints>): boolean => {
  for (const c of counts) if (c.ready > 0) return true;
  return false;
};

/** The check of a backend failing open: a TCP connect to each server's nodePort, at the Service's check timing. */
export const failOpenCheck = (h: HttpCheck): TcpCheck => ({
  kind: "tcp",
  source: "nodePort",
  intervalMs: h.intervalMs,
  rise: h.rise,
  fall: h.fall,
});
