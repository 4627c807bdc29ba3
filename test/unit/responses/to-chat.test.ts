import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors";
import { responsesRequestSchema } from "../../../src/responses/schema";
import { responsesToChat } from "../../../src/responses/to-chat";

/** Responses request → Chat request (reference agent-apis §3.2), and the 400s for what needs stored state. */

const translate = (body: Record<string, unknown>) => responsesToChat(responsesRequestSchema.parse({ model: "claude-sonnet-4-6", ...body }));

function refusal(body: Record<string, unknown>): { param: string | null; message: string; status: number } {
  try {
    translate(body);
  } catch (err) {
    if (err instanceof GatewayError) return { param: err.param, message: err.message, status: err.status };
    throw err;
  }
  throw new Error("expected a 400");
}

const weatherTool = {
  type: "function",
  name: "get_weather",
  description: "Current weather",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};

describe("responsesToChat", () => {
  it("string input and instructions become a system and a user message", () => {
    expect(translate({ input: "Hi", instructions: "Be brief." })).toStrictEqual({
      model: "claude-sonnet-4-6",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
    });
  });

  it("maps message items, replayed output, function calls (merged into one assistant turn) and their outputs", () => {
    const chat = translate({
      input: [
        { role: "developer", content: "Use tools." },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "Weather in Paris and Rome? " },
            { type: "input_image", image_url: "data:image/png;base64,iVBOR", detail: "low" },
          ],
        },
        { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "gAAAA" },
        {
          type: "message",
          role: "assistant",
          id: "msg_1",
          status: "completed",
          phase: "commentary",
          content: [{ type: "output_text", text: "Checking.", annotations: [] }],
        },
        { type: "function_call", id: "fc_1", call_id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" },
        { type: "function_call", id: "fc_2", call_id: "call_2", name: "get_weather", arguments: '{"city":"Rome"}' },
        { type: "function_call_output", call_id: "call_1", output: '{"temp_c":18}' },
        { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "21C" }] },
      ],
    });
    expect(chat.messages).toStrictEqual([
      { role: "developer", content: "Use tools." },
      {
        role: "user",
        content: [
          { type: "text", text: "Weather in Paris and Rome? " },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBOR", detail: "low" } },
        ],
      },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          { id: "call_2", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temp_c":18}' },
      { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "21C" }] },
    ]);
  });

  it("maps tools, tool_choice, text.format, max_output_tokens, sampling, reasoning.effort and stream", () => {
    const chat = translate({
      input: "Go",
      tools: [weatherTool],
      tool_choice: { type: "function", name: "get_weather" },
      parallel_tool_calls: false,
      text: { format: { type: "json_schema", name: "weather", schema: { type: "object" }, strict: true }, verbosity: "low" },
      max_output_tokens: 512,
      temperature: 0.2,
      top_p: 0.9,
      reasoning: { effort: "high", summary: "auto" },
      user: "u-1",
      stream: true,
      store: true,
      include: ["reasoning.encrypted_content"],
      client_metadata: { "x-codex-installation-id": "abc" },
    });
    expect(chat).toStrictEqual({
      model: "claude-sonnet-4-6",
      messages: [{ role: "user", content: "Go" }],
      tools: [
        {
          type: "function",
          function: { name: "get_weather", description: "Current weather", parameters: weatherTool.parameters, strict: true },
        },
      ],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
      response_format: { type: "json_schema", json_schema: { name: "weather", schema: { type: "object" }, strict: true } },
      verbosity: "low",
      max_completion_tokens: 512,
      temperature: 0.2,
      top_p: 0.9,
      reasoning_effort: "high",
      user: "u-1",
      stream: true,
    });
    expect(translate({ input: "Go", text: { format: { type: "json_object" } } }).response_format).toStrictEqual({ type: "json_object" });
    expect(translate({ input: "Go", text: { format: { type: "text" } } }).response_format).toBeUndefined();
  });

  it("allowed_tools narrows the tool list and keeps the mode", () => {
    const other = { ...weatherTool, name: "get_time" };
    const chat = translate({
      input: "Go",
      tools: [weatherTool, other],
      tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "get_time" }] },
    });
    expect(chat.tools?.map((t) => t.function.name)).toStrictEqual(["get_time"]);
    expect(chat.tool_choice).toBe("required");
  });

  it.each([
    [{ input: "x", previous_response_id: "resp_1" }, "previous_response_id"],
    [{ input: "x", conversation: "conv_1" }, "conversation"],
    [{ input: "x", background: true }, "background"],
    [{ input: "x", prompt: { id: "pmpt_1" } }, "prompt"],
    [
      {
        input: [
          { role: "user", content: "x" },
          { type: "item_reference", id: "msg_1" },
        ],
      },
      "input[1].type",
    ],
    [{ input: [{ type: "web_search_call", id: "ws_1", status: "completed" }] }, "input[0].type"],
    [{ input: [{ role: "user", content: [{ type: "input_image", file_id: "file-1" }] }] }, "input[0].content[0].file_id"],
    [{ input: "x", tools: [{ type: "web_search" }] }, "tools[0].type"],
    [{ input: "x", tools: [weatherTool], tool_choice: { type: "file_search" } }, "tool_choice"],
    [{ input: [{ type: "function_call", name: "f", arguments: "{}" }] }, "input[0].call_id"],
  ])("refuses what needs stored state or OpenAI's servers: %j → 400 naming %s", (body, param) => {
    const error = refusal(body);
    expect(error.status).toBe(400);
    expect(error.param).toBe(param);
    expect(error.message.length).toBeGreaterThan(20);
  });

  it("item_reference's message tells AI SDK users what to do", () => {
    expect(refusal({ input: [{ type: "item_reference", id: "msg_1" }] }).message).toContain("store = false");
  });

  it("validates function tool names and text.format through the schema", () => {
    const bad = responsesRequestSchema.safeParse({ model: "m", input: "x", tools: [{ type: "function", name: "bad name" }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toStrictEqual(["tools", 0, "name"]);
    expect(responsesRequestSchema.safeParse({ model: "m", input: "x", tools: [{ type: "web_search", name: "bad name" }] }).success).toBe(true);
    expect(responsesRequestSchema.safeParse({ model: "m", input: "x", text: { format: { type: "json_schema", name: "x" } } }).success).toBe(false);
  });
});
