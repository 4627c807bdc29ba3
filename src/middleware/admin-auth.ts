import type { MiddlewareHandler } from "hono";
import { cachedAdminToken, hashAdminSecret, parseAdminToken, ROOT_ACTOR, type AdminActor } from "../admin/admin-tokens";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { registerSecret } from "../lib/log";
import { timingSafeEqualStrings } from "../lib/timing-safe";
import { isAuditRead, isSafeMethod } from "./control-plane";

const unauthorized = () => new GatewayError("unauthorized", "A valid admin token is required: Authorization: Bearer <ADMIN_TOKEN>.");

/**
 * `Authorization: Bearer <token>`: ADMIN_TOKEN (the built-in admin, actor "root") or a named
 * `kfa_` admin token (src/admin/admin-tokens.ts), each compared in constant time. Sets `actor`.
 * An auditor may read (GET, audit verify, audit reports) and nothing else: 403 forbidden.
 * No ADMIN_TOKEN configured → closed, named tokens included.
 */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuthMiddleware(c, next) {
    const expected = c.env.ADMIN_TOKEN;
    // log.ts promises the admin token is redacted from every log line: register it where it is read.
    registerSecret(expected);
    const match = /^Bearer (\S+)$/.exec(c.req.header("authorization") ?? "");
    if (!expected || !match) throw unauthorized();
    const actor = await identify(c.env, match[1]!, expected);
    if (!actor) throw unauthorized();
    if (actor.role === "auditor" && !isSafeMethod(c.req.method) && !isAuditRead(c.req.method, c.req.path)) {
      throw new GatewayError("forbidden", `The admin token '${actor.name}' has the auditor role: it can read, not change anything.`);
    }
    c.set("actor", actor);
    await next();
  };
}

async function identify(env: Cloudflare.Env, presented: string, rootToken: string): Promise<AdminActor | null> {
  const named = parseAdminToken(presented);
  if (!named) return (await timingSafeEqualStrings(presented, rootToken)) ? { id: null, name: ROOT_ACTOR, role: "admin" } : null;
  const row = await cachedAdminToken(env.DB, named.id);
  // Hash even for an unknown id, so a miss costs the same as a wrong secret.
  const hash = await hashAdminSecret(env.KEY_PEPPER, named.id, named.secret);
  if (!row || !(await timingSafeEqualStrings(hash, row.secretHash)) || row.revokedAt !== null) return null;
  return { id: row.id, name: row.name, role: row.role };
}
