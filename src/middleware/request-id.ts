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
    try {
      c.res.headers.set("x-request-id", id);
    } catch {
      // A response passed through from fetch() (e.g. the report page from ASSETS) has immutable
      // headers: answer with a copy, which shares the body stream and takes the header.
      const copy = new Response(c.res.body, c.res);
      copy.headers.set("x-request-id", id);
      c.res = copy;
    }
  };
}
