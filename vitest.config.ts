import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_SECRETS } from "./test/support/test-secrets.ts";

const migrationsDir = fileURLToPath(new URL("./d1-migrations", import.meta.url));

/** One mock-upstream namespace per workerd runner (one per test file): its own scripts and records. */
let runners = 0;

export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => {
      const upstream = `${inject("upstreamUrl")}/ns/r${process.pid}-${++runners}`;
      return {
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ...TEST_SECRETS,
            KEYFORGE_MOCK_PROVIDER: "on",
            OPENAI_API_KEY: "sk-test-env-openai-0123456789",
            ANTHROPIC_API_KEY: "sk-ant-test-env-0123456789",
            GEMINI_API_KEY: "AIzaTestEnvGemini0123456789abcdef",
            ALLOW_INSECURE_UPSTREAMS: "on",
            UPSTREAM_TIMEOUT_MS: "4000",
            OPENAI_BASE_URL: `${upstream}/openai/v1`,
            ANTHROPIC_BASE_URL: `${upstream}/anthropic`,
            GEMINI_BASE_URL: `${upstream}/gemini`,
            TEST_CLOCK_SHIFT_MS: String(inject("clockShiftMs")),
            TEST_MIGRATIONS: await readD1Migrations(migrationsDir),
          },
        },
      };
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/unit/**", "test/unit-node/**", "test/e2e/**", "test/node/**"],
    globalSetup: ["./test/support/global-setup.ts"],
    setupFiles: ["./test/support/apply-migrations.ts", "./test/support/cleanup.ts"],
    // Bounded: a hung test, hook or teardown fails with its name instead of stalling CI.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 20_000,
    reporters: ["default", "./test/support/progress-reporter.ts"],
    // Vitest's default on a 2-core machine is one file at a time; a runner waits on workerd and the
    // mock upstream much of the time, so two in parallel take the suite from ~325 s to ~225 s here.
    maxWorkers: 2,
  },
});
