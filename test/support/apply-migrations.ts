import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    }
  }
}

// The same migrations folder wrangler applies in production.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
