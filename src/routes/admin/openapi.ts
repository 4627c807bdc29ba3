import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../env";
import { createKeySchema, patchKeySchema } from "../../keys/policy-input";
import { rotateKeyInput } from "../../keys/rotation";
import { createAdminTokenInput } from "./admin-tokens";
import { auditPageQuery } from "./audit";
import { auditExportQuery } from "./audit-export";
import { countTokensRequestSchema, messagesRequestSchema } from "../../messages/schema";
import { chatCompletionRequestSchema } from "../../openai/schema";
import { embeddingsRequestSchema } from "../../embeddings/schema";
import { batchEmbedContentsSchema, countTokensSchema as geminiCountTokensSchema, embedContentSchema, generateContentSchema } from "../../gemini-api/schema";
import { responsesRequestSchema } from "../../responses/schema";
import { createBudgetSchema, patchBudgetSchema } from "./budgets";
import { priceInput } from "./prices";
import { createProviderKeyInput } from "./provider-keys";
import { createProviderInput } from "./providers";
import { usageQuery } from "./usage";
import { createWebhookInput, patchWebhookInput } from "./webhooks";

/**
 * `GET /admin/v1/openapi.json`: the OpenAPI 3.1 document of the admin API and the agent API. Request
 * schemas come from the same zod schemas the routes validate with, so the document cannot drift
 * from what the code accepts.
 */
export const openApiRoutes = new Hono<AppEnv>();

type Json = Record<string, unknown>;

const schema = (s: z.ZodType): Json => z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Json;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (s: Json, description = "OK") => ({ description, content: { "application/json": { schema: s } } });
const body = (s: z.ZodType) => ({ required: true, content: { "application/json": { schema: schema(s) } } });
const adminError = (description: string) => json(ref("AdminError"), description);
const agentError = (description: string) => json(ref("AgentError"), description);
/** The OpenAI-shaped errors every metered /v1 endpoint can answer; `invalid` describes its 400. */
const agentCallErrors = (invalid: string) => ({
  "400": agentError(invalid),
  "401": agentError("invalid_api_key | key_revoked | key_expired | key_rotated"),
  "402": agentError("quota_exceeded | spend_cap_exceeded"),
  "403": agentError("model_not_allowed"),
  "404": agentError("model_not_found"),
  "413": agentError("request_too_large"),
  "429": agentError("rate_limit_exceeded | provider_rate_limited (Retry-After set)"),
  "502": agentError("upstream_error"),
  "504": agentError("upstream_timeout"),
});
const anthropicError = (description: string) => json(ref("AnthropicError"), description);
const geminiError = (description: string) => json(ref("GeminiError"), description);
/** Gemini's API (src/routes/gemini.ts), also served under /v1/models/{model}:{method}: x-goog-api-key or ?key=. */
const geminiOp = (summary: string, request: z.ZodType, ok: string, query: Json[] = []) => ({
  post: {
    summary,
    tags: ["agent"],
    security: [{ geminiApiKey: [] }, { geminiQueryKey: [] }],
    parameters: [idParam("model"), ...query],
    requestBody: body(request),
    responses: {
      "200": { description: ok },
      "400": geminiError("INVALID_ARGUMENT"),
      "401": geminiError("UNAUTHENTICATED"),
      "402": geminiError("RESOURCE_EXHAUSTED (spend cap or token quota; not retryable until the period resets)"),
      "403": geminiError("PERMISSION_DENIED (model not allowed)"),
      "404": geminiError("NOT_FOUND"),
      "405": geminiError("UNIMPLEMENTED (not POST)"),
      "429": geminiError("RESOURCE_EXHAUSTED (Retry-After and RetryInfo.retryDelay set)"),
      "502": geminiError("INTERNAL"),
      "503": geminiError("UNAVAILABLE (provider overloaded)"),
      "504": geminiError("DEADLINE_EXCEEDED"),
    },
  },
});
const idParam = (name = "id") => ({ name, in: "path", required: true, schema: { type: "string" } });
/** Optimistic concurrency on a key (src/routes/admin/keys.ts). */
const ifMatch = {
  name: "If-Match",
  in: "header",
  required: false,
  description:
    'The key\'s `version` as its ETag (`"3"`): the write applies only to that version, else 409 conflict. Absent or `*`: applies to the current version.',
  schema: { type: "string", pattern: '^(\\*|"[0-9]{1,15}"|[0-9]{1,15})$' },
};
const keyWithVersion = { ...json(ref("VirtualKey")), headers: { ETag: { description: 'The key\'s version, `"<version>"`', schema: { type: "string" } } } };

function queryParams(s: z.ZodObject): Json[] {
  const props = (schema(s).properties ?? {}) as Record<string, Json>;
  return Object.entries(props).map(([name, p]) => ({ name, in: "query", required: false, schema: p }));
}

const adminCommon = { "400": adminError("Invalid input"), "401": adminError("Missing or wrong admin token") };

function admin(summary: string, responses: Json, extra: Json = {}): Json {
  return { summary, tags: ["admin"], security: [{ adminToken: [] }], ...extra, responses: { ...responses, ...adminCommon } };
}

const paths: Json = {
  "/admin/v1/keys": {
    post: admin(
      "Create a virtual key; the full `key` is returned only here",
      { "201": json(ref("VirtualKeyCreated"), "Created") },
      { requestBody: body(createKeySchema) },
    ),
    get: admin("List virtual keys with usage", {
      "200": json({ type: "object", properties: { object: { const: "list" }, data: { type: "array", items: ref("VirtualKey") } } }),
    }),
  },
  "/admin/v1/keys/{id}": {
    get: admin("A virtual key with its usage this month", { "200": keyWithVersion, "404": adminError("No such key") }, { parameters: [idParam()] }),
    patch: admin(
      "Change a key's policy (only the fields sent); effective on the next request",
      { "200": keyWithVersion, "404": adminError("No such key"), "409": adminError("If-Match names an older version (conflict)") },
      { parameters: [idParam(), ifMatch], requestBody: body(patchKeySchema) },
    ),
  },
  "/admin/v1/budgets": {
    post: admin(
      "Create a shared budget: window limits enforced together across its member keys",
      { "201": json(ref("Budget"), "Created") },
      { requestBody: body(createBudgetSchema) },
    ),
    get: admin("List shared budgets", {
      "200": json({ type: "object", properties: { object: { const: "list" }, data: { type: "array", items: ref("Budget") } } }),
    }),
  },
  "/admin/v1/budgets/{id}": {
    get: admin(
      "A budget with its usage per window and per member key",
      { "200": json(ref("BudgetDetail")), "404": adminError("No such budget") },
      { parameters: [idParam()] },
    ),
    patch: admin(
      "Change a budget's name or limits (limits: the full set); effective on the next request",
      { "200": json(ref("BudgetDetail")), "404": adminError("No such budget"), "409": adminError("If-Match names an older version (conflict)") },
      { parameters: [idParam(), ifMatch], requestBody: body(patchBudgetSchema) },
    ),
    delete: admin(
      "Delete a budget that no key draws on (409 while member keys remain: detach them first)",
      {
        "200": json({ type: "object", properties: { id: { type: "string" }, object: { const: "budget" }, deleted: { const: true } } }),
        "404": adminError("No such budget"),
        "409": adminError("The budget still has member keys"),
      },
      { parameters: [idParam()] },
    ),
  },
  "/admin/v1/keys/{id}/revoke": {
    post: admin(
      "Revoke a key; the next request with it gets 401 key_revoked. No later write undoes it",
      { "200": keyWithVersion, "404": adminError("No such key"), "409": adminError("If-Match names an older version (conflict)") },
      { parameters: [idParam(), ifMatch] },
    ),
  },
  "/admin/v1/keys/{id}/audit": {
    get: admin(
      "A page of the key's audit entries, with their chain hashes",
      { "200": json({ type: "object" }) },
      {
        parameters: [
          idParam(),
          { name: "after", in: "query", schema: { type: "integer" } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500 } },
        ],
      },
    ),
  },
  "/admin/v1/keys/{id}/audit/verify": {
    post: admin(
      "Recompute the key's HMAC chain",
      {
        "200": json({
          type: "object",
          properties: { valid: { type: "boolean" }, entries: { type: "integer" }, head: {}, first_invalid_seq: { type: ["integer", "null"] } },
        }),
      },
      { parameters: [idParam()] },
    ),
  },
  "/admin/v1/keys/{id}/audit/reports": {
    post: admin(
      "Create a signed, publicly verifiable report of a range of the log",
      { "201": json({ type: "object", properties: { id: { type: "string" }, url: { type: "string" } } }, "Created") },
      {
        parameters: [idParam()],
        requestBody: {
          required: false,
          content: { "application/json": { schema: { type: "object", properties: { from_seq: { type: "integer" }, to_seq: { type: "integer" } } } } },
        },
      },
    ),
  },
  "/admin/v1/keys/{id}/rotate": {
    post: admin(
      "Rotate a key's secret: returns the new `key` once; the previous one works for `grace_seconds` (default 86400), then 401 key_rotated",
      { "200": json({ type: "object" }), "404": adminError("No such key"), "409": adminError("If-Match names an older version (conflict)") },
      { parameters: [idParam(), ifMatch], requestBody: { required: false, content: { "application/json": { schema: schema(rotateKeyInput) } } } },
    ),
  },
  "/admin/v1/admin-tokens": {
    post: admin(
      "Create a named admin token (role admin or auditor); the `token` is returned only here",
      { "201": json({ type: "object" }, "Created"), "403": adminError("An auditor token"), "409": adminError("The name is taken") },
      { requestBody: body(createAdminTokenInput) },
    ),
    get: admin("List admin tokens (no secrets)", { "200": json({ type: "object" }) }),
  },
  "/admin/v1/admin-tokens/{id}/revoke": {
    post: admin("Revoke a named admin token", { "200": json({ type: "object" }), "404": adminError("No such token") }, { parameters: [idParam()] }),
  },
  "/admin/v1/audit": {
    get: admin(
      "A page of the control-plane log (one entry per state-changing admin request)",
      { "200": json({ type: "object" }) },
      { parameters: queryParams(auditPageQuery) },
    ),
  },
  "/admin/v1/audit/export": {
    get: admin(
      "Export a log as JSON Lines with what is needed to verify it offline (keyforge-verify); no key_id: the control-plane log",
      { "200": { description: "JSON Lines", content: { "application/x-ndjson": { schema: { type: "string" } } } }, "404": adminError("No such key") },
      { parameters: queryParams(auditExportQuery) },
    ),
  },
  "/admin/v1/audit/verify": {
    post: admin("Recompute the control-plane log's HMAC chain", { "200": json({ type: "object" }) }),
  },
  "/admin/v1/audit/reports": {
    post: admin(
      'Create a signed, publicly verifiable report of the control-plane log (key_id "control-plane")',
      { "201": json({ type: "object", properties: { id: { type: "string" }, url: { type: "string" } } }, "Created") },
      {
        requestBody: {
          required: false,
          content: { "application/json": { schema: { type: "object", properties: { from_seq: { type: "integer" }, to_seq: { type: "integer" } } } } },
        },
      },
    ),
  },
  "/admin/v1/usage": {
    get: admin(
      "Hourly or daily usage per key and model (group_by=model, the default), per tag (x-keyforge-tags) or per end-user id (group_by=tag|user; null: requests without one)",
      { "200": json(usageList()), "400": adminError("Bad query (e.g. model with group_by=tag|user)") },
      { parameters: queryParams(usageQuery) },
    ),
  },
  "/admin/v1/prices": {
    get: admin("Bundled and admin-set model prices (USD per 1M tokens)", { "200": json({ type: "object" }) }),
    post: admin("Set a price for a custom model or override a bundled one", { "201": json({ type: "object" }, "Created") }, { requestBody: body(priceInput) }),
    delete: admin(
      "Remove an admin-set price",
      { "200": json({ type: "object" }), "404": adminError("No such price") },
      { parameters: [{ name: "model", in: "query", required: true, schema: { type: "string" } }] },
    ),
  },
  "/admin/v1/provider-keys": {
    post: admin(
      "Add a provider key (stored encrypted; never returned again)",
      { "201": json(ref("ProviderKey"), "Created") },
      { requestBody: body(createProviderKeyInput) },
    ),
    get: admin("Provider keys with live status (healthy | cooling_down | disabled)", {
      "200": json({ type: "object", properties: { data: { type: "array", items: ref("ProviderKey") } } }),
    }),
  },
  "/admin/v1/provider-keys/{id}": {
    delete: admin("Delete a provider key", { "200": json({ type: "object" }), "404": adminError("No such key") }, { parameters: [idParam()] }),
  },
  "/admin/v1/provider-keys/{id}/enable": {
    post: admin("Re-enable a disabled or cooling key", { "200": json(ref("ProviderKey")), "404": adminError("No such key") }, { parameters: [idParam()] }),
  },
  "/admin/v1/provider-keys/{id}/disable": {
    post: admin("Disable a key until it is enabled again", { "200": json(ref("ProviderKey")), "404": adminError("No such key") }, { parameters: [idParam()] }),
  },
  "/admin/v1/providers": {
    post: admin(
      "Add a custom OpenAI-compatible provider",
      { "201": json({ type: "object" }, "Created"), "409": adminError("Name taken") },
      { requestBody: body(createProviderInput) },
    ),
    get: admin("Built-in and custom providers", { "200": json({ type: "object" }) }),
  },
  "/admin/v1/vault/rewrap": {
    post: admin("Re-encrypt every provider key under the active KEK (rotation)", { "200": json({ type: "object" }) }),
  },
  "/admin/v1/webhooks": {
    post: admin(
      "Add an alert webhook; the whsec_ signing secret is returned only here",
      {
        "201": json(
          { allOf: [ref("Webhook"), { type: "object", properties: { secret: { type: "string", description: "whsec_<base64>, shown once" } } }] },
          "Created",
        ),
      },
      { requestBody: body(createWebhookInput) },
    ),
    get: admin("Alert webhooks", {
      "200": json({ type: "object", properties: { object: { const: "list" }, data: { type: "array", items: ref("Webhook") } } }),
    }),
  },
  "/admin/v1/webhooks/{id}": {
    get: admin(
      "A webhook with its 50 most recent deliveries and their state",
      {
        "200": json({ allOf: [ref("Webhook"), { type: "object", properties: { deliveries: { type: "array", items: ref("WebhookDelivery") } } }] }),
        "404": adminError("No such webhook"),
      },
      { parameters: [idParam()] },
    ),
    patch: admin(
      "Change a webhook's url, events or enabled",
      { "200": json(ref("Webhook")), "404": adminError("No such webhook") },
      { parameters: [idParam()], requestBody: body(patchWebhookInput) },
    ),
    delete: admin(
      "Delete a webhook and its deliveries",
      { "200": json({ type: "object" }), "404": adminError("No such webhook") },
      { parameters: [idParam()] },
    ),
  },
  "/v1/chat/completions": {
    post: {
      summary: "OpenAI-compatible chat completions (buffered or streamed) for every provider",
      tags: ["agent"],
      security: [{ virtualKey: [] }],
      requestBody: body(chatCompletionRequestSchema),
      responses: {
        "200": { description: "chat.completion, or text/event-stream of chat.completion.chunk ending with data: [DONE]" },
        ...agentCallErrors("invalid_request"),
      },
    },
  },
  "/v1/models": {
    get: {
      summary: "Models this key may use",
      tags: ["agent"],
      security: [{ virtualKey: [] }],
      responses: { "200": json({ type: "object" }), "401": agentError("auth") },
    },
  },
  "/v1/responses": {
    post: {
      summary:
        "OpenAI Responses API: OpenAI models forwarded natively (stateful requests pinned to the pool's home scope), other models translated through Chat Completions",
      tags: ["agent"],
      security: [{ virtualKey: [] }],
      requestBody: body(responsesRequestSchema),
      responses: {
        "200": { description: "response object, or text/event-stream of response.* events with sequence_number" },
        ...agentCallErrors("invalid_request (e.g. previous_response_id on a translated model)"),
      },
    },
  },
  "/v1/embeddings": {
    post: {
      summary: "OpenAI Embeddings API for OpenAI, Gemini (translated) and OpenAI-compatible providers",
      tags: ["agent"],
      security: [{ virtualKey: [] }],
      requestBody: body(embeddingsRequestSchema),
      responses: {
        "200": json({ type: "object" }),
        ...agentCallErrors("invalid_request"),
      },
    },
  },
  "/v1/messages": {
    post: {
      summary: "Anthropic Messages API (also as ?beta=true): Claude models forwarded natively, other models translated; x-api-key or Authorization: Bearer",
      tags: ["agent"],
      security: [{ virtualKey: [] }, { anthropicApiKey: [] }],
      requestBody: body(messagesRequestSchema),
      responses: {
        "200": { description: "Message, or text/event-stream of named Anthropic events (message_start … message_stop, ping)" },
        "400": anthropicError("invalid_request_error"),
        "401": anthropicError("authentication_error"),
        "403": anthropicError("permission_error"),
        "404": anthropicError("not_found_error"),
        "413": anthropicError("request_too_large"),
        "429": anthropicError("rate_limit_error (retry-after set; x-should-retry: false on a spend cap or quota)"),
        "502": anthropicError("api_error"),
        "504": anthropicError("timeout_error"),
        "529": anthropicError("overloaded_error"),
      },
    },
  },
  "/v1/messages/count_tokens": {
    post: {
      summary: "Input tokens of a Messages request: Anthropic's count for Claude models, an upper-bound estimate otherwise (x-keyforge-token-count: estimate)",
      tags: ["agent"],
      security: [{ virtualKey: [] }, { anthropicApiKey: [] }],
      requestBody: body(countTokensRequestSchema),
      responses: { "200": json({ type: "object", properties: { input_tokens: { type: "integer" } } }), "401": anthropicError("authentication_error") },
    },
  },
  "/v1beta/models/{model}:generateContent": geminiOp(
    "Gemini generateContent: Gemini models forwarded natively (body and thought signatures untouched), other models translated",
    generateContentSchema,
    "GenerateContentResponse",
  ),
  "/v1beta/models/{model}:streamGenerateContent": geminiOp(
    "Gemini streamGenerateContent (alt=sse required): relayed frame by frame for Gemini models, translated for others",
    generateContentSchema,
    "text/event-stream of GenerateContentResponse chunks",
    [{ name: "alt", in: "query", required: true, schema: { const: "sse" } }],
  ),
  "/v1beta/models/{model}:countTokens": geminiOp(
    "Gemini countTokens: Gemini's count for Gemini models (not charged), an upper-bound estimate otherwise (x-keyforge-token-count: estimate)",
    geminiCountTokensSchema,
    "{totalTokens}",
  ),
  "/v1beta/models/{model}:embedContent": geminiOp(
    "Gemini embedContent: Gemini natively, OpenAI-compatible models through their embeddings API",
    embedContentSchema,
    "{embedding}",
  ),
  "/v1beta/models/{model}:batchEmbedContents": geminiOp("Gemini batchEmbedContents (at most 100 requests)", batchEmbedContentsSchema, "{embeddings}"),
  "/reports/{id}.json": {
    get: {
      summary: "A public audit report (no auth)",
      tags: ["public"],
      parameters: [idParam()],
      responses: { "200": json({ type: "object" }), "404": adminError("No such report") },
    },
  },
  "/reports/{id}": {
    get: {
      summary: "The report's verification page (verifies in the browser)",
      tags: ["public"],
      parameters: [idParam()],
      responses: { "200": { description: "HTML" } },
    },
  },
  "/.well-known/keyforge/audit-keys": {
    get: { summary: "Checkpoint verifier keys, including rotated ones", tags: ["public"], responses: { "200": json({ type: "object" }) } },
  },
};

const windowLimitView = {
  type: "object",
  properties: {
    window: { enum: ["1h", "1d", "7d", "month"] },
    usd: { type: ["number", "null"] },
    tokens: { type: ["integer", "null"] },
    requests: { type: ["integer", "null"] },
  },
};

/** A function (hoisted): the paths table above is built before this module's later constants. */
function usageList() {
  return {
    type: "object",
    properties: {
      object: { const: "list" },
      granularity: { enum: ["hour", "day"] },
      group_by: { enum: ["model", "tag", "user"] },
      from: { type: "string", format: "date-time" },
      to: { type: "string", format: "date-time" },
      data: {
        type: "array",
        items: {
          type: "object",
          properties: {
            time: { type: "string", format: "date-time" },
            key_id: { type: "string" },
            model: { type: "string", description: "group_by=model" },
            tag: { type: ["string", "null"], description: "group_by=tag; null: untagged requests" },
            user: { type: ["string", "null"], description: "group_by=user; null: requests without an end-user id" },
            requests: { type: "integer" },
            prompt_tokens: { type: "integer" },
            completion_tokens: { type: "integer" },
            cost_usd: { type: "number" },
          },
        },
      },
    },
  } as const;
}

const budgetView = {
  type: "object",
  properties: {
    id: { type: "string" },
    object: { const: "budget" },
    name: { type: "string" },
    limits: { type: "array", items: windowLimitView },
    version: { type: "integer" },
    created_at: { type: "string" },
    updated_at: { type: "string" },
  },
};

const windowUsage = {
  type: "object",
  properties: {
    window: { type: "string" },
    period_end: { type: "string" },
    tokens: { type: "integer" },
    spend_usd: { type: "number" },
    requests: { type: "integer" },
    reserved_tokens: { type: "integer" },
    reserved_usd: { type: "number" },
    reserved_requests: { type: "integer" },
    limit: { anyOf: [windowLimitView, { type: "null" }] },
  },
};

const keyView = {
  type: "object",
  properties: {
    id: { type: "string" },
    object: { const: "virtual_key" },
    name: { type: "string" },
    display: { type: "string", description: "vk_<id>…<last4>" },
    status: { enum: ["active", "revoked", "expired"] },
    models: { type: "array", items: { type: "string" } },
    monthly_token_quota: { type: ["integer", "null"] },
    spend_cap_usd: { type: ["number", "null"] },
    rpm: { type: ["integer", "null"] },
    tpm: { type: ["integer", "null"] },
    limits: { type: "array", items: windowLimitView, description: "Calendar UTC windows; the month entry is the two shorthands" },
    budget_id: { type: ["string", "null"] },
    per_user_limits: {
      type: "array",
      items: windowLimitView,
      description: "Windows each end user (the request's user / metadata.user_id; none = one anonymous user) has within the key",
    },
    default_max_tokens: {
      type: ["integer", "null"],
      description: "Output bound for requests that set none (lowered to fit the caps; sent as x-keyforge-max-tokens); null: the model's maximum",
    },
    cap_mode: { enum: ["exact", "soft"], description: "exact: bounded worst case reserved per request; soft: nothing injected, admitted while spent < cap" },
    expires_at: { type: ["string", "null"] },
    metadata: { type: "object" },
    created_at: { type: "string" },
    updated_at: { type: "string" },
    revoked_at: { type: ["string", "null"] },
    version: { type: "integer", description: "Bumped by every write; send it back as If-Match to PATCH or revoke only that version" },
    usage: {
      type: "object",
      properties: { period: { type: "string" }, tokens: { type: "integer" }, spend_usd: { type: "number" }, requests: { type: "integer" } },
    },
  },
};

const document = {
  openapi: "3.1.0",
  info: { title: "KeyForge", version: "1.0.0", description: "LLM gateway for AI agents: virtual keys, provider key pools, tamper-evident audit." },
  paths,
  components: {
    securitySchemes: {
      adminToken: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN" },
      virtualKey: { type: "http", scheme: "bearer", description: "a vk_ virtual key" },
      anthropicApiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "a vk_ virtual key (Anthropic clients, /v1/messages)" },
      geminiApiKey: { type: "apiKey", in: "header", name: "x-goog-api-key", description: "a vk_ virtual key (Gemini clients, /v1beta)" },
      geminiQueryKey: { type: "apiKey", in: "query", name: "key", description: "a vk_ virtual key in the URL (prefer the header: URLs are logged by proxies)" },
    },
    schemas: {
      VirtualKey: keyView,
      Budget: budgetView,
      BudgetDetail: {
        allOf: [
          budgetView,
          {
            type: "object",
            properties: {
              usage: { type: "array", items: windowUsage },
              members: {
                type: "array",
                items: {
                  type: "object",
                  properties: { key_id: { type: "string" }, name: { type: "string" }, usage: { type: "array", items: { type: "object" } } },
                },
              },
            },
          },
        ],
      },
      VirtualKeyCreated: { allOf: [keyView, { type: "object", properties: { key: { type: "string", description: "The full vk_ token, shown once" } } }] },
      ProviderKey: {
        type: "object",
        properties: {
          id: { type: "string" },
          provider: { type: "string" },
          name: { type: ["string", "null"] },
          scope: { type: ["string", "null"] },
          last4: { type: "string" },
          status: { enum: ["healthy", "cooling_down", "disabled"] },
          cooldown_until: { type: ["string", "null"] },
          created_at: { type: ["string", "null"] },
        },
      },
      Webhook: {
        type: "object",
        properties: {
          id: { type: "string" },
          object: { const: "webhook" },
          url: { type: "string" },
          events: { type: "array", items: { type: "string" } },
          enabled: { type: "boolean" },
          created_at: { type: "string" },
          updated_at: { type: "string" },
        },
      },
      WebhookDelivery: {
        type: "object",
        properties: {
          id: { type: "string", description: "The webhook-id header, the same on every attempt" },
          event_type: { type: "string" },
          state: { enum: ["pending", "delivered", "failed"] },
          attempts: { type: "integer" },
          last_status: { type: ["integer", "null"] },
          last_error: { type: ["string", "null"] },
          next_attempt_at: { type: ["string", "null"] },
          created_at: { type: "string" },
          updated_at: { type: "string" },
        },
      },
      AdminError: {
        type: "object",
        properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" }, request_id: { type: "string" } } } },
      },
      GeminiError: {
        type: "object",
        properties: {
          error: {
            type: "object",
            properties: {
              code: { type: "integer" },
              message: { type: "string" },
              status: { type: "string" },
              details: { type: "array", items: { type: "object" } },
            },
          },
        },
      },
      AnthropicError: {
        type: "object",
        properties: {
          type: { const: "error" },
          error: { type: "object", properties: { type: { type: "string" }, message: { type: "string" } } },
          request_id: { type: "string" },
        },
      },
      AgentError: {
        type: "object",
        properties: {
          error: {
            type: "object",
            properties: { message: { type: "string" }, type: { type: "string" }, param: { type: ["string", "null"] }, code: { type: "string" } },
          },
        },
      },
    },
  },
};

openApiRoutes.get("/", (c) => c.json(document));
