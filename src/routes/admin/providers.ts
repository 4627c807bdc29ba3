import { asc } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import * as z from "zod";
import { providers } from "../../db/schema";
import type { AppEnv, Env } from "../../env";
import { GatewayError } from "../../errors";
import { readBody } from "../../lib/request-body";
import { invalidateCatalogue } from "../../providers/catalogue";
import { mockEnabled } from "../../providers/registry";
import { checkUpstreamBaseUrl } from "../../security/upstream-url";

/**
 * Custom OpenAI-compatible providers (`<name>/<model>` routes to `base_url`). The base URL passes
 * the SSRF guard, since provider keys are attached to every request sent there.
 */
export const providersRoutes = new Hono<AppEnv>();

/** Names that would shadow a built-in provider or alias in `provider/model` routing. */
const RESERVED = new Set(["openai", "anthropic", "google", "gemini", "mock"]);

export const createProviderInput = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, "must be 1-32 characters of a-z, 0-9 and '-'")
    .refine((n) => !RESERVED.has(n), "is a built-in provider name"),
  type: z.literal("openai-compatible"),
  base_url: z.string().max(2048),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function providerView(p: { name: string; type: string; baseUrl: string | null; createdAt: number | null }, builtin: boolean) {
  return { name: p.name, object: "provider" as const, type: p.type, base_url: p.baseUrl, builtin, created_at: iso(p.createdAt) };
}

function builtins(env: Env) {
  const list: Array<{ name: string; type: string; baseUrl: string | null }> = [
    { name: "openai", type: "openai", baseUrl: env.OPENAI_BASE_URL },
    { name: "anthropic", type: "anthropic", baseUrl: env.ANTHROPIC_BASE_URL },
    { name: "gemini", type: "gemini", baseUrl: env.GEMINI_BASE_URL },
  ];
  // The mock answers in process (local dev and tests only): it has no base URL.
  if (mockEnabled(env)) list.push({ name: "mock", type: "mock", baseUrl: null });
  return list.map((p) => providerView({ ...p, createdAt: null }, true));
}

providersRoutes.post("/", async (c) => {
  const input = await readBody(c, createProviderInput);
  const checked = checkUpstreamBaseUrl(input.base_url, { allowInsecure: c.env.ALLOW_INSECURE_UPSTREAMS === "on" });
  if (!checked.ok) throw new GatewayError("invalid_request", `Invalid 'base_url': ${checked.reason}.`, { param: "base_url" });
  const row = { name: input.name, type: input.type, baseUrl: checked.url, createdAt: Date.now() };
  const inserted = await drizzle(c.env.DB).insert(providers).values(row).onConflictDoNothing().returning().all();
  if (inserted.length === 0) throw new GatewayError("conflict", `A provider named '${input.name}' already exists.`, { param: "name" });
  invalidateCatalogue();
  return c.json(providerView(row, false), 201);
});

providersRoutes.get("/", async (c) => {
  const custom = await drizzle(c.env.DB).select().from(providers).orderBy(asc(providers.name)).all();
  return c.json({ object: "list", data: [...builtins(c.env), ...custom.map((p) => providerView(p, false))] });
});
