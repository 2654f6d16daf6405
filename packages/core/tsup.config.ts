import { libraryBuild } from "../../tsup.shared.js";

// fast-check stays the test runner's own copy (an optional peer): the generators are used with its `fc`.
export default libraryBuild(
  {
    index: "src/index.ts",
    testing: "src/testing/index.ts",
    arbitraries: "src/testing/arbitraries.ts",
    reference: "src/reference.ts",
  },
  { external: ["fast-check"] },
);
