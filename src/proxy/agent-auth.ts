import type { Context } from "hono";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { hashKeySecret } from "../keys/secret-hash";
import { parseToken } from "../keys/token";

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

/**
 * The agent's `vk_` key from `Authorization: Bearer`. A missing, malformed or mistyped token (bad
 * checksum) is rejected here with no I/O; the key's KeyGuard then checks the secret hash.
 */
export async function agentKey(c: Context<AppEnv>): Promise<{ id: string; secretHash: string }> {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw new GatewayError("invalid_api_key", "Missing API key: send Authorization: Bearer vk_….");
  }
  const token = parseToken(match[1]!);
  if (!token) throw new GatewayError("invalid_api_key", "Invalid API key.");
  return { id: token.id, secretHash: await secretHash(c.env.KEY_PEPPER, match[1]!, token.id, token.secret) };
}
