import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../env";

/**
 * CORS. `/v1`: any origin may call it (browser agents using the openai SDK with
 * `dangerouslyAllowBrowser`); the `vk_` key in the Authorization header is the credential, never a
 * cookie, so no credentials mode. `/admin/v1`: only the dashboard's origin(s) from `DASHBOARD_ORIGINS`
 * (comma-separated); the dashboard served by this Worker is same-origin and needs none.
 */

const EXPOSED = [
  "x-request-id",
  "x-keyforge-cost-usd",
  // The output bound the gateway added to a request that set none (issue 18).
  "x-keyforge-max-tokens",
  "retry-after",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
  // Anthropic's surface (/v1/messages): its request id, the no-retry mark, the estimate mark.
  "request-id",
  "x-should-retry",
  "x-keyforge-token-count",
];

export function agentCors(): MiddlewareHandler<AppEnv> {
  const grant = cors({
    origin: "*",
    allowMethods: ["GET", "POST", "OPTIONS"],
    // The openai and anthropic SDKs send x-stainless-* telemetry headers; allow them so their preflights
    // pass. Anthropic's SDK in a browser also sends its key, version and beta headers.
    allowHeaders: [
      "authorization",
      "content-type",
      "openai-organization",
      "openai-project",
      "x-api-key",
      "anthropic-version",
      "anthropic-beta",
      "anthropic-dangerous-direct-browser-access",
      // Gemini's surface (/v1beta): @google/genai sends its key and client header.
      "x-goog-api-key",
      "x-goog-api-client",
      "x-stainless-*",
    ].flatMap(expandStainless),
    exposeHeaders: EXPOSED,
    maxAge: 86_400,
  });
  // Browsers send Origin on every cross-origin request and preflight; server-side agents (nearly all
  // traffic) send none and have no use for CORS headers, so they skip the work on the hot path.
  return async function agentCorsMiddleware(c, next) {
    if (c.req.header("origin") === undefined) return next();
    return grant(c, next);
  };
}

const STAINLESS = ["arch", "lang", "os", "package-version", "retry-count", "runtime", "runtime-version", "timeout", "helper-method", "poll-helper", "async"];

function expandStainless(header: string): string[] {
  return header === "x-stainless-*" ? STAINLESS.map((h) => `x-stainless-${h}`) : [header];
}

export function adminCors(): MiddlewareHandler<AppEnv> {
  return async function adminCorsMiddleware(c, next) {
    // No Origin: not a browser's CORS request. An OPTIONS without one is then answered by the routes
    // (a JSON 405), not with an empty 204.
    if (c.req.header("origin") === undefined) return next();
    const allowed = (c.env.DASHBOARD_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    return cors({
      origin: (origin) => (allowed.includes(origin) ? origin : null),
      allowMethods: ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
      allowHeaders: ["authorization", "content-type"],
      exposeHeaders: ["x-request-id"],
      maxAge: 600,
    })(c, next);
  };
}
