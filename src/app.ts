import { Hono } from "hono";
import type { AppEnv } from "./env";
import { GatewayError } from "./errors";
import { renderError } from "./lib/render-error";
import { adminAuth } from "./middleware/admin-auth";
import { requestId } from "./middleware/request-id";
import { keysRoutes } from "./routes/admin/keys";
import { pricesRoutes } from "./routes/admin/prices";
import { usageRoutes } from "./routes/admin/usage";
import { chatCompletionsRoute } from "./routes/v1/chat-completions";
import { modelsRoute } from "./routes/v1/models";

export const app = new Hono<AppEnv>();

app.use(requestId());

app.get("/healthz", (c) => c.json({ ok: true }));

app.route("/v1/chat/completions", chatCompletionsRoute);
app.route("/v1/models", modelsRoute);

app.use("/admin/v1/*", adminAuth());
app.route("/admin/v1/keys", keysRoutes);
app.route("/admin/v1/usage", usageRoutes);
app.route("/admin/v1/prices", pricesRoutes);

app.notFound((c) => {
  throw new GatewayError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`);
});
app.onError(renderError);
