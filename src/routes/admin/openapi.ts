import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../env";
import { createKeySchema, patchKeySchema } from "../../keys/policy-input";
import { chatCompletionRequestSchema } from "../../openai/schema";
import { priceInput } from "./prices";
import { createProviderKeyInput } from "./provider-keys";
import { createProviderInput } from "./providers";
import { usageQuery } from "./usage";

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
const idParam = (name = "id") => ({ name, in: "path", required: true, schema: { type: "string" } });

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
    get: admin("A virtual key with its usage this month", { "200": json(ref("VirtualKey")), "404": adminError("No such key") }, { parameters: [idParam()] }),
    patch: admin(
      "Change a key's policy; effective on the next request",
      { "200": json(ref("VirtualKey")), "404": adminError("No such key") },
      { parameters: [idParam()], requestBody: body(patchKeySchema) },
    ),
  },
  "/admin/v1/keys/{id}/revoke": {
    post: admin(
      "Revoke a key; the next request with it gets 401 key_revoked",
      { "200": json(ref("VirtualKey")), "404": adminError("No such key") },
      { parameters: [idParam()] },
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
  "/admin/v1/usage": {
    get: admin("Hourly or daily usage per key and model (charts)", { "200": json({ type: "object" }) }, { parameters: queryParams(usageQuery) }),
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
  "/v1/chat/completions": {
    post: {
      summary: "OpenAI-compatible chat completions (buffered or streamed) for every provider",
      tags: ["agent"],
      security: [{ virtualKey: [] }],
      requestBody: body(chatCompletionRequestSchema),
      responses: {
        "200": { description: "chat.completion, or text/event-stream of chat.completion.chunk ending with data: [DONE]" },
        "400": agentError("invalid_request"),
        "401": agentError("invalid_api_key | key_revoked | key_expired"),
        "402": agentError("quota_exceeded | spend_cap_exceeded"),
        "403": agentError("model_not_allowed"),
        "404": agentError("model_not_found"),
        "413": agentError("request_too_large"),
        "429": agentError("rate_limit_exceeded | provider_rate_limited (Retry-After set)"),
        "502": agentError("upstream_error"),
        "504": agentError("upstream_timeout"),
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
    expires_at: { type: ["string", "null"] },
    metadata: { type: "object" },
    created_at: { type: "string" },
    updated_at: { type: "string" },
    revoked_at: { type: ["string", "null"] },
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
    },
    schemas: {
      VirtualKey: keyView,
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
      AdminError: {
        type: "object",
        properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" }, request_id: { type: "string" } } } },
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
