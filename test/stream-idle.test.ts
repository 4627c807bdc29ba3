import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { KEEPALIVE_MS } from "../src/proxy/stream-response";
import { BASE, chat, createKey, mockUpstream, sdk } from "./support/gateway";
import { REQUEST_ROWS } from "./support/audit";
import { sqlRows } from "./support/key-guard";

/**
 * A streamed answer whose upstream stops sending: the idle timeout between upstream chunks ends it
 * (settled, audited, upstream aborted), and a client that leaves during the stall is noticed at once.
 * Each test marks its request with a unique text so the mock's stall script applies to it alone.
 */

type Entry = { status: number; prompt_tokens: number; completion_tokens: number; cost_micros: number };

const marker = () => `stall-${crypto.randomUUID()}`;
/** How long the mock stalls: far longer than anything these tests wait for. */
const STALL_MS = 20_000;

async function openReservations(keyId: string): Promise<number> {
  const [row] = await sqlRows<{ n: number }>(keyId, "select count(*) as n from reservations");
  return row!.n;
}

async function entries(keyId: string): Promise<Entry[]> {
  return (await sqlRows<{ entry: string }>(keyId, REQUEST_ROWS)).map((r) => JSON.parse(r.entry) as Entry);
}

/** Polls until the key holds no reservation and has `n` audit entries; the elapsed ms, or null after `limitMs`. */
async function settledWithin(keyId: string, n: number, limitMs: number): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    if ((await openReservations(keyId)) === 0 && (await entries(keyId)).length >= n) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 25));
  }
  return null;
}

/** The mock's record of the call carrying `m`, once `ready` holds for it (polled up to `limitMs`). */
async function upstreamCall(m: string, ready: (r: { aborted?: boolean }) => boolean, limitMs = 3000) {
  const start = Date.now();
  for (;;) {
    const found = (await mockUpstream.requests()).find((r) => JSON.stringify(r.body).includes(m));
    if ((found && ready(found)) || Date.now() - start > limitMs) return found ?? { aborted: undefined };
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("stalled streams", () => {
  it("an upstream that stalls past STREAM_IDLE_TIMEOUT_MS: terminal error frame, upstream aborted, settled and audited as 504", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, stallAfterFrames: 2, stallMs: STALL_MS, times: 1 });
    const { id, key } = await createKey();
    // The app with a short idle timeout (the deployed default is minutes).
    const ctx = createExecutionContext();
    const started = Date.now();
    const res = await app.fetch(
      new Request(`${BASE}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: `${m} one two three four` }] }),
      }),
      { ...env, STREAM_IDLE_TIMEOUT_MS: "800" },
      ctx,
    );
    expect(res.status).toBe(200);
    const text = await res.text();
    const elapsed = Date.now() - started;
    await waitOnExecutionContext(ctx);
    expect(elapsed).toBeLessThan(5000);
    // The frames sent before the stall, then one terminal error naming the timeout; no [DONE].
    expect(text).toContain('"role":"assistant"');
    expect(text.trimEnd().split("\n\n").at(-1)).toContain('"code":"upstream_timeout"');
    expect(text).not.toContain("[DONE]");
    expect(await settledWithin(id, 1, 3000)).not.toBeNull();
    const [entry] = await entries(id);
    expect(entry).toMatchObject({ status: 504 });
    // Nothing reported usage: the prompt estimate is charged.
    expect(entry!.prompt_tokens).toBeGreaterThan(0);
    expect((await upstreamCall(m, (r) => r.aborted === true)).aborted).toBe(true);
  }, 15_000);

  it("the client disconnects while the upstream stalls: settled at once as 499 and the upstream aborted", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, stallAfterFrames: 2, stallMs: STALL_MS, times: 1 });
    const { id, key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: `${m} one two three four` }] });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    expect(await openReservations(id)).toBe(1);
    await reader.cancel();
    // "At once": well within the stall (and within the default idle timeout), not when the upstream resumes.
    const took = await settledWithin(id, 1, 3000);
    expect(took).not.toBeNull();
    console.log(`[stall] client disconnect during an upstream stall settled in ${took} ms`);
    expect(await entries(id)).toMatchObject([{ status: 499 }]);
    expect((await upstreamCall(m, (r) => r.aborted === true)).aborted).toBe(true);
  }, 15_000);

  it("the client's request signal aborts during a stall (the runtime saw the disconnect): settled at once, upstream aborted", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, stallAfterFrames: 2, stallMs: STALL_MS, times: 1 });
    const { id, key } = await createKey();
    const client = new AbortController();
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${BASE}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: `${m} one two three four` }] }),
        signal: client.signal,
      }),
      env,
      ctx,
    );
    const reader = res.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    // Only the signal: the body is neither read nor cancelled, as when nothing is written to a dead socket.
    client.abort();
    const took = await settledWithin(id, 1, 3000);
    expect(took).not.toBeNull();
    expect(took!).toBeLessThan(KEEPALIVE_MS);
    expect(await entries(id)).toMatchObject([{ status: 499 }]);
    expect((await upstreamCall(m, (r) => r.aborted === true)).aborted).toBe(true);
    await waitOnExecutionContext(ctx);
  }, 15_000);

  it("a stall shorter than the idle timeout is waited out: keep-alive comments meanwhile, which the openai SDK ignores", async () => {
    const m = marker();
    await mockUpstream.script({ match: m, status: 200, stallAfterFrames: 2, stallMs: KEEPALIVE_MS * 2.5, times: 1 });
    const { id, key } = await createKey();
    const res = await chat(key, { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: `${m} one two three four` }] });
    const text = await res.text();
    expect(text).toContain("[DONE]");
    expect(text).not.toContain('"error"');
    expect(text.split(": keep-alive\n\n").length - 1).toBeGreaterThanOrEqual(2);
    expect(await settledWithin(id, 1, 3000)).not.toBeNull();
    expect(await entries(id)).toMatchObject([{ status: 200 }]);

    const m2 = marker();
    await mockUpstream.script({ match: m2, status: 200, stallAfterFrames: 2, stallMs: KEEPALIVE_MS * 2.5, times: 1 });
    const stream = await sdk(key).chat.completions.create({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: `${m2} one two` }] });
    let content = "";
    for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? "";
    expect(content).toBe(`${m2} one two`);
  }, 15_000);
});
