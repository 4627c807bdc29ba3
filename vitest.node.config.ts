import { defineConfig } from "vitest/config";

/**
 * Tests that run in Node rather than in workerd: the offline verifier CLI, and end-to-end tests
 * that start a real local gateway (wrangler dev) and drive it with the openai SDK and Chromium.
 */
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts", "test/e2e/**/*.test.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    passWithNoTests: true,
  },
});
