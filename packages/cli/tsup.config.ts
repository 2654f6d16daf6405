import { libraryBuild } from "../../tsup.shared.js";

// Node accepts a hashbang in any module, so one banner serves the binary and the library.
export default libraryBuild(
  { index: "src/index.ts", bin: "src/bin.ts" },
  { dts: { entry: { index: "src/index.ts" } }, banner: { js: "#!/usr/bin/env node" } },
);
