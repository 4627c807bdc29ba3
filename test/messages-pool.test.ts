import { describe, expect, it } from "vitest";
import { anthropicRequests, messagesFetch } from "./support/anthropic";
import { admin, createKey, mockUpstream } from "./support/gateway";

/**
 * /v1/messages over a pool of Anthropic keys (this file's own: the built-in anthropic pool of its
 * storage): a 429 cools the key down and the same request, byte for byte, goes to the next key, for
 * a streamed answer too; with every key cooling the client gets Anthropic's rate_limit_error with the
 * pool's earliest recovery in retry-after. No provider key ever comes back out.
 */

async function addAnthropicKey(scope: string): Promise<string> {
  const key = `sk-ant-pool-${scope}-${crypto.randomUUID().replace(/-/g, "")}`;
  const res = await admin("/provider-keys", { method: "POST", json: { provider: "anthropic", key, scope } });
  expect(res.status).toBe(201);
  return key;
}

const limit = (key: string, retryAfterSeconds: number) =>
  mockUpstream.script({
    key,
    status: 429,
    headers: { "retry-after": String(retryAfterSeconds) },
    body: { type: "error", error: { type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit" } },
  });

describe("/v1/messages with a pool of Anthropic keys", () => {
  it("a 429 rotates to the next key with the same bytes (streamed); all limited → rate_limit_error + retry-after", { timeout: 30_000 }, async () => {
    const first = await addAnthropicKey("org-a");
    const second = await addAnthropicKey("org-b");
    await limit(first, 30);
    const { key } = await createKey();

    const res = await messagesFetch("/v1/messages?beta=true", key, {
      model: "claude-haiku-4-5",
      max_tokens: 64,
      stream: true,
      messages: [{ role: "user", content: "pool-marker rotate me" }],
    });
    expect(res.status).toBe(200);
    const wire = await res.text();
    expect(wire).toContain('"text":"pool-marker "');
    // The last event is message_stop; only KeyForge's closing cost comment (`: keyforge-cost-usd=…`) follows it.
    expect(
      wire
        .replace(/\n: keyforge-cost-usd=[\d.]+\n+$/, "")
        .trimEnd()
        .endsWith('event: message_stop\ndata: {"type":"message_stop"}'),
    ).toBe(true);
    const sent = await anthropicRequests("pool-marker rotate me");
    expect(sent.map((r) => r.key)).toEqual([first, second]);
    expect(sent[1]!.raw).toBe(sent[0]!.raw);
    expect(wire).not.toContain(first);
    expect(wire).not.toContain(second);

    // The env key (ANTHROPIC_API_KEY) is a member of the pool too.
    await limit(second, 20);
    await limit("sk-ant-test-env-0123456789", 25);
    const limited = await messagesFetch("/v1/messages", key, {
      model: "claude-haiku-4-5",
      max_tokens: 64,
      messages: [{ role: "user", content: "pool-marker all limited" }],
    });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(19);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(limited.headers.get("x-should-retry")).toBeNull();
    const text = await limited.text();
    expect(JSON.parse(text)).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    for (const secret of [first, second, "sk-ant-test-env-0123456789"]) expect(text).not.toContain(secret);
    expect((await anthropicRequests("pool-marker all limited")).map((r) => r.key).sort()).toEqual([second, "sk-ant-test-env-0123456789"].sort());
  });
});
