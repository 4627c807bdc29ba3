import { describe, expect, it } from "vitest";
import { admin, createKey, mockUpstream } from "./support/gateway";
import { GEMINI_ENV_KEY, geminiFetch, geminiRequests } from "./support/gemini";

/**
 * The Gemini surface over a pool of Gemini keys (this file's own: the built-in gemini pool of its
 * storage, first used here so the rotation order is the pool's): a 429 cools the key down and the
 * same request, byte for byte, goes to the next key; with every key cooling the client gets Gemini's
 * 429 RESOURCE_EXHAUSTED with the pool's earliest recovery in Retry-After and RetryInfo. No provider
 * key ever comes back out.
 */

const GEMINI = "gemini-2.5-flash";
const generate = (key: string, text: string, method = "generateContent") =>
  geminiFetch(
    `/v1beta/models/${GEMINI}:${method}${method === "streamGenerateContent" ? "?alt=sse" : ""}`,
    { contents: [{ role: "user", parts: [{ text }] }] },
    {
      "x-goog-api-key": key,
    },
  );

describe("the Gemini surface with a pool of Gemini keys", () => {
  it("a 429 rotates to the next pooled key with the same bytes; all limited → 429 RESOURCE_EXHAUSTED + Retry-After", { timeout: 30_000 }, async () => {
    const add = async (scope: string) => {
      const secret = `AIzaPool${scope}${crypto.randomUUID().replace(/-/g, "")}`;
      expect((await admin("/provider-keys", { method: "POST", json: { provider: "gemini", key: secret, scope } })).status).toBe(201);
      return secret;
    };
    const limit = (secret: string, seconds: number) =>
      mockUpstream.script({
        key: secret,
        status: 429,
        body: {
          error: {
            code: 429,
            message: "You exceeded your current quota.",
            status: "RESOURCE_EXHAUSTED",
            details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${seconds}s` }],
          },
        },
      });
    const first = await add("project-a");
    const second = await add("project-b");
    await limit(first, 30);
    const { key } = await createKey();
    const res = await generate(key, "gm-pool-marker rotate", "streamGenerateContent");
    expect(res.status).toBe(200);
    const wire = await res.text();
    expect(wire).toContain("gm-pool-marker");
    const sent = await geminiRequests("gm-pool-marker rotate");
    expect(sent.map((r) => r.key)).toEqual([first, second]);
    expect(sent[1]!.raw).toBe(sent[0]!.raw);

    await limit(second, 20);
    await limit(GEMINI_ENV_KEY, 25);
    const limited = await generate(key, "gm-pool-marker all limited");
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(19);
    expect(retryAfter).toBeLessThanOrEqual(20);
    const text = await limited.text();
    expect(JSON.parse(text)).toMatchObject({
      error: {
        code: 429,
        status: "RESOURCE_EXHAUSTED",
        details: expect.arrayContaining([{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryAfter}s` }]),
      },
    });
    for (const secret of [first, second, GEMINI_ENV_KEY]) expect(text).not.toContain(secret);
  });
});
