import { describe, expect, it } from "vitest";
import { runVerifyCli } from "../src/audit/cli";
import { verifyReport } from "../src/audit/report-verify";
import { anthropicSdk, messagesFetch } from "./support/anthropic";
import { createReport, historyLength, publishedKeys, requestEntries, verifyAudit, waitForEntries } from "./support/audit";
import { admin, BASE, createKey, gatewayFetch, mockUpstream } from "./support/gateway";
import { settledUsage } from "./support/usage";

/**
 * /v1/messages under the key's policy, through the front door: the allow-list, a spend cap under
 * concurrency (the worst case is reserved before the call, so nothing overspends), revocation, the
 * audit log (one entry per request with its endpoint, verifiable by chain, report and CLI), and the
 * Anthropic-shaped denials clients act on (x-should-retry: false on budget exhaustion).
 */

const CLAUDE = "claude-sonnet-4-6";
const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: CLAUDE, max_tokens: 100, messages: [{ role: "user", content }], ...extra });
type ErrorBody = { type: string; error: { type: string; message: string } };

describe("/v1/messages under the key's policy", () => {
  it("the model allow-list: allowed families pass, others are 403 permission_error, nothing reaches the provider", { timeout: 20_000 }, async () => {
    const { key } = await createKey({ models: ["anthropic/claude-haiku-*", "mock/*"] });
    expect((await messagesFetch("/v1/messages", key, { ...ask("allow-list-marker ok"), model: "claude-haiku-4-5" })).status).toBe(200);
    expect((await messagesFetch("/v1/messages", key, { ...ask("allow-list-marker mock"), model: "mock/echo" })).status).toBe(200);
    for (const model of [CLAUDE, "gpt-4o-mini", "anthropic/claude-opus-4-7"]) {
      const res = await messagesFetch("/v1/messages", key, { ...ask("allow-list-marker denied"), model });
      expect(res.status, model).toBe(403);
      expect(((await res.json()) as ErrorBody).error.type).toBe("permission_error");
    }
    // count_tokens is under the same allow-list, for Claude and for the estimate alike.
    expect((await messagesFetch("/v1/messages/count_tokens", key, { model: CLAUDE, messages: [{ role: "user", content: "x" }] })).status).toBe(403);
    expect((await messagesFetch("/v1/messages/count_tokens", key, { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] })).status).toBe(403);
    const reached = (await mockUpstream.requests()).filter((r) => JSON.stringify(r.body).includes("allow-list-marker denied"));
    expect(reached).toEqual([]);
  });

  it("spend cap under concurrency: 12 parallel requests, the worst cases reserved, never overspent", { timeout: 30_000 }, async () => {
    // Each request: max_tokens 1000 × $15/1M = $0.015 of output worst case, plus its prompt at the
    // dearest input rate; the cap admits at most 3 at once.
    const cap = 0.05;
    const { id, key } = await createKey({ spend_cap_usd: cap });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => messagesFetch("/v1/messages", key, ask(`spend-cap-marker ${i}`, { max_tokens: 1000, stream: i % 2 === 0 }))),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    for (const res of results) {
      if (res.status === 200) {
        await res.text();
        continue;
      }
      expect(res.headers.get("x-should-retry")).toBe("false");
      expect(res.headers.get("retry-after")).toBeNull();
      expect(((await res.json()) as ErrorBody).error).toMatchObject({ type: "rate_limit_error", message: expect.stringContaining("spend cap") });
    }
    const usage = await settledUsage(id);
    expect(usage.spend_usd).toBeGreaterThan(0);
    expect(usage.spend_usd).toBeLessThanOrEqual(cap);
    // The SDK does not retry a budget denial (x-should-retry: false), even with retries on: a request
    // whose worst case ($0.06 of output) is above the whole cap is denied at once, every time.
    const sdk = anthropicSdk(key, "bearer", { maxRetries: 3 });
    const started = Date.now();
    await expect(sdk.messages.create({ model: CLAUDE, max_tokens: 4000, messages: [{ role: "user", content: "spend-cap-marker sdk" }] })).rejects.toMatchObject(
      { status: 429 },
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await mockUpstream.requests()).filter((r) => JSON.stringify(r.body).includes("spend-cap-marker sdk"))).toEqual([]);
  });

  it("a field whose cost cannot be bounded is refused on a capped key, allowed on an uncapped one", { timeout: 20_000 }, async () => {
    const capped = await createKey({ spend_cap_usd: 5 });
    const body = ask("unbounded-marker", { tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }] });
    const res = await messagesFetch("/v1/messages", capped.key, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ type: "invalid_request_error", message: expect.stringContaining("tools[0]") });
    const open = await createKey();
    expect((await messagesFetch("/v1/messages", open.key, body)).status).toBe(200);
  });

  it("revocation takes effect on the next request, with either credential header", { timeout: 20_000 }, async () => {
    const { id, key } = await createKey();
    expect((await messagesFetch("/v1/messages", key, ask("revoke-marker before"))).status).toBe(200);
    expect((await admin(`/keys/${id}/revoke`, { method: "POST" })).status).toBe(200);
    const credentials: Array<Record<string, string>> = [{ "x-api-key": key }, { authorization: `Bearer ${key}` }];
    for (const headers of credentials) {
      const res = await messagesFetch("/v1/messages", null, ask("revoke-marker after"), headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({ type: "authentication_error", message: "This API key has been revoked." });
    }
    const counted = await messagesFetch("/v1/messages/count_tokens", key, { model: CLAUDE, messages: [{ role: "user", content: "x" }] });
    expect(counted.status).toBe(401);
  });

  it("audit: one entry per request with its endpoint; the chain, a signed report and the CLI verify", { timeout: 30_000 }, async () => {
    const { id, key } = await createKey();
    expect((await messagesFetch("/v1/messages", key, ask("audit-marker buffered"))).status).toBe(200);
    const streamed = await messagesFetch("/v1/messages?beta=true", key, ask("audit-marker streamed", { stream: true }));
    expect(streamed.status).toBe(200);
    await streamed.text();
    expect((await messagesFetch("/v1/messages", key, { ...ask("audit-marker gpt"), model: "gpt-4o-mini" })).status).toBe(200);
    expect((await messagesFetch("/v1/messages/count_tokens", key, { model: CLAUDE, messages: [{ role: "user", content: "audit-marker count" }] })).status).toBe(
      200,
    );
    await mockUpstream.script({
      match: "audit-marker unknown-model",
      status: 404,
      body: { type: "error", error: { type: "not_found_error", message: "model: claude-nope-1" } },
    });
    const missing = await messagesFetch("/v1/messages", key, { ...ask("audit-marker unknown-model"), model: "claude-nope-1" });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error.type).toBe("not_found_error");
    await waitForEntries(id, 5);

    const entries = await requestEntries(id);
    expect(entries.map((e) => [e.endpoint, e.model, e.status, e.stream])).toEqual([
      ["messages", `anthropic/${CLAUDE}`, 200, false],
      ["messages", `anthropic/${CLAUDE}`, 200, true],
      ["messages", "openai/gpt-4o-mini", 200, false],
      ["count_tokens", `anthropic/${CLAUDE}`, 200, false],
      // The unknown Claude model reached the provider (404) after admission: audited at zero cost.
      ["messages", "anthropic/claude-nope-1", 404, false],
    ]);
    expect(entries[3]!.cost_micros).toBe(0);
    expect(entries[0]!.cost_micros).toBeGreaterThan(0);

    const verification = await verifyAudit(id);
    // The whole log: the key's policy history (key.create, copied at first use) and the five requests.
    expect(verification).toMatchObject({ valid: true, entries: (await historyLength(id)) + 5, first_invalid_seq: null });

    const created = await createReport(id);
    expect(created.status).toBe(201);
    const reportText = await (await gatewayFetch(`${BASE}/reports/${((await created.json()) as { id: string }).id}.json`)).text();
    const trusted = (await publishedKeys()).map((k) => k.verifier_key);
    const result = await verifyReport(JSON.parse(reportText) as Parameters<typeof verifyReport>[0], trusted);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    const out: string[] = [];
    const io = { readText: async () => reportText, out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    expect(await runVerifyCli(["report.json", ...trusted.flatMap((k) => ["--key", k])], io)).toBe(0);
    expect(out.at(-1)).toMatch(/^VERIFIED/);
  });

  it("a mid-stream upstream error ends the stream with Anthropic's error event, metered as failed", { timeout: 20_000 }, async () => {
    const { id, key } = await createKey();
    const res = await messagesFetch("/v1/messages", key, ask("midstream-marker MOCK_MIDSTREAM_ERROR please", { stream: true }));
    expect(res.status).toBe(200);
    const wire = await res.text();
    expect(wire.trimEnd().split("\n\n").at(-1)).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"The provider failed mid-stream."}}',
    );
    await waitForEntries(id, 1);
    const [entry] = await requestEntries(id);
    expect(entry).toMatchObject({ endpoint: "messages", status: 502, stream: true });
    expect(entry!.prompt_tokens).toBeGreaterThan(0);
  });
});
