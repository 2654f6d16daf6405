import { libraryBuild } from "../../tsup.shared.js";

export default libraryBuild({ index: "src/index.ts", testing: "src/testing/index.ts", reference: "src/reference.ts" });
