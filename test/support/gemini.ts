import { GoogleGenAI } from "@google/genai";
import { BASE, gatewayFetch, mockUpstream } from "./gateway";

/**
 * @google/genai pointed at the gateway; only the base URL and the key differ from normal use (the
 * key goes in x-goog-api-key, as the SDK sends it). `sent` collects what the SDK put on the wire.
 */
export function geminiSdk(key: string, options: { sent?: Array<{ url: string; body: string }> } = {}): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: key,
    httpOptions: {
      baseUrl: BASE,
      fetch: (url: RequestInfo | URL, init?: RequestInit) => {
        options.sent?.push({ url: String(url), body: typeof init?.body === "string" ? init.body : "" });
        return gatewayFetch(url as string, init);
      },
    },
  });
}

/** A raw POST to the Gemini surface, as a hand-written client (curl) would send it. */
export function geminiFetch(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return gatewayFetch(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export interface RecordedGemini {
  provider: string;
  path: string;
  key: string | null;
  body: Record<string, unknown>;
  raw: string;
  headers: { query: string };
}

/** The requests the mock Gemini received whose body contains `marker` (unique per test). */
export async function geminiRequests(marker: string): Promise<RecordedGemini[]> {
  const all = (await mockUpstream.requests()) as unknown as RecordedGemini[];
  return all.filter((r) => r.provider === "gemini" && (r.raw ?? "").includes(marker));
}

/** Every request any mock provider received whose body contains `marker`. */
export async function upstreamRequests(marker: string): Promise<Array<{ provider: string; path: string }>> {
  return (await mockUpstream.requests()).filter((r) => JSON.stringify(r.body).includes(marker));
}

export const GEMINI_ENV_KEY = "AIzaTestEnvGemini0123456789abcdef";
