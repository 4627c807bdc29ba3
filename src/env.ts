/**
 * The Worker's bindings, vars and required secrets are generated from wrangler.toml and
 * .dev.vars.example by `npm run types` into worker-configuration.d.ts (CI fails on drift). Only
 * the secrets a deployment may leave unset are declared here: wrangler types cannot mark a secret
 * optional, and code must handle their absence.
 */
declare global {
  namespace Cloudflare {
    interface Env {
      /** "v1:<base64 32 bytes>[,v2:…]" AES-256 key-encryption keys for provider keys; the last is active. */
      VAULT_KEKS?: string;
      /** Master secret for the per-key audit chain keys (HKDF). */
      AUDIT_HMAC_SECRET?: string;
      /** "<name>:<base64 Ed25519 seed>[,…]" checkpoint signing keys; the last is active. */
      AUDIT_SIGNING_KEYS?: string;
      /** Env provider keys: a pool of one each, used when no pooled key is stored. */
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
  Variables: {
    requestId: string;
    /** Who called the admin API (set by adminAuth). */
    actor: import("./admin/admin-tokens").AdminActor;
    /** Set for mutating admin requests (src/middleware/control-plane.ts). */
    controlPlane: import("./middleware/control-plane").ControlPlaneRecorder;
  };
};
