import { defineConfig } from "vitest/config";

/**
 * Tests that run in Node rather than in workerd:
 * - unit: pure logic (audit library, policy math, translation, pricing, vault format) — no Workers
 *   runtime needed, so no per-file workerd start-up;
 * - node: the offline verifier CLI, and end-to-end tests that start a real local gateway
 *   (wrangler dev) and drive it with the openai SDK and Chromium, one file at a time.
 */
export default defineConfig({
  test: {
    environment: "node",
    passWithNoTests: true,
    // Bounded: a hung test, hook or teardown fails with its name instead of stalling CI.
    teardownTimeout: 20_000,
    reporters: ["default", "./test/support/progress-reporter.ts"],
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts", "test/unit-node/**/*.test.ts"], testTimeout: 30_000, hookTimeout: 30_000 },
      },
      {
        extends: true,
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts", "test/e2e/**/*.test.ts"],
          globalSetup: ["./test/e2e/support/migrated-d1.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
