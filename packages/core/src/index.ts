export type { AdapterError, RenderFn, ValidateFn } from "./adapter.js";
export {
  CONFIG_API_VERSION,
  CONFIG_DEFAULTS,
  CONFIG_KIND,
  formatConfigIssues,
  parseConfig,
  parseRange,
  type AddressRange,
  type Config,
  type ConfigIssue,
  type HaproxyCheck,
  type HaproxyConfig,
  type HealthCheckConfig,
  type KeepalivedConfig,
  type LbNode,
  type Pool,
  type VrrpConfig,
} from "./config.js";
export { hash53, hash8 } from "./hash.js";
export { bigIntToIp, ipFamily, ipToBigInt, parseCidr, parseIp, type Cidr, type Ip, type IpFamily } from "./ip.js";
export {
  isDns1123Label,
  isDns1123Subdomain,
  parsePort,
  parseVrid,
  serviceKey,
  type ClusterSnapshot,
  type Diagnostic,
  type Endpoint,
  type EndpointSlice,
  type Ident,
  type LbNodeName,
  type Millis,
  type Node,
  type NodeName,
  type ObjectRef,
  type Port,
  type Protocol,
  type Service,
  type ServiceKey,
  type ServicePort,
  type Severity,
  type Taint,
  type TrafficPolicy,
  type Vrid,
} from "./model.js";
export type {
  Backend,
  Balance,
  Condition,
  Frontend,
  HealthCheck,
  Ingress,
  IngressPort,
  IpMode,
  Plan,
  PlanSettings,
  ProxyProtocol,
  Server,
  ServicePlan,
  ServiceStatus,
  VrrpInstance,
  VrrpPriority,
} from "./plan.js";
export { ANNOTATION_PREFIX, ANNOTATIONS, parseServiceOptions, type AnnotationSpec, type ServiceOptions } from "./annotations.js";
export { describeRef, ingest, SERVICE_NAME_LABEL, sortDiagnostics } from "./ingest.js";
export { allocate, poolOf, type AddressRequest, type Allocation } from "./ipam.js";
export { backendAddress, EXCLUDE_LABEL, isEligible, TO_BE_DELETED_TAINT } from "./nodes.js";
export { byAge, DEGRADED_CONDITION, isResponsibleFor, plan, READY_CONDITION } from "./planner.js";
export {
  isDrained,
  masterCapacity,
  NO_VRRP_STATE,
  planVrrp,
  priorityOf,
  rendezvousOrder,
  vrrpStateOf,
  weightOf,
  type VrrpPlan,
  type VrrpState,
} from "./vrrp.js";
export { compareIp } from "./ip.js";
