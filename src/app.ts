import { Hono } from "hono";
import type { AppEnv } from "./env";
import { GatewayError } from "./errors";
import { renderError } from "./lib/render-error";
import { adminAuth } from "./middleware/admin-auth";
import { controlPlane } from "./middleware/control-plane";
import { adminTokensRoutes } from "./routes/admin/admin-tokens";
import { controlPlaneAuditRoutes } from "./routes/admin/control-plane-audit";
import { adminCors, agentCors } from "./middleware/cors";
import { requestId } from "./middleware/request-id";
import { auditRoutes } from "./routes/admin/audit";
import { keysRoutes } from "./routes/admin/keys";
import { budgetsRoutes } from "./routes/admin/budgets";
import { openApiRoutes } from "./routes/admin/openapi";
import { pricesRoutes } from "./routes/admin/prices";
import { providerKeysRoutes } from "./routes/admin/provider-keys";
import { providersRoutes } from "./routes/admin/providers";
import { usageRoutes } from "./routes/admin/usage";
import { vaultRoutes } from "./routes/admin/vault";
import { webhooksRoutes } from "./routes/admin/webhooks";
import { chatCompletionsRoute } from "./routes/v1/chat-completions";
import { messagesRoute } from "./routes/v1/messages";
import { embeddingsRoute } from "./routes/v1/embeddings";
import { modelsRoute } from "./routes/v1/models";
import { responsesRoute } from "./routes/v1/responses";
import { reportsRoutes } from "./routes/reports";
import { wellKnownRoutes } from "./routes/well-known";
import { geminiHandler } from "./routes/gemini";
import { allowedMethods } from "./lib/allowed-methods";

export const app = new Hono<AppEnv>();

app.use(requestId());

app.get("/healthz", (c) => c.json({ ok: true }));
// Reachability probes: Anthropic clients check the base URL with HEAD / (Hono answers HEAD with the
// GET route, body dropped). Where the dashboard's assets are deployed they answer `/` first.
app.get("/", (c) => c.text("KeyForge\n"));

app.use("/v1/*", agentCors());
app.route("/v1/chat/completions", chatCompletionsRoute);
app.route("/v1/models", modelsRoute);
app.route("/v1/messages", messagesRoute);
app.route("/v1/responses", responsesRoute);
app.route("/v1/embeddings", embeddingsRoute);
// Gemini's API: /v1beta/models/{model}:{method}, and /v1/models/{model}:{method} where @google/genai
// 3.x sends it. Every method reaches the handler, which answers the wrong ones with Gemini's 405.
app.use("/v1beta/*", agentCors());
app.all("/v1beta/models/*", geminiHandler);
app.all("/v1/models/*", geminiHandler);

app.use("/admin/v1/*", adminCors());
app.use("/admin/v1/*", adminAuth());
// After auth (it needs the actor): every state-changing admin request gets its control-plane entry.
app.use("/admin/v1/*", controlPlane());
app.route("/admin/v1/admin-tokens", adminTokensRoutes);
app.route("/admin/v1/audit", controlPlaneAuditRoutes);
app.route("/admin/v1/keys", keysRoutes);
app.route("/admin/v1/budgets", budgetsRoutes);
app.route("/admin/v1/keys", auditRoutes);
app.route("/admin/v1/usage", usageRoutes);
app.route("/admin/v1/prices", pricesRoutes);
app.route("/admin/v1/provider-keys", providerKeysRoutes);
app.route("/admin/v1/providers", providersRoutes);
app.route("/admin/v1/vault", vaultRoutes);
app.route("/admin/v1/webhooks", webhooksRoutes);
app.route("/admin/v1/openapi.json", openApiRoutes);

// Public, no auth (wrangler.toml [assets] run_worker_first covers both prefixes).
app.route("/reports", reportsRoutes);
app.route("/.well-known", wellKnownRoutes);

// Every unknown path or method gets its API family's JSON error (render-error.ts picks the shape).
app.notFound((c) => {
  const path = new URL(c.req.url).pathname;
  const allowed = allowedMethods(app.routes, path);
  if (allowed.length > 0) {
    throw new GatewayError("method_not_allowed", `${c.req.method} is not allowed on ${path}; use ${allowed.join(", ")}.`, {
      headers: { allow: allowed.join(", ") },
    });
  }
  throw new GatewayError("not_found", `No route for ${c.req.method} ${path}.`);
});
app.onError(renderError);
