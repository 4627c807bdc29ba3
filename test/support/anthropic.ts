import Anthropic from "@anthropic-ai/sdk";
import { BASE, gatewayFetch, mockUpstream } from "./gateway";

/**
 * The official Anthropic SDK pointed at the gateway; only the base URL and the key differ from
 * normal use. `apiKey` sends `x-api-key` (ANTHROPIC_API_KEY), `authToken` sends
 * `Authorization: Bearer` (ANTHROPIC_AUTH_TOKEN, what Claude Code uses with a gateway).
 */
export function anthropicSdk(key: string, header: "x-api-key" | "bearer" = "x-api-key", options: { maxRetries?: number; sent?: Headers[] } = {}): Anthropic {
  return new Anthropic({
    ...(header === "x-api-key" ? { apiKey: key, authToken: null } : { apiKey: null, authToken: key }),
    baseURL: BASE,
    maxRetries: options.maxRetries ?? 0,
    fetch: (url: string | URL | Request, init?: RequestInit) => {
      options.sent?.push(new Headers(init?.headers));
      return gatewayFetch(url as string, init);
    },
  });
}

/** A raw POST to the Messages surface, as a hand-written client would send it. */
export function messagesFetch(path: string, key: string | null, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return gatewayFetch(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...(key ? { "x-api-key": key } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export interface RecordedAnthropic {
  provider: string;
  path: string;
  key: string | null;
  body: Record<string, unknown>;
  raw: string;
  headers: Record<string, string>;
}

/** The requests the mock Anthropic received whose body contains `marker` (unique per test). */
export async function anthropicRequests(marker: string): Promise<RecordedAnthropic[]> {
  const all = (await mockUpstream.requests()) as unknown as RecordedAnthropic[];
  return all.filter((r) => r.provider === "anthropic" && (r.raw ?? "").includes(marker));
}
