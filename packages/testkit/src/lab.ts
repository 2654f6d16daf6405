/**
 * The parts of the test kit that work outside a test runner (no vitest import), built to
 * `dist/lab.js` so plain Node programs such as the benchmarks (`bench/`) and the example lab use
 * the same labs as the tests: per-run network namespaces, the data-plane network with its fake
 * nodes, the programs that run inside the namespaces (fake node, client, probes), the wire-level
 * API server, polling helpers, and the questions the probes ask.
 *
 * @packageDocumentation
 */

/** Per-run network namespaces and a throwing command runner for set-up. */
export { must, NetnsLab } from "./netns.js";
/** The wire-level Kubernetes API server the real client talks to. */
export { KubeApiServer, type KubeApiServerOptions, type RecordedRequest } from "./kube-api.js";
/** One question to a lab's fake node or LB node, as the probes in client namespaces ask it. */
export { askFakeNode, askHttp, type HttpOutcome } from "./ask.js";
/** Bounded polling, a child's output lines, and a free local port. */
export { freePort, until, waitForLine } from "./wait.js";
/** The programs that run inside the namespaces, and what they print. */
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
/** The data-plane lab's network: LB, client and fake-node namespaces, and the client's runs. */
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
/** One L2 segment (a bridge) of client, LB nodes and fake nodes, as VRRP and `direct` need. */
export {
  l2Segment,
  SEGMENT_CLIENT,
  segmentLbAddress,
  segmentNodeAddress,
  type L2Segment,
  type SegmentPorts,
} from "./lab/l2-segment.js";
/** The lab's UDP request/response loop, started in a client namespace and stopped with its report. */
export { udpLoop, type UdpLoop, type UdpLoopOptions } from "./lab/udp-loop-run.js";
/** The PROXY protocol header parser the fake node reads its connections with. */
export { readProxyHeader, type ProxyHeader } from "./lab/proxy-header.js";
