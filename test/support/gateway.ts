import { env, exports } from "cloudflare:workers";
import OpenAI from "openai";
import { TEST_SECRETS } from "./test-secrets";

/** Front-door helpers: every test talks to the Worker's fetch, as a client would. */

export const BASE = "http://gateway.test";

export function gatewayFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(input, init));
}

export function admin(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  return gatewayFetch(`${BASE}/admin/v1${path}`, { ...init, headers, body: body ?? null });
}

export interface CreatedKey {
  id: string;
  key: string;
  [field: string]: unknown;
}

export async function createKey(policy: Record<string, unknown> = {}): Promise<CreatedKey> {
  const res = await admin("/keys", { method: "POST", json: { name: "test key", ...policy } });
  if (res.status !== 201) throw new Error(`createKey: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedKey;
}

/** The official openai SDK pointed at the gateway; only baseURL and apiKey differ from normal use. */
export function sdk(apiKey: string, options: { maxRetries?: number } = {}): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: `${BASE}/v1`,
    maxRetries: options.maxRetries ?? 0,
    fetch: (url, init) => gatewayFetch(url as string, init as RequestInit),
  });
}

export function chat(apiKey: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return gatewayFetch(`${BASE}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Control of the mock upstream server (recorded requests, scripted failures). */
export const mockUpstream = {
  url: () => env.OPENAI_BASE_URL.replace(/\/openai\/v1$/, ""),
  reset: () => fetch(`${mockUpstream.url()}/_mock/reset`, { method: "POST" }),
  script: (script: Record<string, unknown>) => fetch(`${mockUpstream.url()}/_mock/script`, { method: "POST", body: JSON.stringify(script) }),
  requests: async (key?: string) =>
    (await (await fetch(`${mockUpstream.url()}/_mock/requests${key ? `?key=${encodeURIComponent(key)}` : ""}`)).json()) as Array<{
      provider: string;
      path: string;
      key: string | null;
      body: Record<string, unknown>;
      /** True when the gateway closed the connection before the answer's body ended. */
      aborted?: boolean;
    }>,
};
