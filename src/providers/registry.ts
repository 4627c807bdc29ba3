import type { Env } from "../env";
import { GatewayError } from "../errors";
import { BUILTIN_PRICES, lookupPrice } from "../pricing/catalogue";
import { maxOutputTokens } from "../pricing/max-output";
import type { ModelPrice } from "../pricing/price";
import { anthropicAdapter } from "./anthropic";
import { getCatalogue } from "./catalogue";
import { geminiAdapter } from "./gemini";
import { handleMockRequest } from "./mock/mock-upstream";
import { openAiAdapter } from "./openai/adapter";
import type { ProviderAdapter } from "./types";

/** Model routing: `provider/model`, or a bare name by prefix (`gpt-*`, `o<n>*`, `claude-*`, `gemini-*`). */

export interface ResolvedModel {
  /** Pool name: openai | anthropic | gemini | mock | a custom provider. */
  provider: string;
  adapter: ProviderAdapter;
  baseUrl: string;
  /** The model id upstream knows. */
  model: string;
  /** `provider/model`, as audited and metered. */
  canonical: string;
  /** Every name the model answers to, for allow-lists (see modelNames). */
  names: string[];
  price: ModelPrice | null;
  /** The model's maximum output tokens from the catalogue (src/pricing/max-output.ts); null when unknown. */
  maxOutputTokens: number | null;
  /** In-process upstream (the mock provider) instead of the network. */
  inProcess?: (request: Request) => Promise<Response>;
}

export const BUILTIN_PROVIDERS = ["openai", "anthropic", "gemini", "mock"] as const;
const ALIASES: Record<string, string> = { google: "gemini" };

export function mockEnabled(env: Env): boolean {
  return env.KEYFORGE_MOCK_PROVIDER === "on";
}

function byPrefix(model: string): string | null {
  // text-embedding-*: OpenAI's embedding models (Google's old text-embedding-004 needs `google/`).
  if (/^(gpt-|chatgpt-|o\d|text-embedding-)/.test(model)) return "openai";
  if (model.startsWith("claude-")) return "anthropic";
  if (model.startsWith("gemini-")) return "gemini";
  return null;
}

/**
 * The names a resolved model answers to in allow-lists: `provider/model`, Gemini's `google/` alias,
 * and the bare `model` only when that bare name routes to this same provider by itself. Never the
 * text the agent typed: `relay/openai/gpt-4o-mini` is relay's model and must not pass for
 * `openai/gpt-4o-mini` or `openai/*`, nor `relay/gpt-4o-mini` for a bare `gpt-*`.
 */
export function modelNames(provider: string, model: string): string[] {
  const names = [`${provider}/${model}`];
  if (provider === "gemini") names.push(`google/${model}`);
  if (!model.includes("/") && byPrefix(model) === provider) names.push(model);
  return names;
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");

function builtin(env: Env, provider: string): { adapter: ProviderAdapter; baseUrl: string } | null {
  switch (provider) {
    case "openai":
      return { adapter: openAiAdapter, baseUrl: trimSlash(env.OPENAI_BASE_URL) };
    case "anthropic":
      return { adapter: anthropicAdapter, baseUrl: trimSlash(env.ANTHROPIC_BASE_URL) };
    case "gemini":
      return { adapter: geminiAdapter, baseUrl: trimSlash(env.GEMINI_BASE_URL) };
    case "mock":
      return mockEnabled(env) ? { adapter: openAiAdapter, baseUrl: "http://mock.keyforge.internal/v1" } : null;
    default:
      return null;
  }
}

function notFound(requested: string): GatewayError {
  return new GatewayError("model_not_found", `The model '${requested}' does not exist or no provider serves it.`, { param: "model" });
}

export async function resolveModel(env: Env, requested: string, waitUntil?: (p: Promise<unknown>) => void): Promise<ResolvedModel> {
  const slash = requested.indexOf("/");
  const explicit = slash > 0 ? requested.slice(0, slash).toLowerCase() : null;
  const provider = explicit ? (ALIASES[explicit] ?? explicit) : byPrefix(requested);
  const model = explicit ? requested.slice(slash + 1) : requested;
  if (!provider || model === "") throw notFound(requested);

  const names = modelNames(provider, model);
  const fixed = builtin(env, provider);
  const isBuiltin = (BUILTIN_PROVIDERS as readonly string[]).includes(provider);
  if (isBuiltin && !fixed) throw notFound(requested);
  // The catalogue (D1, cached) is consulted for custom providers and admin-set prices only.
  const catalogue = await getCatalogue(env.DB, waitUntil);
  const canonical = `${provider}/${model}`;
  const price = catalogue.prices.get(canonical) ?? lookupPrice(BUILTIN_PRICES[provider], model);
  if (fixed) {
    return {
      provider,
      ...fixed,
      model,
      canonical,
      names,
      price,
      maxOutputTokens: maxOutputTokens(provider, model),
      ...(provider === "mock" ? { inProcess: (r: Request) => handleMockRequest(r) } : {}),
    };
  }
  const custom = catalogue.providers.get(provider);
  if (!custom) throw notFound(requested);
  return { provider, adapter: openAiAdapter, baseUrl: trimSlash(custom.baseUrl), model, canonical, names, price, maxOutputTokens: null };
}
