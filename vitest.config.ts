import { defineConfig } from "vitest/config";

// Tests import each package through its built entry (as users do), so `npm test` builds first.
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/**/*.test.ts", "scripts/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Network-namespace tests share the host's process table and routing daemons; keep files serial
    // enough for a 2-core machine.
    maxWorkers: 2,
    reporters: ["default", "./vitest.summary.ts"],
  },
});
