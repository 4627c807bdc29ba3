import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { anthropicSdk, messagesFetch } from "./support/anthropic";
import { chat, createKey, sdk } from "./support/gateway";
import { settledUsage } from "./support/usage";

/**
 * Issue 18, "cost on streams": the charged cost is in the usage object as `cost` (USD, as OpenRouter
 * does) — streamed and buffered, for chat, responses and messages — and in a closing SSE comment for
 * clients that did not ask for usage. Each case uses a fresh key, so the key's spend is exactly the
 * one request's charge.
 */

type Sse = { event: string | null; data: string; comment: string | null };

function sseFrames(text: string): Sse[] {
  return text
    .split("\n\n")
    .filter((f) => f !== "")
    .map((frame) => {
      const lines = frame.split("\n");
      const comment =
        lines
          .find((l) => l.startsWith(":"))
          ?.slice(1)
          .trim() ?? null;
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? null;
      const data = lines
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      return { event, data, comment };
    });
}

const costComment = (frames: Sse[]) => frames.map((f) => /^keyforge-cost-usd=(\d+\.\d{6})$/.exec(f.comment ?? "")?.[1]).find((v) => v !== undefined);
const spendOf = async (id: string) => (await settledUsage(id)).spend_usd;
type WithCost = { cost?: number };

describe("cost in chat completions", () => {
  it("streamed with include_usage: usage.cost is what the key is charged; the comment comes before [DONE]", async () => {
    const { id, key } = await createKey();
    const stream = await sdk(key).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "sc-chat-usage-41 a few words to price" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: (OpenAI.CompletionUsage & WithCost) | null = null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage!.cost).toBeGreaterThan(0);
    expect(usage!.cost).toBe(await spendOf(id));
  });

  it("streamed without include_usage: no usage chunk, the closing comment carries the cost", async () => {
    const { id, key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", messages: [{ role: "user", content: "sc-chat-comment-41" }], stream: true });
    const frames = sseFrames(await res.text());
    expect(frames.some((f) => f.data.includes('"usage":{'))).toBe(false);
    expect(frames.at(-1)!.data).toBe("[DONE]");
    expect(frames.at(-2)!.comment).toMatch(/^keyforge-cost-usd=/);
    expect(Number(costComment(frames))).toBe(await spendOf(id));
  });

  it("buffered: usage.cost equals x-keyforge-cost-usd and the charge (a translated provider too)", async () => {
    for (const model of ["gpt-4o-mini", "claude-haiku-4-5"]) {
      const { id, key } = await createKey();
      const { data, response } = await sdk(key)
        .chat.completions.create({ model, max_tokens: 50, messages: [{ role: "user", content: "sc-chat-buffered-41" }] })
        .withResponse();
      const cost = (data.usage as OpenAI.CompletionUsage & WithCost).cost;
      expect(cost).toBe(Number(response.headers.get("x-keyforge-cost-usd")));
      expect(cost).toBe(await spendOf(id));
    }
  });
});

describe("cost in responses", () => {
  it("streamed (native OpenAI): response.completed's usage.cost is the charge", async () => {
    const { id, key } = await createKey();
    const stream = await sdk(key).responses.create({ model: "gpt-4o-mini", input: "sc-responses-stream-52", store: false, stream: true });
    let completed: OpenAI.Responses.ResponseCompletedEvent | null = null;
    for await (const event of stream) if (event.type === "response.completed") completed = event;
    expect((completed!.response.usage as WithCost).cost).toBe(await spendOf(id));
  });

  it("streamed (translated): the same, and buffered: usage.cost equals the header", async () => {
    const { id, key } = await createKey();
    const stream = await sdk(key).responses.create({ model: "mock/echo", input: "sc-responses-translated-52", stream: true });
    let completed: OpenAI.Responses.ResponseCompletedEvent | null = null;
    for await (const event of stream) if (event.type === "response.completed") completed = event;
    expect((completed!.response.usage as WithCost).cost).toBe(await spendOf(id));

    const fresh = await createKey();
    const { data, response } = await sdk(fresh.key).responses.create({ model: "gpt-4o-mini", input: "sc-responses-buffered-52", store: false }).withResponse();
    expect((data.usage as WithCost).cost).toBe(Number(response.headers.get("x-keyforge-cost-usd")));
    expect((data.usage as WithCost).cost).toBe(await spendOf(fresh.id));
  });
});

describe("cost in messages", () => {
  it("streamed (native Claude): message_delta's usage.cost is the charge; the closing comment too", async () => {
    const { id, key } = await createKey();
    const res = await messagesFetch("/v1/messages", key, {
      model: "claude-haiku-4-5",
      max_tokens: 64,
      stream: true,
      messages: [{ role: "user", content: "sc-messages-stream-63" }],
    });
    const frames = sseFrames(await res.text());
    const delta = JSON.parse(frames.find((f) => f.event === "message_delta")!.data) as { usage: WithCost };
    const spend = await spendOf(id);
    expect(delta.usage.cost).toBe(spend);
    expect(Number(costComment(frames))).toBe(spend);
    expect(frames.at(-1)!.comment).toMatch(/^keyforge-cost-usd=/);
  });

  it("streamed (translated), and buffered native: usage.cost, the rest of Anthropic's body untouched", async () => {
    const { id, key } = await createKey();
    const res = await messagesFetch("/v1/messages", key, {
      model: "mock/echo",
      max_tokens: 64,
      stream: true,
      messages: [{ role: "user", content: "sc-messages-translated-63" }],
    });
    const delta = JSON.parse(sseFrames(await res.text()).find((f) => f.event === "message_delta")!.data) as { usage: WithCost };
    expect(delta.usage.cost).toBe(await spendOf(id));

    const fresh = await createKey();
    const { data, response } = await anthropicSdk(fresh.key)
      .messages.create({ model: "claude-haiku-4-5", max_tokens: 64, messages: [{ role: "user", content: "sc-messages-buffered-63" }] })
      .withResponse();
    expect((data.usage as WithCost).cost).toBe(Number(response.headers.get("x-keyforge-cost-usd")));
    expect((data.usage as WithCost).cost).toBe(await spendOf(fresh.id));
    expect(data.content).toEqual([{ type: "text", text: "sc-messages-buffered-63" }]);
  });
});
