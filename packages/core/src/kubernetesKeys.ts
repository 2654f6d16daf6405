/** SOURCE_RANGES_ANNOTATION: the legacy source-ranges annotation, read when spec.loadBalancerSourceRanges is empty. */
export const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

/** SERVICE_NAME_LABEL: the label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
