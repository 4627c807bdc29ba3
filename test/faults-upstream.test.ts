import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, chat, createKey, mockUpstream } from "./support/gateway";
import { REQUEST_ROWS } from "./support/audit";
import { sqlRows } from "./support/key-guard";

/**
 * A failing or hostile upstream, per provider: mid-stream errors and resets for Anthropic and
 * Gemini (OpenAI's are in faults.test.ts), huge and endless error bodies, redirects (never
 * followed, for built-in and custom providers alike), and error types that echo the key.
 * Each request carries a unique marker so the mock's scripts apply to it alone.
 */

const marker = () => `fault-${crypto.randomUUID()}`;

async function auditStatuses(keyId: string): Promise<Array<number | string>> {
  for (let i = 0; i < 100; i++) {
    const [open] = await sqlRows<{ n: number }>(keyId, "select count(*) as n from reservations");
    if (open!.n === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return (await sqlRows<{ entry: string }>(keyId, REQUEST_ROWS)).map((r) => (JSON.parse(r.entry) as { status: number | string }).status);
}

/** The calls the mock received whose body carries `m`. */
async function callsWith(m: string) {
  return (await mockUpstream.requests()).filter((r) => JSON.stringify(r.body).includes(m));
}

const PROVIDERS = [
  ["anthropic", "claude-haiku-4-5", /overloaded/i],
  ["gemini", "gemini-2.5-flash", /overloaded|UNAVAILABLE/],
] as const;

describe.each(PROVIDERS)("mid-stream failures through the gateway: %s", (_provider, model, upstreamText) => {
  async function streamed(content: string): Promise<{ text: string; keyId: string }> {
    const { id, key } = await createKey();
    const res = await chat(key, { model, stream: true, messages: [{ role: "user", content }] });
    expect(res.status).toBe(200);
    return { text: await res.text(), keyId: id };
  }

  function expectTerminalError(text: string): void {
    const frames = text.split("\n\n").filter(Boolean);
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.at(-1)).toContain('"code":"upstream_error"');
    expect(text).not.toContain("[DONE]");
    expect(text).not.toMatch(upstreamText);
  }

  it("an error event after the first delta: frames so far, then one error frame; audited 502", async () => {
    const { text, keyId } = await streamed(`MOCK_MIDSTREAM_ERROR one two three ${marker()}`);
    expectTerminalError(text);
    expect(await auditStatuses(keyId)).toEqual([502]);
  });

  it("the connection resets after two frames: the same", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, cutAfterFrames: 2, times: 1 });
    const { text, keyId } = await streamed(`${m} one two three four five six seven`);
    expectTerminalError(text);
    expect(await auditStatuses(keyId)).toEqual([502]);
  });
});

describe("hostile upstream bodies", () => {
  it("a huge error body: 502 at once, the gateway stops reading and hangs up", async () => {
    const m = marker();
    // 256 MiB, produced only as fast as it is read: reading it all would take seconds and exhaust memory.
    await mockUpstream.script({ match: m, status: 500, bodyBytes: 256 * 1024 * 1024, times: 1 });
    const { id, key } = await createKey();
    const started = Date.now();
    const res = await chat(key, { model: "gpt-4o-mini", messages: [{ role: "user", content: m }] });
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe("upstream_error");
    expect(text).not.toContain("xxxx");
    // Reading it all takes over 4 s at the mock's pace (see control.ts filler).
    expect(Date.now() - started).toBeLessThan(4_000);
    await expect.poll(async () => (await callsWith(m))[0]?.aborted, { timeout: 5_000 }).toBe(true);
    expect(await auditStatuses(id)).toEqual([502]);
  }, 20_000);

  it("a huge 200 body on a buffered call: 502, not held in memory", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, bodyBytes: 256 * 1024 * 1024, times: 1 });
    const { key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", messages: [{ role: "user", content: m }] });
    expect(res.status).toBe(502);
    expect((await res.json()) as unknown).toMatchObject({ error: { code: "upstream_error", message: "The provider's response is too large." } });
    await expect.poll(async () => (await callsWith(m))[0]?.aborted, { timeout: 5_000 }).toBe(true);
  }, 20_000);

  it.each([
    ["openai", "gpt-4o-mini", (k: string) => ({ error: { message: "bad", type: "invalid_request_error", code: k } }), () => env.OPENAI_API_KEY!],
    ["gemini", "gemini-2.5-flash", (k: string) => ({ error: { code: 400, message: "bad", status: k } }), () => env.GEMINI_API_KEY!],
    ["anthropic", "claude-haiku-4-5", (k: string) => ({ type: "error", error: { type: k, message: "bad" } }), () => env.ANTHROPIC_API_KEY!],
  ])("%s: an error type that echoes the provider key is not shown to the agent", async (_p, model, body, apiKey) => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 400, body: body(apiKey()), times: 1 });
    const { key } = await createKey();
    const res = await chat(key, { model, messages: [{ role: "user", content: m }] });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toContain(apiKey());
    expect(JSON.parse(text).error.message).toBe("The provider rejected the request with HTTP 400.");
  });
});

describe("redirects are never followed", () => {
  it.each([301, 302, 303, 307, 308])("HTTP %i from a built-in provider: 502, the target never called, the key kept", async (status) => {
    const m = marker();
    const target = `${mockUpstream.url()}/openai/v1/redirected-${m}`;
    await mockUpstream.script({ match: m, status, headers: { location: target }, times: 1 });
    const { id, key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", messages: [{ role: "user", content: m }] });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_error");
    expect((await mockUpstream.requests()).filter((r) => r.path.includes("redirected-"))).toEqual([]);
    expect(await auditStatuses(id)).toEqual([502]);
    // A redirect is not a refusal: the key stays healthy.
    const keys = (await (await admin("/provider-keys")).json()) as { data: Array<{ id: string; status: string }> };
    expect(keys.data.find((k) => k.id === "env-openai")?.status).toBe("healthy");
  });

  it("a custom provider redirecting toward an internal address: 502, nothing fetched there", async () => {
    const name = `redir-${crypto.randomUUID().slice(0, 8)}`;
    const created = await admin("/providers", { method: "POST", json: { name, type: "openai-compatible", base_url: `${mockUpstream.url()}/openai/v1` } });
    expect(created.status).toBe(201);
    const providerKey = `sk-redirect-${crypto.randomUUID()}`;
    expect((await admin("/provider-keys", { method: "POST", json: { provider: name, key: providerKey } })).status).toBe(201);
    // The internal-looking target is the mock itself, so a followed redirect would be recorded.
    await mockUpstream.script({ key: providerKey, status: 307, headers: { location: `${mockUpstream.url()}/openai/v1/metadata-${name}` } });
    const { key } = await createKey();
    const res = await chat(key, { model: `${name}/gpt-4o-mini`, messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(502);
    expect(await res.text()).not.toContain(providerKey);
    expect((await mockUpstream.requests()).filter((r) => r.path.includes(`metadata-${name}`))).toEqual([]);
    expect(await mockUpstream.requests(providerKey)).toHaveLength(1);
  });
});
