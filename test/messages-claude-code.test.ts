import { describe, expect, it } from "vitest";
import replay from "./fixtures/anthropic/claude-code-request.json";
import { anthropicRequests } from "./support/anthropic";
import { requestEntries, waitForEntries } from "./support/audit";
import { BASE, createKey, gatewayFetch } from "./support/gateway";

/**
 * Claude Code through KeyForge, as the README sets it up (ANTHROPIC_BASE_URL = the gateway root,
 * ANTHROPIC_AUTH_TOKEN = a vk_ key). There is no Claude Code binary here, so its request (headers
 * and body shape from the reference, test/fixtures/anthropic/claude-code-request.json) is replayed
 * as it would arrive: the gateway must forward it to Anthropic untouched (system attribution block,
 * cache_control, signed thinking, beta-paired fields, headers), stream the answer event by event,
 * and meter the cache reads and writes.
 */

/** What Claude Code derives from its environment (README recipe). */
const ANTHROPIC_BASE_URL = BASE;

function replayed(token: string, headers: Record<string, string> = {}): Promise<Response> {
  const sent = { ...replay.headers, authorization: replay.headers.authorization.replace("${ANTHROPIC_AUTH_TOKEN}", token), ...headers };
  return gatewayFetch(`${ANTHROPIC_BASE_URL}${replay.path}`, { method: "POST", headers: sent, body: JSON.stringify(replay.body) });
}

describe("a Claude Code request replayed through the gateway", () => {
  it("HEAD probe, then the streamed turn: forwarded byte for byte, relayed event by event, metered with its cache counts", { timeout: 30_000 }, async () => {
    expect((await gatewayFetch(`${ANTHROPIC_BASE_URL}/`, { method: "HEAD" })).status).toBe(200);
    // The key of the README recipe.
    const { id, key } = await createKey({ name: "claude-code", models: ["claude-*"], spend_cap_usd: 20 });

    const res = await replayed(key);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const wire = await res.text();
    const events = [...wire.matchAll(/^event: (\w+)\ndata: (.*)$/gm)].map((m) => ({ name: m[1]!, data: JSON.parse(m[2]!) as { type: string } }));
    expect(events.every((e) => e.data.type === e.name)).toBe(true);
    expect(events[0]!.name).toBe("message_start");
    expect(events.some((e) => e.name === "ping")).toBe(true);
    expect(events.at(-1)!.name).toBe("message_stop");

    const [upstream] = await anthropicRequests("claude-code-replay");
    expect(upstream!.raw).toBe(JSON.stringify(replay.body));
    expect(upstream!.headers["anthropic-version"]).toBe("2023-06-01");
    expect(upstream!.headers["anthropic-beta"]).toBe(replay.headers["anthropic-beta"]);
    // Only the pooled provider key goes upstream, never the agent's token.
    expect(upstream!.key).toBe("sk-ant-test-env-0123456789");
    expect(upstream!.raw).not.toContain(key);

    await waitForEntries(id, 1);
    const [entry] = await requestEntries(id);
    const start = events[0]!.data as unknown as { message: { usage: Record<string, number> } };
    const u = start.message.usage;
    expect(entry).toMatchObject({ endpoint: "messages", model: "anthropic/claude-sonnet-4-6", status: 200, stream: true });
    // Metered on Anthropic's own counts: every input token (uncached + cache reads + cache writes).
    expect(entry!.prompt_tokens).toBe(u.input_tokens! + u.cache_read_input_tokens! + u.cache_creation_input_tokens!);
    expect(u.cache_creation_input_tokens).toBeGreaterThan(0);
  });

  it("the same request with the key in x-api-key, or in both headers (apiKeyHelper); count_tokens too", { timeout: 30_000 }, async () => {
    const { key } = await createKey();
    const viaApiKey = await replayed(key, { authorization: "", "x-api-key": key });
    expect(viaApiKey.status).toBe(200);
    await viaApiKey.text();
    const viaBoth = await replayed(key, { "x-api-key": key });
    expect(viaBoth.status).toBe(200);
    await viaBoth.text();

    const { stream: _stream, max_tokens: _max, temperature: _t, metadata: _m, ...countBody } = replay.body;
    const counted = await gatewayFetch(`${ANTHROPIC_BASE_URL}/v1/messages/count_tokens?beta=true`, {
      method: "POST",
      headers: { ...replay.headers, authorization: `Bearer ${key}` },
      body: JSON.stringify(countBody),
    });
    expect(counted.status).toBe(200);
    expect(((await counted.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
  });
});
