import { createOpenAI } from "@ai-sdk/openai";
import { Agent, run, setDefaultOpenAIClient, setTracingDisabled, tool as agentTool } from "@openai/agents";
import { APICallError, generateText, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startGateway, type Gateway } from "../e2e/support/gateway";
import { serve, type Served } from "../mocks/serve";
import { mockUpstreams } from "../mocks/upstreams";

/**
 * The agent frameworks that speak only the Responses API, as their users run them: the OpenAI
 * Agents SDK (default Responses mode) and the Vercel AI SDK's `openai(model)`, with only the base
 * URL and the key changed. They need Node APIs, so they run here against a real local gateway
 * (`wrangler dev`, one start for the file) whose OpenAI / Anthropic / Gemini upstreams are the
 * exact-format mocks of the workerd suite, served from this process.
 */

/** The mock answers a tool-bearing turn with a call whose arguments are `{"input": <user text>}`. */
const inputSchema = z.object({ input: z.string() });

describe.skipIf(process.env.KEYFORGE_E2E === "off")("agent frameworks over /v1/responses (wrangler dev)", () => {
  let upstream: Served;
  let gateway: Gateway;
  let vk: string;
  let keyId: string;
  const admin = async (path: string, init: { method?: string; json?: unknown } = {}) =>
    fetch(`${gateway.url}/admin/v1${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${gateway.adminToken}`, "content-type": "application/json" },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
  const upstreamRequests = async (tag: string) =>
    ((await (await fetch(`${upstream.url}/_mock/requests`)).json()) as Array<{ provider: string; path: string; body: unknown }>).filter((r) =>
      JSON.stringify(r.body).includes(tag),
    );

  beforeAll(async () => {
    upstream = await serve(mockUpstreams());
    gateway = await startGateway({
      ALLOW_INSECURE_UPSTREAMS: "on",
      OPENAI_BASE_URL: `${upstream.url}/openai/v1`,
      ANTHROPIC_BASE_URL: `${upstream.url}/anthropic`,
      GEMINI_BASE_URL: `${upstream.url}/gemini`,
      OPENAI_API_KEY: "sk-node-agents-openai-0123456789",
      ANTHROPIC_API_KEY: "sk-ant-node-agents-0123456789",
      GEMINI_API_KEY: "AIzaNodeAgentsGemini0123456789abcd",
    });
    const created = (await (await admin("/keys", { method: "POST", json: { name: "agents", spend_cap_usd: 5 } })).json()) as { id: string; key: string };
    vk = created.key;
    keyId = created.id;
    // The Agents SDK would otherwise send traces to api.openai.com, around the gateway.
    setTracingDisabled(true);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  describe("@openai/agents, default Responses mode", () => {
    it.each(["gpt-5.4", "claude-sonnet-4-6", "gemini-2.5-flash"])("%s: a one-tool agent runs to its final answer", async (model) => {
      setDefaultOpenAIClient(new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: vk }));
      const calls: string[] = [];
      const lookup = agentTool({
        name: "lookup",
        description: "Looks a city up",
        parameters: inputSchema,
        execute: async ({ input }) => {
          calls.push(input);
          return `sunny in ${input}`;
        },
      });
      const agent = new Agent({ name: "Weather", instructions: "Use the lookup tool.", tools: [lookup], model });
      const tag = `agents-${model}`;
      const result = await run(agent, tag);
      expect(calls).toStrictEqual([tag]);
      // Gemini takes tool results as objects: the adapter wraps a string as {"result": …}.
      expect(result.finalOutput).toMatch(new RegExp(`^Tool result: .*sunny in ${tag}`));
      const paths = (await upstreamRequests(tag)).map((r) => r.path);
      // Two model turns (the call, then the answer); OpenAI natively, the others translated.
      expect(paths).toHaveLength(2);
      if (model.startsWith("gpt-")) expect(new Set(paths)).toStrictEqual(new Set(["/v1/responses"]));
      else expect(paths.every((p) => p !== "/v1/responses")).toBe(true);
    });
  });

  describe("Vercel AI SDK, openai(model) = Responses", () => {
    const provider = () => createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: vk });

    it.each(["gpt-5.4", "claude-sonnet-4-6"])("%s: generateText and streamText", async (model) => {
      const openai = provider();
      const { text, usage } = await generateText({ model: openai(model), prompt: `ai-sdk generate ${model}`, providerOptions: { openai: { store: false } } });
      expect(text).toBe(`ai-sdk generate ${model}`);
      expect(usage.inputTokens).toBeGreaterThan(0);
      const stream = streamText({ model: openai(model), prompt: `ai-sdk stream ${model}`, providerOptions: { openai: { store: false } } });
      let streamed = "";
      for await (const delta of stream.textStream) streamed += delta;
      expect(streamed).toBe(`ai-sdk stream ${model}`);
      expect((await stream.usage).outputTokens).toBeGreaterThan(0);
    });

    it.each(["gpt-5.4", "claude-sonnet-4-6", "gemini-2.5-flash"])("%s: a tool call over two steps with store: false", async (model) => {
      const openai = provider();
      const tag = `ai-sdk-tool-${model}`;
      const result = await generateText({
        model: openai(model),
        prompt: tag,
        tools: { lookup: tool({ description: "Looks a city up", inputSchema, execute: async ({ input }) => `cloudy in ${input}` }) },
        stopWhen: stepCountIs(3),
        providerOptions: { openai: { store: false } },
      });
      expect(result.steps).toHaveLength(2);
      expect(result.steps[0]!.toolCalls.map((c) => c.input)).toStrictEqual([{ input: tag }]);
      expect(result.text).toMatch(new RegExp(`^Tool result: .*cloudy in ${tag}`));
    });

    it("the AI SDK's default store: true works natively (item_reference) and is refused clearly for a translated model", async () => {
      const openai = provider();
      const tools = { lookup: tool({ description: "Looks a city up", inputSchema, execute: async ({ input }) => `rain in ${input}` }) };
      const native = await generateText({ model: openai("gpt-5.4"), prompt: "ai-sdk stored", tools, stopWhen: stepCountIs(3) });
      expect(native.text).toBe("Tool result: rain in ai-sdk stored");
      const refused = await generateText({ model: openai("claude-sonnet-4-6"), prompt: "ai-sdk stored claude", tools, stopWhen: stepCountIs(3) }).catch(
        (err: unknown) => err,
      );
      expect(APICallError.isInstance(refused)).toBe(true);
      const error = refused as APICallError;
      expect(error.statusCode).toBe(400);
      expect(error.responseBody).toContain("store = false");
    });
  });

  it("every request was metered on the key and its audit chain verifies", async () => {
    const verified = (await (await admin(`/keys/${keyId}/audit/verify`, { method: "POST" })).json()) as { valid: boolean; entries: number };
    expect(verified.valid).toBe(true);
    expect(verified.entries).toBeGreaterThanOrEqual(15);
  });
});
