import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { APIError } from "openai";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { BASE, chat, createKey, mockUpstream, sdk } from "./support/gateway";
import { REQUEST_ROWS } from "./support/audit";
import { sqlRows } from "./support/key-guard";

/**
 * Faults between the gateway and the provider. Each test marks its request with a unique text so
 * the mock upstream's script applies to it alone (test files run in parallel against one mock).
 */

type Entry = { request_id: string; status: number | string; prompt_tokens: number; completion_tokens: number; cost_micros: number };

async function auditOf(keyId: string): Promise<Entry[]> {
  for (let i = 0; i < 100; i++) {
    const [open] = await sqlRows<{ n: number }>(keyId, "select count(*) as n from reservations");
    if (open!.n === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return (await sqlRows<{ entry: string }>(keyId, REQUEST_ROWS)).map((r) => JSON.parse(r.entry) as Entry);
}

const marker = () => `fault-${crypto.randomUUID()}`;

describe("faults", () => {
  it("upstream times out before headers: 504 upstream_timeout, audited, nothing left reserved", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, delayMs: 6000, times: 1 });
    const { id, key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", messages: [{ role: "user", content: m }] });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_timeout");
    expect(await auditOf(id)).toMatchObject([{ status: 504, cost_micros: 0 }]);
  }, 15_000);

  it("upstream resets mid-stream: the client gets a terminal error, usage so far is settled and audited", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, cutAfterFrames: 2, times: 1 });
    const { id, key } = await createKey();
    const stream = await sdk(key).chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: `${m} one two three four five six` }],
    });
    const received: string[] = [];
    const error = await (async () => {
      try {
        for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? "");
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(APIError);
    expect(String((error as APIError).message)).toContain("The provider failed mid-stream.");
    expect(JSON.stringify(error)).not.toContain(m);
    expect(received.length).toBeGreaterThan(0);
    const [entry] = await auditOf(id);
    expect(entry).toMatchObject({ status: 502 });
    // No usage chunk arrived: the prompt estimate and the bytes sent are charged.
    expect(entry!.prompt_tokens).toBeGreaterThan(0);
    expect(entry!.cost_micros).toBeGreaterThan(0);
  });

  it("upstream sends malformed JSON: 502, nothing echoed", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, rawBody: `{"id": "x", "echo": "${m}", broken`, times: 1 });
    const { id, key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", messages: [{ role: "user", content: m }] });
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).not.toContain("broken");
    expect(JSON.parse(text).error.code).toBe("upstream_error");
    expect(await auditOf(id)).toMatchObject([{ status: 502 }]);
  });

  it("upstream sends malformed SSE: the stream ends with an error frame", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, rawBody: `data: {"oops": ${m}\n\ndata: [DONE]\n\n`, times: 1 });
    const { id, key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: m }] });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("oops");
    expect(text).toContain('"code":"upstream_error"');
    expect(await auditOf(id)).toMatchObject([{ status: 502 }]);
  });

  it("an upstream error body is never echoed to the client", async () => {
    const m = marker();
    await mockUpstream.script({
      match: m,
      status: 400,
      body: { error: { message: `secret detail ${m}`, type: "invalid_request_error", param: "messages", code: null } },
      times: 1,
    });
    const { key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", messages: [{ role: "user", content: m }] });
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(body).not.toContain("secret detail");
    expect(JSON.parse(body).error).toMatchObject({
      code: "invalid_request",
      message: "The provider rejected the request with HTTP 400 (invalid_request_error).",
    });
  });

  it("the client disconnects mid-stream: the upstream is aborted and the usage settled", async () => {
    const { id, key } = await createKey();
    const res = await chat(key, { model: "mock/slow", mock_delay_ms: 0, stream: true, messages: [{ role: "user", content: "a b c d e f g h i j" }] });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    const [entry] = await auditOf(id);
    expect(entry).toMatchObject({ status: 499 });
    expect(entry!.prompt_tokens).toBeGreaterThan(0);
  });

  it("the client disconnects mid-stream: the gateway really closes its upstream connection", async () => {
    const m = marker();
    const { id, key } = await createKey();
    // `openai/slow` goes to the loopback mock over the network: 200 ms between frames.
    const res = await chat(key, {
      model: "openai/slow",
      mock_delay_ms: 0,
      stream: true,
      messages: [{ role: "user", content: `${m} a b c d e f g h i j k l` }],
    });
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    const upstream = await upstreamCall(m, (r) => r.aborted === true);
    expect(upstream.aborted).toBe(true);
    const [entry] = await auditOf(id);
    expect(entry).toMatchObject({ status: 499 });
  });

  it("…and aborts it itself, even while the request's context lives on (waitUntil work pending)", async () => {
    // Through app.fetch the upstream call belongs to this test's context, which outlives the
    // response: only the gateway's own abort can close the connection before the stream ends.
    const m = marker();
    const { key } = await createKey();
    const { res, done } = await directStream(key, {
      model: "openai/slow",
      mock_delay_ms: 0,
      stream: true,
      messages: [{ role: "user", content: `${m} a b c d e f g h i j k l` }],
    });
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await done;
    expect((await upstreamCall(m, (r) => r.aborted !== undefined)).aborted).toBe(true);
  });

  it("control: a stream read to the end is not reported as aborted", async () => {
    const m = marker();
    const { key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: `${m} done` }] });
    expect(await res.text()).toContain("[DONE]");
    expect((await upstreamCall(m, (r) => r.aborted !== undefined)).aborted).toBe(false);
  });
});

async function directStream(key: string, body: unknown): Promise<{ res: Response; done: Promise<void> }> {
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const res = await app.fetch(request, env, ctx);
  return { res, done: waitOnExecutionContext(ctx) };
}

/** The mock upstream's record of the call carrying `m`, once `ready` holds for it (polled). */
async function upstreamCall(m: string, ready: (r: { aborted?: boolean }) => boolean) {
  for (let i = 0; i < 100; i++) {
    const found = (await mockUpstream.requests()).find((r) => JSON.stringify(r.body).includes(m));
    if (found && ready(found)) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  return (await mockUpstream.requests()).find((r) => JSON.stringify(r.body).includes(m)) ?? { aborted: undefined };
}
