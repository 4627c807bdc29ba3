import type { Context } from "hono";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { hashKeySecret } from "../keys/secret-hash";
import { parseToken } from "../keys/token";
import { isUnknownKey, rememberUnknownKey } from "../keys/unknown-keys";

/**
 * Secret hashes of recently seen tokens, per isolate: a warm key skips the HMAC (a Web Crypto call
 * on every request otherwise). Bounded, least recently used out, so random well-formed tokens cannot
 * grow it. Holding the hash changes nothing: the KeyGuard still compares it with the stored one.
 */
const HASH_CACHE_SIZE = 1_000;
const hashCache = new Map<string, { pepper: string; hash: string }>();

async function secretHash(pepper: string, token: string, id: string, secret: string): Promise<string> {
  const cached = hashCache.get(token);
  hashCache.delete(token);
  if (cached && cached.pepper === pepper) {
    hashCache.set(token, cached);
    return cached.hash;
  }
  const hash = await hashKeySecret(pepper, id, secret);
  if (hashCache.size >= HASH_CACHE_SIZE) hashCache.delete(hashCache.keys().next().value!);
  hashCache.set(token, { pepper, hash });
  return hash;
}

export interface AgentKey {
  id: string;
  secretHash: string;
}

/**
 * The agent's `vk_` key from `Authorization: Bearer` (and, on Anthropic's surface, `x-api-key`). A
 * missing, malformed or mistyped token (bad checksum), or one whose id a KeyGuard recently reported
 * as no key, is rejected here with no I/O; the key's KeyGuard then checks the secret hash.
 */
export async function agentKey(c: Context<AppEnv>, options: { xApiKey?: boolean; google?: boolean } = {}): Promise<AgentKey> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
  // Anthropic clients send x-api-key (ANTHROPIC_API_KEY), Authorization (ANTHROPIC_AUTH_TOKEN), or
  // both (apiKeyHelper). The vk_ one counts; two different vk_ keys in one request are refused, as
  // which one was meant is not ours to guess.
  const apiKey = options.xApiKey ? c.req.header("x-api-key")?.trim() || undefined : undefined;
  // Gemini clients send x-goog-api-key (@google/genai) or ?key= (curl examples). The query form is
  // read here and nowhere else: upstream URLs are built afresh, and no URL with its query is logged.
  const googKey = options.google ? c.req.header("x-goog-api-key")?.trim() || undefined : undefined;
  const queryKey = options.google ? new URL(c.req.url).searchParams.get("key")?.trim() || undefined : undefined;
  const given = [apiKey, googKey, queryKey, bearer].filter((t): t is string => t !== undefined);
  if (given.length === 0) {
    throw new GatewayError("invalid_api_key", missingKeyMessage(options));
  }
  const parsed = given.flatMap((raw) => {
    const token = parseToken(raw);
    return token ? [{ raw, token }] : [];
  });
  if (parsed.some((p) => p.raw !== parsed[0]!.raw)) {
    throw new GatewayError("invalid_api_key", "The request carries two different keys: send one vk_ key.");
  }
  const found = parsed[0];
  if (!found || isUnknownKey(found.token.id)) throw new GatewayError("invalid_api_key", "Invalid API key.");
  return { id: found.token.id, secretHash: await secretHash(c.env.KEY_PEPPER, found.raw, found.token.id, found.token.secret) };
}

function missingKeyMessage(options: { xApiKey?: boolean; google?: boolean }): string {
  if (options.google) return "Missing API key: send x-goog-api-key: vk_… (or ?key=vk_…).";
  return options.xApiKey ? "Missing API key: send x-api-key: vk_… or Authorization: Bearer vk_…." : "Missing API key: send Authorization: Bearer vk_….";
}

/** After a KeyGuard's answer: an id it reported as no key is refused in this isolate for a while. */
export function noteUnknownKey(keyId: string, result: { ok: boolean; unknownKey?: true }): void {
  if (!result.ok && result.unknownKey) rememberUnknownKey(keyId);
}
