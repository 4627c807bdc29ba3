import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";

/**
 * Every response carries `x-request-id`. The id is always generated here, never taken from the
 * client: it keys the idempotent settle of a request, so a client-chosen id could collide.
 */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const id = `req_${crypto.randomUUID().replace(/-/g, "")}`;
    c.set("requestId", id);
    await next();
    c.res.headers.set("x-request-id", id);
  };
}
