import type { KeyGuard } from "../durable-objects/key-guard";
import type { ProviderPool } from "../durable-objects/provider-pool";

declare global {
  namespace Cloudflare {
    interface Env {
      DB: D1Database;
      KEY_GUARD: DurableObjectNamespace<KeyGuard>;
      PROVIDER_POOL: DurableObjectNamespace<ProviderPool>;
      /** The dashboard's static files (wrangler.toml [assets]); absent when no assets are deployed. */
      ASSETS?: Fetcher;

      OPENAI_BASE_URL: string;
      ANTHROPIC_BASE_URL: string;
      GEMINI_BASE_URL: string;
      /** "on" enables the built-in mock provider (local dev and tests only). */
      KEYFORGE_MOCK_PROVIDER?: string;
      /** Maximum request body size in bytes (default 2 MiB). */
      MAX_BODY_BYTES?: string;
      /** Milliseconds to wait for upstream response headers (default 60000). */
      UPSTREAM_TIMEOUT_MS?: string;
      /** Ms between a settle and its hourly usage rollup reaching D1 (default 60000). */
      ROLLUP_FLUSH_MS?: string;
      /** Origins (comma-separated) of a dashboard hosted elsewhere (e.g. Pages) allowed to call /admin/v1. */
      DASHBOARD_ORIGINS?: string;
      /** "on" lets custom providers use http: and loopback hosts (local dev and tests only). */
      ALLOW_INSECURE_UPSTREAMS?: string;
      /** Checkpoint origin prefix, `<prefix>/<key id>` (default "keyforge.dev/audit"). Never change it once checkpoints exist. */
      AUDIT_ORIGIN_PREFIX?: string;
      /** Minimum ms between two signed checkpoints of one key (default 60000). */
      AUDIT_CHECKPOINT_MS?: string;

      ADMIN_TOKEN: string;
      KEY_PEPPER: string;
      VAULT_KEKS?: string;
      AUDIT_HMAC_SECRET?: string;
      AUDIT_SIGNING_KEYS?: string;
      OPENAI_API_KEY?: string;
      ANTHROPIC_API_KEY?: string;
      GEMINI_API_KEY?: string;
    }
  }
}

export type Env = Cloudflare.Env;

/** Hono generic shared by every route and middleware. */
export type AppEnv = {
  Bindings: Env;
  Variables: { requestId: string };
};

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("./index");
    }
  }
}
