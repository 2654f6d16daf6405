/**
 * The parts of the test kit that work outside a test runner (no vitest import), built to
 * `dist/lab.js` so plain Node programs such as the benchmarks (`bench/`) can use the same labs
 * as the tests: per-run network namespaces, the wire-level API server, polling helpers, and the
 * questions the probes in client namespaces ask.
 *
 * @packageDocumentation
 */

/** Per-run network namespaces and a throwing command runner for set-up. */
export { must, NetnsLab } from "./netns.js";
/** The wire-level Kubernetes API server the real client talks to. */
export { KubeApiServer, type RecordedRequest } from "./kube-api.js";
/** One question to a lab's fake node or LB node, as the probes in client namespaces ask it. */
export { askFakeNode, askHttp, type HttpOutcome } from "./ask.js";
/** Bounded polling and a free local port. */
export { freePort, until } from "./wait.js";
