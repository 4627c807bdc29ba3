import { Hono } from "hono";
import type { AppEnv, Env } from "../../env";
import { GatewayError } from "../../errors";
import { isModelAllowed } from "../../policy/model-glob";
import { BUILTIN_PRICES } from "../../pricing/catalogue";
import { agentKey } from "../../proxy/agent-auth";
import { rateLimitHeaders } from "../../proxy/rate-headers";
import { keysFor } from "../../proxy/key-source";
import { getCatalogue } from "../../providers/catalogue";
import { mockEnabled } from "../../providers/registry";

/** `GET /v1/models`: the models of every configured provider that this key may use (OpenAI list shape). */
export const modelsRoute = new Hono<AppEnv>();

const CREATED = 1_766_000_000;

async function servedModels(env: Env): Promise<Array<{ id: string; provider: string; names: string[] }>> {
  const out: Array<{ id: string; provider: string; names: string[] }> = [];
  const add = (provider: string, model: string) =>
    out.push({ id: `${provider}/${model}`, provider, names: [model, `${provider}/${model}`, ...(provider === "gemini" ? [`google/${model}`] : [])] });
  for (const provider of ["openai", "anthropic", "gemini"]) {
    if (!(await keysFor(env, provider)).configured) continue;
    for (const model of Object.keys(BUILTIN_PRICES[provider] ?? {})) add(provider, model);
  }
  if (mockEnabled(env)) for (const model of Object.keys(BUILTIN_PRICES.mock ?? {})) add("mock", model);
  // Custom providers list the models an admin has priced for them.
  const catalogue = await getCatalogue(env.DB);
  for (const canonical of catalogue.prices.keys()) {
    const [provider, ...rest] = canonical.split("/");
    if (provider && catalogue.providers.has(provider)) add(provider, rest.join("/"));
  }
  return out;
}

modelsRoute.get("/", async (c) => {
  const key = await agentKey(c);
  const auth = await c.env.KEY_GUARD.getByName(key.id).authorize(key.id, key.secretHash);
  if (!auth.ok) throw new GatewayError(auth.code, auth.message);
  const models = (await servedModels(c.env)).filter((m) => isModelAllowed(auth.models, m.names));
  return c.json(
    { object: "list", data: models.map((m) => ({ id: m.id, object: "model", created: CREATED, owned_by: m.provider })) },
    200,
    rateLimitHeaders(auth.rate),
  );
});
