export {
  describeAdapter,
  type AdapterUnderTest,
  type ApplyUnderTest,
  type HostileCase,
  type ValidateUnderTest,
} from "./conformance.js";
export { describeWith, inCi, program, root, type Requirement } from "./gate.js";
export { must, NetnsLab } from "./netns.js";
export { KubeApiServer, type RecordedRequest } from "./kube-api.js";
export { fakeTree, type FakeMachine } from "./faketree.js";
export { freePort, settled, until } from "./wait.js";
