import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds dist/ when stale: the e2e suites then run the compiled bin, as users do.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration and e2e suites start real processes; two cores, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
