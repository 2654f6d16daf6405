import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", bin: "src/bin.ts" },
  format: ["esm"],
  dts: { entry: { index: "src/index.ts" } },
  clean: true,
  sourcemap: true,
  target: "node20",
  // Node accepts a hashbang in any module, so one banner serves the binary and the library.
  banner: { js: "#!/usr/bin/env node" },
});
