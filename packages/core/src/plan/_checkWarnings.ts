import { ANNOTATIONS, type ServiceOptions } from "../annotations.js";
import type { EndpointSlice, Service } from "../model.js";
import type { Say } from "./services.js";

/**
 * warnAboutChecks says what is wrong or ignored in how a Service asks to be health-checked: a
 * Local Service without a healthCheckNodePort, check or weighting annotations a Cluster Service
 * cannot use, pods-per-node weighting with no EndpointSlices to count yet.
 */
export const warnAboutChecks = (
  service: Service,
  options: ServiceOptions,
  slices: readonly EndpointSlice[],
  usesNodePorts: boolean,
  say: Say,
): void => {
  if (service.externalTrafficPolicy === "Local" && service.healthCheckNodePort === undefined && usesNodePorts) {
    say(
      "error",
      "MissingHealthCheckNodePort",
      "spec.healthCheckNodePort",
      "externalTrafficPolicy is Local but no healthCheckNodePort is allocated, " +
        "so nodes without endpoints cannot be told apart",
    );
  }
  const explicitly = (k: string): boolean => service.annotations[k] !== undefined;
  if (service.externalTrafficPolicy === "Cluster") {
    const checkAnnotations = [
      ANNOTATIONS.healthCheckInterval,
      ANNOTATIONS.healthCheckRise,
      ANNOTATIONS.healthCheckFall,
    ];
    if (checkAnnotations.some((a) => explicitly(a.key))) {
      say(
        "warning",
        "HealthCheckShared",
        undefined,
        "health-check annotations apply to externalTrafficPolicy: Local only; " +
          "Cluster-policy Services share one kube-proxy check per node (config healthCheck)",
      );
    }
    if (explicitly(ANNOTATIONS.weighting.key) && options.weighting === "pods-per-node") {
      say(
        "warning",
        "WeightingIgnored",
        `metadata.annotations[${ANNOTATIONS.weighting.key}]`,
        "pods-per-node applies to externalTrafficPolicy: Local; " +
          "with Cluster, kube-proxy already spreads over every pod",
      );
    }
  }
  if (service.externalTrafficPolicy === "Local" && options.weighting === "pods-per-node" && slices.length === 0) {
    say(
      "info",
      "NoEndpointSlices",
      undefined,
      "pods-per-node weighting has no EndpointSlices to count yet; every node gets weight 1",
    );
  }
};
