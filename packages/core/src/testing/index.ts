/**
 * Test builders for Portico (`@portico/core/testing`); the property-test generators, which need
 * fast-check, are `@portico/core/testing/arbitraries`.
 */
export {
  aConfig,
  aNode,
  anEndpointSlice,
  aParsedConfig,
  aService,
  aSnapshot,
  planOf,
  threeNodes,
  type ConfigInput,
  type EndpointInput,
  type NodeInput,
  type PortInput,
  type ServiceInput,
  type SliceInput,
} from "./builders.js";
