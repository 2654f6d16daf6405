import { libraryBuild } from "../../tsup.shared.js";

// Only the runner-free entry is built: tests import the TypeScript source directly; the
// benchmarks (plain Node) import `@portico/testkit/lab` from dist.
export default libraryBuild({ lab: "src/lab.ts" });
