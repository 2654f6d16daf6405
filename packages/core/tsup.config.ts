import { libraryBuild } from "../../tsup.shared.js";

// fast-check stays the test runner's own copy: the testing entry's generators are used with its `fc`.
export default libraryBuild({ index: "src/index.ts", testing: "src/testing/index.ts" }, { external: ["fast-check"] });
