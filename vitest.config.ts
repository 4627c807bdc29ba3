import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_SECRETS } from "./test/support/test-secrets.ts";

const migrationsDir = fileURLToPath(new URL("./d1-migrations", import.meta.url));

export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
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
          OPENAI_BASE_URL: `${inject("upstreamUrl")}/openai/v1`,
          ANTHROPIC_BASE_URL: `${inject("upstreamUrl")}/anthropic`,
          GEMINI_BASE_URL: `${inject("upstreamUrl")}/gemini`,
          TEST_MIGRATIONS: await readD1Migrations(migrationsDir),
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/node/**"],
    globalSetup: ["./test/support/global-setup.ts"],
    setupFiles: ["./test/support/apply-migrations.ts"],
  },
});
