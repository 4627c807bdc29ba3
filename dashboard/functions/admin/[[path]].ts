/**
 * Cloudflare Pages Function (only when the dashboard is deployed to Pages): proxies `/admin/*` to
 * the gateway named by the KEYFORGE_API_URL environment variable, so the dashboard keeps calling
 * its own origin (no CORS, the strict `connect-src 'self'` CSP holds). The Worker's own static
 * assets do not use this file.
 */
interface ProxyContext {
  request: Request;
  env: { KEYFORGE_API_URL?: string };
}

export async function onRequest({ request, env }: ProxyContext): Promise<Response> {
  const base = env.KEYFORGE_API_URL;
  if (!base || !/^https:\/\//.test(base)) {
    const body = { error: { code: "internal_error", message: "KEYFORGE_API_URL (https://…) is not set for this Pages project.", request_id: "" } };
    return Response.json(body, { status: 500 });
  }
  const incoming = new URL(request.url);
  const target = new URL(incoming.pathname + incoming.search, base);
  const headers = new Headers();
  for (const name of ["authorization", "content-type", "accept"]) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  return fetch(target, { method: request.method, headers, body: hasBody ? await request.arrayBuffer() : undefined, redirect: "manual" });
}
