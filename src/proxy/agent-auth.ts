import type { Context } from "hono";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { hashKeySecret } from "../keys/secret-hash";
import { parseToken } from "../keys/token";

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
  return { id: token.id, secretHash: await hashKeySecret(c.env.KEY_PEPPER, token.id, token.secret) };
}
