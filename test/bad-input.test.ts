import { describe, expect, it } from "vitest";
import { checksumOf, generateToken } from "../src/keys/token";
import { BASE, chat, createKey, gatewayFetch } from "./support/gateway";

const messages = [{ role: "user", content: "hi" }];

async function expectError(res: Response, status: number, code: string, param?: string | null) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string } };
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(body.error.code).toBe(code);
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

describe("bad input on /v1/chat/completions", () => {
  it("rejects malformed JSON", async () => {
    const { key } = await createKey();
    const res = await gatewayFetch(`${BASE}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: "{not json",
    });
    await expectError(res, 400, "invalid_request");
  });

  it.each([
    [{ messages }, "model"],
    [{ model: "mock/echo" }, "messages"],
    [{ model: "mock/echo", messages: [] }, "messages"],
    [{ model: 42, messages }, "model"],
    [{ model: "mock/echo", messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    [{ model: "mock/echo", messages, temperature: "hot" }, "temperature"],
    [{ model: "mock/echo", messages, max_tokens: -5 }, "max_tokens"],
    [{ model: "mock/echo", messages, stream: "yes" }, "stream"],
    [{ model: "mock/echo", messages: [{ role: "tool", content: "x" }] }, "messages[0].tool_call_id"],
  ])("400 invalid_request naming the param for %j", async (body, param) => {
    const { key } = await createKey();
    await expectError(await chat(key, body), 400, "invalid_request", param);
  });

  it("413 for a body over the limit", async () => {
    const { key } = await createKey();
    const big = "x".repeat(4 * 1024 * 1024 + 1);
    await expectError(await chat(key, { model: "mock/echo", messages: [{ role: "user", content: big }] }), 413, "request_too_large");
  });

  it("415 for a non-JSON content type", async () => {
    const { key } = await createKey();
    const res = await chat(key, { model: "mock/echo", messages }, { "content-type": "text/plain" });
    await expectError(res, 415, "unsupported_media_type");
  });

  it("400 for JSON nested too deeply", async () => {
    const { key } = await createKey();
    let deep: unknown = "x";
    for (let i = 0; i < 200; i++) deep = { a: deep };
    await expectError(await chat(key, { model: "mock/echo", messages, metadata: deep }), 400, "invalid_request");
  });

  it("404 model_not_found for a model no provider serves", async () => {
    const { key } = await createKey();
    await expectError(await chat(key, { model: "llama-3-70b", messages }), 404, "model_not_found", "model");
    await expectError(await chat(key, { model: "nowhere/model", messages }), 404, "model_not_found", "model");
  });
});

describe("agent auth on /v1", () => {
  const valid = { model: "mock/echo", messages };

  it.each([
    ["missing", undefined],
    ["not bearer", "Basic abc"],
    ["garbled", "Bearer hello"],
    ["wrong prefix", "Bearer sk-1234567890"],
  ])("401 invalid_api_key for a %s key", async (_label, authorization) => {
    const res = await gatewayFetch(`${BASE}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(valid),
    });
    await expectError(res, 401, "invalid_api_key");
  });

  it("401 for a bad checksum and for an unknown key id", async () => {
    const { key } = await createKey();
    const last = key.at(-1) === "A" ? "B" : "A";
    await expectError(await chat(`${key.slice(0, -1)}${last}`, valid), 401, "invalid_api_key");
    // Right shape and checksum, but an id no key has.
    const unknown = generateToken().token;
    await expectError(await chat(unknown, valid), 401, "invalid_api_key");
    // A real id with another secret (and a correct checksum for that pair).
    const id = key.slice(3, 19);
    const secret = "s".repeat(32);
    await expectError(await chat(`vk_${id}${secret}${checksumOf(id, secret)}`, valid), 401, "invalid_api_key");
  });

  it("404 JSON for unknown routes", async () => {
    const res = await gatewayFetch(`${BASE}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });
});
