import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { registerSecret } from "../lib/log";
import { timingSafeEqualStrings } from "../lib/timing-safe";

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. No token configured → closed. */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuthMiddleware(c, next) {
    const expected = c.env.ADMIN_TOKEN;
    // log.ts promises the admin token is redacted from every log line: register it where it is read.
    registerSecret(expected);
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer (\S+)$/.exec(header);
    if (!expected || !match || !(await timingSafeEqualStrings(match[1]!, expected))) {
      throw new GatewayError("unauthorized", "A valid admin token is required: Authorization: Bearer <ADMIN_TOKEN>.");
    }
    await next();
  };
}
