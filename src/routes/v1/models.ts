import { Hono } from "hono";
import type { AppEnv, Env } from "../../env";
import { GatewayError } from "../../errors";
import { isModelAllowed } from "../../policy/model-glob";
import { BUILTIN_PRICES } from "../../pricing/catalogue";
import { maxOutputTokens } from "../../pricing/max-output";
import { agentKey, noteUnknownKey } from "../../proxy/agent-auth";
import { rateLimitHeaders } from "../../proxy/rate-headers";
import { keysFor } from "../../proxy/key-source";
import { getCatalogue } from "../../providers/catalogue";
import { mockEnabled, modelNames } from "../../providers/registry";

/** `GET /v1/models`: the models of every configured provider that this key may use (OpenAI list shape). */
export const modelsRoute = new Hono<AppEnv>();

const CREATED = 1_766_000_000;

interface Served {
  id: string;
  provider: string;
  /** The allow-list names of the model this id resolves to (the same for both of its ids). */
  names: string[];
  maxTokens: number | null;
}

/**
 * Every served model under `provider/model`, and also under its bare name where that name routes
 * to the same provider by itself (`gpt-4o-mini`, `claude-sonnet-4-6`; not `echo`, which is only `mock/echo`).
 */
async function servedModels(env: Env): Promise<Served[]> {
  const out: Served[] = [];
  const add = (provider: string, model: string) => {
    const names = modelNames(provider, model);
    const maxTokens = maxOutputTokens(provider, model);
    if (names.includes(model)) out.push({ id: model, provider, names, maxTokens });
    out.push({ id: `${provider}/${model}`, provider, names, maxTokens });
  };
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
  // Anthropic clients (Claude Code's gateway model discovery) send anthropic-version and may send x-api-key.
  const anthropic = c.req.header("anthropic-version") !== undefined;
  const key = await agentKey(c, { xApiKey: anthropic });
  const auth = await c.env.KEY_GUARD.getByName(key.id).authorize(key.id, key.secretHash);
  noteUnknownKey(key.id, auth);
  if (!auth.ok) throw new GatewayError(auth.code, auth.message);
  const models = (await servedModels(c.env)).filter((m) => isModelAllowed(auth.models, m.names));
  if (anthropic) return c.json(anthropicList(models, new URL(c.req.url).searchParams), 200, rateLimitHeaders(auth.rate));
  return c.json(
    { object: "list", data: models.map((m) => ({ id: m.id, object: "model", created: CREATED, owned_by: m.provider })) },
    200,
    rateLimitHeaders(auth.rate),
  );
});

/**
 * Anthropic's list shape (reference agent-apis §4.8): `{data:[{type:"model",id,display_name,created_at}],
 * has_more, first_id, last_id}`, paged by `limit` (1–1000, default 20), `after_id` and `before_id`.
 */
function anthropicList(models: Served[], query: URLSearchParams) {
  const ids = models.map((m) => m.id);
  const limit = Number(query.get("limit") ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new GatewayError("invalid_request", "limit must be an integer from 1 to 1000.", { param: "limit" });
  let start = 0;
  let end = ids.length;
  const after = query.get("after_id");
  const before = query.get("before_id");
  if (after !== null) start = ids.indexOf(after) + 1;
  if (before !== null) end = Math.max(0, ids.indexOf(before));
  // Paging backwards (before_id) returns the page just before it, as Anthropic's API does.
  const page = before !== null && after === null ? ids.slice(Math.max(start, end - limit), end) : ids.slice(start, Math.min(end, start + limit));
  const createdAt = new Date(CREATED * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  const hasMore = before !== null && after === null ? end - page.length > start : start + page.length < end;
  return {
    // max_tokens (the model's maximum output) as Anthropic's list has it, where the catalogue knows it.
    data: page.map((id) => {
      const maxTokens = models[ids.indexOf(id)]?.maxTokens ?? null;
      return { type: "model", id, display_name: id, created_at: createdAt, ...(maxTokens === null ? {} : { max_tokens: maxTokens }) };
    }),
    has_more: hasMore,
    first_id: page[0] ?? null,
    last_id: page[page.length - 1] ?? null,
  };
}
