export type { AdapterError, ApplyFn, ReadFn, RenderFn, ValidateFn } from "./adapter.js";
export { CONFIG_DEFAULTS, formatConfigIssues, parseConfig, type ConfigIssue } from "./config.js";
export { CONFIG_API_VERSION, CONFIG_KIND } from "./config/apiVersion.js";
export type {
  AddressRange,
  Config,
  ControllerConfig,
  HaproxyCheck,
  HaproxyConfig,
  HealthCheckConfig,
  KeepalivedConfig,
  LbNode,
  Pool,
  VrrpConfig,
} from "./settings.js";
export { parseRange } from "./addressRange.js";
export { parseHostPort } from "./hostPort.js";
export { BALANCES, PROXY_PROTOCOLS, type Balance, type ProxyProtocol } from "./vocabulary.js";
export { isInterfaceName, parseInterfaceName, type InterfaceName } from "./interfaceName.js";
export { isSafePath, parseSafePath, type SafePath } from "./safePath.js";
export {
  boundDiagnostics,
  describeRef,
  DIAGNOSTICS_PER_OBJECT,
  fieldDiagnostic,
  sortDiagnostics,
} from "./diagnostics.js";
export { SERVICE_NAME_LABEL, SOURCE_RANGES_ANNOTATION } from "./kubernetesKeys.js";
export { hash16, hash53, hash8 } from "./hash.js";
export {
  bigIntToIp,
  cidrContains,
  compareCidr,
  ipFamily,
  ipToBigInt,
  parseCidr,
  parseIp,
  type Cidr,
  type Ip,
  type IpFamily,
} from "./ip.js";
export {
  isDns1123Label,
  isDns1123Subdomain,
  IDENT_PATTERN,
  isIdent,
  parsePort,
  parseVrid,
  serviceKey,
  type ClusterSnapshot,
  type Diagnostic,
  type Endpoint,
  type EndpointSlice,
  type Ident,
  type IpFamilyPolicy,
  type LbNodeName,
  type Millis,
  type Node,
  type NodeName,
  type ObjectRef,
  type Port,
  type Protocol,
  type Service,
  type SessionAffinity,
  type ServiceKey,
  type ServicePort,
  type Severity,
  type Taint,
  type TrafficPolicy,
  type Vrid,
} from "./model.js";
export type {
  Affinity,
  Backend,
  BackendTimeouts,
  CheckBackend,
  Condition,
  Frontend,
  HealthCheck,
  HttpCheck,
  Ingress,
  IngressPort,
  IpMode,
  Plan,
  PlanSettings,
  Server,
  ServicePlan,
  ServiceStatus,
  TcpCheck,
  TrackCheck,
  UnservedListener,
  VrrpInstance,
  VrrpPriority,
} from "./plan/types.js";
export {
  ANNOTATION_PREFIX,
  ANNOTATIONS,
  formatOptionValue,
  optionShortName,
  parseServiceDefaults,
  type AnnotationSpec,
  type OptionName,
  type ServiceDefaults,
  type ServiceOptions,
  type Weighting,
} from "./annotations.js";
export { parseServiceOptions } from "./serviceOptions.js";
export { formatMillis, parseDuration } from "./duration.js";
export { ingest, ingestIncremental, type IngestCache } from "./ingest.js";
export {
  allocate,
  describeFailure,
  familyAvailable,
  poolOf,
  poolsFor,
  type AddressRequest,
  type AllocateOptions,
  type Allocation,
  type AllocationFailure,
  type FamilyAllocation,
} from "./ipam.js";
export {
  formatSelector,
  matchesSelector,
  parseSelectorObject,
  parseSelectorString,
  type LabelSelector,
  type SelectorOperator,
  type SelectorRequirement,
} from "./labels.js";
export {
  endpointsByNode,
  MAX_WEIGHT,
  nodeServer,
  nodeServerId,
  podServers,
  rendezvousSubset,
  type NodeEndpoints,
} from "./servers.js";
export { backendAddress, EXCLUDE_LABEL, isEligible, TO_BE_DELETED_TAINT } from "./nodes.js";
export { byAge, isResponsibleFor } from "./plan/responsible.js";
export { healthChecksPerLbNode, KUBE_PROXY_CHECK_ID } from "./plan/checks.js";
export { DEGRADED_CONDITION, READY_CONDITION } from "./plan/status.js";
export { PORTS_ERROR_CONDITION, portsCondition } from "./plan/status.js";
export { NO_ELIGIBLE_NODE } from "./plan/backends.js";
export {
  APPLY_FAILED,
  statusAsInstalled,
  type InstalledFrontend,
  type InstalledState,
  type InstalledStatus,
} from "./plan/installed.js";
export { PORT_IN_USE, withoutTakenPorts, type TakenPort } from "./plan/takenPorts.js";
export { LAST_GOOD_KEPT } from "./plan/lastGood.js";
export { plan } from "./plan/plan.js";
/** Incremental planning: the same Plan as `plan`, reusing the work (and objects) of the last one. */
export { planIncremental, type PlanCache } from "./plan/incremental.js";
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
export { diffPlans } from "./diff/diff.js";
export type { ChangePath, PlanDiff, ServerChange, ServiceDiff, VrrpChange } from "./diff/types.js";
export { serverSlotCount } from "./slots.js";
export { keepSame, same, sameItems, sameJson } from "./same.js";
export {
  cpuDifference,
  cpuIntersection,
  cpuSet,
  formatCpuList,
  formatCpuMask,
  MAX_CPUS,
  parseCpuList,
  parseCpuMask,
  sameCpus,
  type CpuSet,
} from "./cpus.js";
export {
  floorPowerOfTwo,
  irqbalanceBanLine,
  planTuning,
  type DeclaredTopology,
  type InterfaceTopology,
  type IrqAffinityMode,
  type NumaNode,
  type QueueIrq,
  type RpsMode,
  type Topology,
  type TuningConfig,
  type TuningPlan,
  type TuningPolicy,
  type TuningWrite,
} from "./tuning.js";
export type { BfdConfig, BgpConfig, BgpPeer } from "./settings.js";
export {
  ANNOUNCES,
  BGP_DRAINS,
  formatBgpCommunity,
  GRACEFUL_SHUTDOWN,
  isAsn,
  isBgpCommunity,
  parseAsn,
  parseBgpCommunity,
  type Announce,
  type Asn,
  type BgpCommunity,
  type BgpDrain,
} from "./bgp.js";
export { announceOf, planAnnouncements, splitByAnnounce, type BgpAnnouncement } from "./plan/announce.js";
export {
  MAGLEV_SIZES,
  maglevOwner,
  maglevShares,
  maglevSize,
  maglevTable,
  type MaglevMember,
  type MaglevTable,
} from "./maglev.js";
export { DATA_PLANES, L4_DATA_PLANES, type DataPlane, type L4DataPlane } from "./vocabulary.js";
export type { L4Listener } from "./plan/types.js";
export type { NftablesConfig } from "./settings.js";
export { dataPlaneOf, DEFAULT_FLOW_PINS } from "./plan/l4.js";
