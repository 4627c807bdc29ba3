import { describe, expect, it } from "vitest";
import { BUILTIN_PRICES, lookupPrice } from "../src/pricing/catalogue";
import { maxOutputTokens } from "../src/pricing/max-output";
import { type ModelPrice, worstCaseCostMicros } from "../src/pricing/price";
import { allEntries } from "./support/audit";
import { admin, chat, createKey, mockUpstream } from "./support/gateway";
import { settledUsage } from "./support/usage";

/**
 * Issue 18, "no silent caps", through the front door: a capped key's request without max_tokens goes
 * upstream without an output bound when its budget covers the model's maximum, and with a signalled
 * one (x-keyforge-max-tokens + the audit entry) when it does not; default_max_tokens; soft caps.
 */

type Recorded = Awaited<ReturnType<typeof mockUpstream.requests>>[number];
const GPT_MINI_MAX = maxOutputTokens("openai", "gpt-4o-mini")!;
const gptMini = lookupPrice(BUILTIN_PRICES.openai, "gpt-4o-mini") as ModelPrice;

async function upstreamOf(marker: string): Promise<Recorded> {
  const found = (await mockUpstream.requests()).filter((r) => JSON.stringify(r.body).includes(marker));
  expect(found).toHaveLength(1);
  return found[0]!;
}

const ask = (marker: string, extra: Record<string, unknown> = {}) => ({ model: "gpt-4o-mini", messages: [{ role: "user", content: marker }], ...extra });

async function lastEntry(id: string) {
  await settledUsage(id);
  return (await allEntries(id)).filter((e) => e.kind === undefined).at(-1)!;
}

describe("the default output bound (issue 18)", () => {
  it("a budget that covers the model's maximum: nothing injected, nothing signalled", async () => {
    const key = await createKey({ spend_cap_usd: 5 });
    const res = await chat(key.key, ask("ob-covers-6b1"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-keyforge-max-tokens")).toBeNull();
    const upstream = await upstreamOf("ob-covers-6b1");
    expect(upstream.body).not.toHaveProperty("max_completion_tokens");
    expect(upstream.body).not.toHaveProperty("max_tokens");
    expect(await lastEntry(key.id)).not.toHaveProperty("injected_max_tokens");
    // Streamed the same.
    const streamed = await chat(key.key, ask("ob-covers-stream-6b1", { stream: true }));
    expect(streamed.headers.get("x-keyforge-max-tokens")).toBeNull();
    await streamed.text();
    expect((await upstreamOf("ob-covers-stream-6b1")).body).not.toHaveProperty("max_completion_tokens");
  });

  it("a budget that does not: the largest bound that fits, sent upstream, on the response and in the audit entry", async () => {
    const key = await createKey({ spend_cap_usd: 0.005 });
    const res = await chat(key.key, ask("ob-lowered-9c2"));
    expect(res.status).toBe(200);
    const bound = Number(res.headers.get("x-keyforge-max-tokens"));
    expect(bound).toBeGreaterThan(1000);
    expect(bound).toBeLessThan(GPT_MINI_MAX);
    expect((await upstreamOf("ob-lowered-9c2")).body.max_completion_tokens).toBe(bound);
    const entry = await lastEntry(key.id);
    expect(entry.injected_max_tokens).toBe(bound);
    // The audit log still verifies with the new field.
    expect(((await (await admin(`/keys/${key.id}/audit/verify`, { method: "POST" })).json()) as { valid: boolean }).valid).toBe(true);

    const streamed = await chat(key.key, ask("ob-lowered-stream-9c2", { stream: true }));
    const streamedBound = Number(streamed.headers.get("x-keyforge-max-tokens"));
    await streamed.text();
    // Lower now: the first answer is charged against the same $0.005.
    expect(streamedBound).toBeGreaterThan(0);
    expect(streamedBound).toBeLessThanOrEqual(bound);
    expect((await upstreamOf("ob-lowered-stream-9c2")).body.max_completion_tokens).toBe(streamedBound);
  });

  it("Anthropic requires max_tokens: a translated request gets the model's maximum, and says so", async () => {
    const key = await createKey();
    const res = await chat(key.key, { model: "claude-haiku-4-5", messages: [{ role: "user", content: "ob-anthropic-3d7" }] });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-keyforge-max-tokens")).toBe("64000");
    const upstream = (await mockUpstream.requests()).filter((r) => r.provider === "anthropic" && JSON.stringify(r.body).includes("ob-anthropic-3d7"));
    expect(upstream[0]!.body.max_tokens).toBe(64_000);
  });

  it("default_max_tokens: set, shown and injected; cleared again; validated", async () => {
    const key = await createKey({ spend_cap_usd: 5, default_max_tokens: 1000 });
    expect(key).toMatchObject({ default_max_tokens: 1000, cap_mode: "exact" });
    const res = await chat(key.key, ask("ob-default-1a4"));
    expect(res.headers.get("x-keyforge-max-tokens")).toBe("1000");
    expect((await upstreamOf("ob-default-1a4")).body.max_completion_tokens).toBe(1000);
    const patched = await admin(`/keys/${key.id}`, { method: "PATCH", json: { default_max_tokens: null } });
    expect(((await patched.json()) as { default_max_tokens: unknown }).default_max_tokens).toBeNull();
    const after = await chat(key.key, ask("ob-default-cleared-1a4"));
    expect(after.headers.get("x-keyforge-max-tokens")).toBeNull();
    expect((await upstreamOf("ob-default-cleared-1a4")).body).not.toHaveProperty("max_completion_tokens");

    for (const bad of [{ default_max_tokens: 0 }, { default_max_tokens: 1.5 }, { cap_mode: "loose" }]) {
      const r = await admin("/keys", { method: "POST", json: { name: "bad", ...bad } });
      expect(r.status).toBe(400);
    }
    const conflict = await admin("/keys", { method: "POST", json: { name: "bad", cap_mode: "soft", tpm: 1000 } });
    expect(conflict.status).toBe(400);
    expect(((await conflict.json()) as { error: { message: string } }).error.message).toContain("cap_mode 'soft' cannot be combined with tpm");
    const tpmKey = await createKey({ tpm: 1000 });
    expect((await admin(`/keys/${tpmKey.id}`, { method: "PATCH", json: { cap_mode: "soft" } })).status).toBe(400);
  });

  it("soft cap mode: nothing injected, admitted while spent < cap", async () => {
    const key = await createKey({ spend_cap_usd: 0.000001, cap_mode: "soft" });
    expect(key.cap_mode).toBe("soft");
    const first = await chat(key.key, ask("ob-soft-5e8 a longer question, so that it costs more than one micro-dollar"));
    expect(first.status).toBe(200);
    expect(first.headers.get("x-keyforge-max-tokens")).toBeNull();
    expect((await upstreamOf("ob-soft-5e8")).body).not.toHaveProperty("max_completion_tokens");
    // Spent (more than the cap: the stated overshoot of one request) ≥ cap: the next is refused.
    expect((await settledUsage(key.id)).spend_usd).toBeGreaterThan(0.000001);
    const second = await chat(key.key, ask("ob-soft-second-5e8"));
    expect(second.status).toBe(402);
  });

  it("requests admitted in parallel on a $0.05 cap, gpt-4o-mini, short prompt (README figures)", { timeout: 30_000 }, async () => {
    const PARALLEL = 40;
    const admitted = async (policy: Record<string, unknown>, marker: string) => {
      // Each admitted request is held upstream for a while, so none settles before every admission is decided.
      await mockUpstream.script({ match: marker, status: 200, delayMs: 1000, times: PARALLEL });
      const key = await createKey({ spend_cap_usd: 0.05, ...policy });
      const responses = await Promise.all(Array.from({ length: PARALLEL }, () => chat(key.key, ask(marker))));
      const statuses = responses.map((r) => r.status);
      const bounds = responses.filter((r) => r.status === 200).map((r) => r.headers.get("x-keyforge-max-tokens"));
      await Promise.all(responses.map((r) => r.text()));
      const usage = await settledUsage(key.id);
      return { ok: statuses.filter((s) => s === 200).length, refused: statuses.filter((s) => s === 402).length, bounds, spend: usage.spend_usd };
    };
    const before = await admitted({ default_max_tokens: 4096 }, "ob-par-before-77");
    const after = await admitted({}, "ob-par-after-77");
    const soft = await admitted({ cap_mode: "soft" }, "ob-par-soft-77");
    console.log(
      `[issue 18] admitted in parallel of ${PARALLEL}: fixed 4096 ${before.ok}, model maximum ${after.ok}, soft ${soft.ok}; bounds added: ${before.bounds.filter(Boolean).join(",")} / ${after.bounds.filter(Boolean).join(",")}`,
    );
    // Worst case per request (a ~27-token prompt bound): 4096 → ~2,462 µ$ (20 fit in $0.05, then one lowered); 16,384 → ~9,835 µ$ (5, then one lowered).
    const prompt = 27;
    expect(worstCaseCostMicros(gptMini, prompt, 4096)).toBeLessThan(2_500);
    expect(before.ok).toBeGreaterThanOrEqual(20);
    expect(before.ok).toBeLessThanOrEqual(21);
    expect(after.ok).toBeGreaterThanOrEqual(5);
    expect(after.ok).toBeLessThanOrEqual(6);
    expect(after.bounds.filter((b) => b === null)).toHaveLength(5);
    expect(soft.ok).toBe(PARALLEL);
    for (const r of [before, after]) expect(r.ok + r.refused).toBe(PARALLEL);
    expect(after.spend).toBeLessThanOrEqual(0.05);
  });
});
