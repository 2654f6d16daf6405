export {
  describeAdapter,
  type AdapterUnderTest,
  type ApplyUnderTest,
  type HostileCase,
  type ValidateUnderTest,
} from "./conformance.js";
export { describeWith, inCi, program, root, type Requirement } from "./gate.js";
export { must, NetnsLab } from "./netns.js";
export { KubeApiServer, type KubeApiServerOptions, type RecordedRequest } from "./kube-api.js";
export { fakeTree, type FakeMachine } from "./faketree.js";
export { freePort, settled, until, waitForLine } from "./wait.js";
export { expectGolden, UPDATE_GOLDEN } from "./golden.js";
export { askFakeNode, askHttp, type HttpOutcome } from "./ask.js";
export {
  CLIENT_BIN,
  FAKE_NODE_BIN,
  UDP_CLIENT_BIN,
  UDP_LOOP_BIN,
  FIRST_CONNECT_BIN,
  HELD_FLOWS_BIN,
  HTTP_GET_BIN,
  VIP_PROBE_BIN,
  type ClientSummary,
  type UdpLoopResult,
  type VipProbeResult,
} from "./lab/programs.js";
export {
  clientLoop,
  dataplaneNet,
  HEALTH_PORT,
  LB_ADDRESS,
  NODE_PORT,
  nodeAddressAt,
  traffic,
  VIP_RANGE,
  type ClientLoop,
  type DataplaneNet,
  type FakeNode,
  type TrafficOptions,
} from "./lab/dataplane.js";
export {
  l2Segment,
  SEGMENT_CLIENT,
  segmentLbAddress,
  segmentNodeAddress,
  type L2Segment,
  type SegmentPorts,
} from "./lab/l2-segment.js";
export { udpLoop, type UdpLoop, type UdpLoopOptions } from "./lab/udp-loop-run.js";
export { readProxyHeader, type ProxyHeader } from "./lab/proxy-header.js";
