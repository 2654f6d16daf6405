import { defineConfig, type Options } from "tsup";

/** The one build every package shares: ESM + .d.ts for Node 20, from the given entries. */
export const libraryBuild = (entry: Record<string, string> = { index: "src/index.ts" }, extra: Options = {}) =>
  defineConfig({
    entry,
    format: ["esm"],
    dts: true,
    clean: true,
    sourcemap: true,
    target: "node20",
    ...extra,
  });
