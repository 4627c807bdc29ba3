import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type KeyGuard, RESERVATION_TTL_MS } from "../durable-objects/key-guard";
import { admin, chat, createKey } from "./support/gateway";
import { monthStart, testNow } from "./support/clock";
import { REQUEST_ROWS } from "./support/audit";
import { admitRequest, guardOf, setClock, sqlRows } from "./support/key-guard";

type Ledger = { tokens: number; spend_micros: number; requests: number };

async function usage(id: string) {
  return ((await (await admin(`/keys/${id}`)).json()) as { usage: { tokens: number; spend_usd: number; requests: number; reserved_tokens: number } }).usage;
}

describe("KeyGuard: exact under concurrency", () => {
  it("200 concurrent admits against a spend cap that fits exactly N: exactly N pass", async () => {
    // Worst case per request: 10 prompt × $1/M + 90 output × $2/M = 190 µ$.
    const key = await createKey({ spend_cap_usd: 0.00019 * 7 });
    const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => guardOf(key.id).admit(await admitRequest(key, `req-${i}`))));
    expect(results.filter((r) => r.ok)).toHaveLength(7);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === "spend_cap_exceeded")).toBe(true);
  });

  it("200 concurrent completions through the front door never spend past the cap", async () => {
    // mock/echo with 400 chars: prompt estimate 167 tokens (bytes / 3 of the whole body), output capped at 10 tokens.
    // Worst case 167×1 + 10×2 = 187 µ$; the cap fits exactly 5 while all are in flight (3 s upstream delay).
    const key = await createKey({ spend_cap_usd: 0.000187 * 5 });
    const body = { model: "mock/echo", max_tokens: 10, mock_delay_ms: 3000, messages: [{ role: "user", content: "a".repeat(400) }] };
    const responses = await Promise.all(Array.from({ length: 200 }, () => chat(key.key, body)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 402)).toHaveLength(195);
    const denied = (await responses.find((r) => r.status === 402)!.json()) as { error: { code: string } };
    expect(denied.error.code).toBe("spend_cap_exceeded");
    await Promise.all(responses.map((r) => (r.bodyUsed ? null : r.body?.cancel())));
    await waitForSettled(key.id, 5);
    const [ledger] = await sqlRows<Ledger>(key.id, "select tokens, spend_micros, requests from ledger");
    expect(ledger!.requests).toBe(5);
    expect(ledger!.spend_micros).toBeLessThanOrEqual(935);
    // Actual usage: 100 prompt + 10 completion tokens = 120 µ$ each.
    expect(ledger!.spend_micros).toBe(5 * 120);
  }, 30_000);

  it("the same for the monthly token quota", async () => {
    const key = await createKey({ monthly_token_quota: 100 * 9 });
    const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => guardOf(key.id).admit(await admitRequest(key, `q-${i}`))));
    expect(results.filter((r) => r.ok)).toHaveLength(9);
    expect(results.find((r) => !r.ok)).toMatchObject({ ok: false, code: "quota_exceeded" });
    expect((await usage(key.id)).reserved_tokens).toBe(900);
  });
});

async function waitForSettled(id: string, n: number) {
  for (let i = 0; i < 100; i++) {
    const [row] = await sqlRows<{ n: number }>(id, "select count(*) as n from reservations");
    if (row!.n === 0) {
      const [ledger] = await sqlRows<Ledger>(id, "select requests from ledger");
      if ((ledger?.requests ?? 0) >= n) return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("requests did not settle");
}

describe("KeyGuard: RPM", () => {
  it("a burst of rpm + 10 admits exactly rpm, the rest 429 with Retry-After; after the window it works again", async () => {
    const key = await createKey({ rpm: 5 });
    const t0 = testNow();
    await setClock(key.id, t0);
    const body = { model: "mock/echo", messages: [{ role: "user", content: "hi" }] };
    const responses = [];
    for (let i = 0; i < 15; i++) responses.push(await chat(key.key, body));
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(5);
    expect(limited).toHaveLength(10);
    expect(ok[0]!.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(ok.map((r) => r.headers.get("x-ratelimit-remaining-requests"))).toEqual(["4", "3", "2", "1", "0"]);
    expect(ok[4]!.headers.get("x-ratelimit-reset-requests")).toBe("1m0s");
    for (const r of limited) {
      expect(r.headers.get("retry-after")).toBe("12");
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("rate_limit_exceeded");
    }
    await setClock(key.id, t0 + 12_000);
    expect((await chat(key.key, body)).status).toBe(200);
    expect((await chat(key.key, body)).status).toBe(429);
    await setClock(key.id, t0 + 12_000 + 60_000);
    for (let i = 0; i < 5; i++) expect((await chat(key.key, body)).status).toBe(200);
  });
});

describe("KeyGuard: changes while requests are in flight", () => {
  it("revoke while a request is in flight: the next admit sees it, the in-flight one still settles", async () => {
    const key = await createKey();
    const stub = guardOf(key.id);
    expect((await stub.admit(await admitRequest(key, "inflight-1"))).ok).toBe(true);
    await admin(`/keys/${key.id}/revoke`, { method: "POST" });
    expect(await stub.admit(await admitRequest(key, "after-revoke"))).toMatchObject({ ok: false, code: "key_revoked" });
    await expect(stub.settle({ requestId: "inflight-1", status: 200, promptTokens: 5, completionTokens: 5, costMicros: 15, latencyMs: 3 })).resolves.toEqual({
      settled: true,
    });
  });

  it("a shrunk cap applies to the next admit and counts reservations in flight", async () => {
    const key = await createKey({ spend_cap_usd: 1 });
    const stub = guardOf(key.id);
    expect((await stub.admit(await admitRequest(key, "a"))).ok).toBe(true);
    await admin(`/keys/${key.id}`, { method: "PATCH", json: { spend_cap_usd: 0.00038 } });
    expect((await stub.admit(await admitRequest(key, "b"))).ok).toBe(true);
    expect(await stub.admit(await admitRequest(key, "c"))).toMatchObject({ ok: false, code: "spend_cap_exceeded" });
  });

  it("settle is idempotent per request id", async () => {
    const key = await createKey();
    const stub = guardOf(key.id);
    await stub.admit(await admitRequest(key, "once"));
    const settle = { requestId: "once", status: 200, promptTokens: 3, completionTokens: 4, costMicros: 11, latencyMs: 2 };
    expect(await stub.settle(settle)).toEqual({ settled: true });
    expect(await stub.settle(settle)).toEqual({ settled: false });
    expect(await usage(key.id)).toMatchObject({ tokens: 7, requests: 1, reserved_tokens: 0 });
  });
});

describe("KeyGuard: faults", () => {
  it("DO evicted between admit and settle: the reservation survives and the alarm charges it", async () => {
    const key = await createKey();
    const t0 = testNow();
    await setClock(key.id, t0);
    expect((await guardOf(key.id).admit(await admitRequest(key, "orphan"))).ok).toBe(true);
    await abortAllDurableObjects();
    // A fresh instance: it reloads the reservation from storage (and runs on the wall clock again).
    await setClock(key.id, t0);
    expect(await usage(key.id)).toMatchObject({ reserved_tokens: 100, requests: 0 });
    await setClock(key.id, t0 + RESERVATION_TTL_MS + 60_000);
    expect(await runDurableObjectAlarm(guardOf(key.id))).toBe(true);
    const [ledger] = await sqlRows<Ledger>(key.id, "select tokens, spend_micros, requests from ledger");
    expect(ledger).toEqual({ tokens: 100, spend_micros: 190, requests: 1 });
    const audit = await sqlRows<{ entry: string }>(key.id, REQUEST_ROWS);
    expect(audit.map((a) => JSON.parse(a.entry))).toMatchObject([{ request_id: "orphan", status: "expired", cost_micros: 190 }]);
    // A late settle after expiry changes nothing.
    expect(await guardOf(key.id).settle({ requestId: "orphan", status: 200, promptTokens: 1, completionTokens: 1, costMicros: 3, latencyMs: 1 })).toEqual({
      settled: false,
    });
  });

  it("monthly counters roll over at the UTC month boundary", async () => {
    const key = await createKey({ monthly_token_quota: 150 });
    const stub = guardOf(key.id);
    // A month boundary a little ahead of the clock base, whatever day the suite runs on.
    const boundary = monthStart(testNow(), 2);
    const before = new Date(boundary - 1).toISOString().slice(0, 7);
    await setClock(key.id, boundary - 60_000);
    expect((await stub.admit(await admitRequest(key, "jan"))).ok).toBe(true);
    expect(await stub.admit(await admitRequest(key, "jan-2"))).toMatchObject({ ok: false, code: "quota_exceeded" });
    await stub.settle({ requestId: "jan", status: 200, promptTokens: 50, completionTokens: 50, costMicros: 150, latencyMs: 1 });
    await setClock(key.id, boundary + 1_000);
    expect((await stub.admit(await admitRequest(key, "feb"))).ok).toBe(true);
    const ledgers = await sqlRows<{ period: string; tokens: number }>(key.id, "select period, tokens from ledger order by period");
    expect(ledgers).toEqual([{ period: before, tokens: 100 }]);
  });
});

describe("KeyGuard: usage rollups", () => {
  it("flushes hourly rollups to D1 off the hot path; /admin/v1/usage serves them", async () => {
    const key = await createKey();
    const body = { model: "mock/echo", messages: [{ role: "user", content: "count me please" }] };
    for (let i = 0; i < 3; i++) expect((await chat(key.key, body)).status).toBe(200);
    await waitForSettled(key.id, 3);
    expect(await runDurableObjectAlarm(guardOf(key.id))).toBe(true);
    const res = await admin(`/usage?key_id=${key.id}`);
    expect(res.status).toBe(200);
    const usage = (await res.json()) as {
      data: Array<{ model: string; requests: number; prompt_tokens: number; completion_tokens: number; cost_usd: number }>;
    };
    expect(usage.data).toEqual([expect.objectContaining({ model: "mock/echo", requests: 3, prompt_tokens: 12, completion_tokens: 12, cost_usd: 0.000036 })]);
    const pending = await sqlRows(key.id, "select * from rollups");
    expect(pending).toEqual([]);
  });

  it("rejects a malformed usage query with a 400", async () => {
    expect((await admin("/usage?granularity=minute")).status).toBe(400);
    expect((await admin("/usage?from=yesterday")).status).toBe(400);
  });
});

describe("KeyGuard: TPM", () => {
  it("charges the worst case against TPM and refunds the unused part at settle", async () => {
    const key = await createKey({ tpm: 1000 });
    const body = { model: "mock/echo", max_tokens: 100, messages: [{ role: "user", content: "hi" }] };
    const first = await chat(key.key, body);
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("1000");
    // Worst case 28 (prompt estimate: the 82-byte body / 3) + 100 = 128 tokens.
    expect(first.headers.get("x-ratelimit-remaining-tokens")).toBe("872");
    await waitForSettled(key.id, 1);
    const second = await chat(key.key, body);
    // The first request really used 2 tokens: 126 were given back before this one was charged.
    expect(Number(second.headers.get("x-ratelimit-remaining-tokens"))).toBeGreaterThanOrEqual(870);
    const tooBig = await chat(key.key, { ...body, max_tokens: 5000 });
    expect(tooBig.status).toBe(429);
  });
});

describe("KeyGuard: settles carried by an admit (batched settles)", () => {
  const settle = (requestId: string, completionTokens: number) => ({ requestId, status: 200, promptTokens: 10, completionTokens, costMicros: 0, latencyMs: 1 });

  async function settledTokens(id: string): Promise<{ tokens: number; requests: number }> {
    for (let i = 0; i < 100; i++) {
      const usage = await guardOf(id).usage();
      if (usage.reserved_tokens === 0) return usage;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("carried settles were not applied");
  }

  it("applied before the decision when it needs them; charged once however often they are carried", async () => {
    // Each request reserves 10 + 90 tokens of a 150-token quota.
    const key = await createKey({ monthly_token_quota: 150 });
    const stub = guardOf(key.id);
    expect((await stub.admit(await admitRequest(key, "c-1"))).ok).toBe(true);
    expect(await stub.admit(await admitRequest(key, "c-2"))).toMatchObject({ ok: false, code: "quota_exceeded" });
    // c-1 used 30: with its settle carried, 30 used + 100 reserved fits.
    expect((await stub.admit(await admitRequest(key, "c-3", { settles: [settle("c-1", 20)] }))).ok).toBe(true);
    // Carried again (a batch that was also sent on its own): a no-op; 30 + 100 + 100 does not fit.
    expect(await stub.admit(await admitRequest(key, "c-4", { settles: [settle("c-1", 20)] }))).toMatchObject({ ok: false, code: "quota_exceeded" });
    expect(await stub.settle(settle("c-3", 5))).toEqual({ settled: true });
    expect(await settledTokens(key.id)).toMatchObject({ tokens: 45, requests: 2 });
  });

  it("a batch's charges, rollups and reservation deletions are written once per table, and all of it survives a restart", async () => {
    const key = await createKey({ limits: [{ window: "1d", requests: 1000 }], per_user_limits: [{ window: "1h", requests: 1000 }] });
    const stub = guardOf(key.id);
    // More reservations than one statement may bind parameters for (100): the deletions take two.
    const n = 120;
    const users = ["ana", "bo", "cy"];
    const admits = await Promise.all(
      Array.from({ length: n }, async (_, i) => stub.admit(await admitRequest(key, `g-${i}`, { user: users[i % 3]!, tags: ["all", `t${i % 2}`] }))),
    );
    expect(admits.every((a) => a.ok)).toBe(true);
    const settles = Array.from({ length: n }, (_, i) => ({
      requestId: `g-${i}`,
      status: 200,
      promptTokens: 10,
      completionTokens: i % 7,
      costMicros: 3,
      latencyMs: 1,
    }));
    expect((await stub.settleMany(settles)).every((r) => r.settled)).toBe(true);
    const tokens = settles.reduce((sum, s) => sum + s.promptTokens + s.completionTokens, 0);
    await abortAllDurableObjects();
    // Read from storage by a fresh instance: nothing was only in memory.
    const sum = (rows: Array<{ requests: number }>) => rows.reduce((t, r) => t + r.requests, 0);
    expect(await sqlRows(key.id, "select tokens, spend_micros, requests from ledger")).toEqual([{ tokens, spend_micros: 3 * n, requests: n }]);
    const windows = await sqlRows<Ledger & { period: string }>(key.id, "select period, tokens, spend_micros, requests from window_ledger");
    expect(windows).toHaveLength(3); // this hour, day and ISO week
    for (const w of windows) expect(w).toMatchObject({ tokens, spend_micros: 3 * n, requests: n });
    const perUser = await sqlRows<{ user: string; requests: number }>(key.id, "select user, requests from user_ledger order by user");
    expect(perUser).toEqual(users.map((user) => ({ user, requests: n / 3 })));
    expect(await sqlRows(key.id, "select count(*) as n from reservations")).toEqual([{ n: 0 }]);
    const rollups = await sqlRows<{ requests: number; prompt_tokens: number; completion_tokens: number; cost_micros: number }>(key.id, "select * from rollups");
    expect(sum(rollups)).toBe(n);
    expect(rollups.reduce((t, r) => t + r.prompt_tokens + r.completion_tokens, 0)).toBe(tokens);
    const attribution = await sqlRows<{ kind: string; value: string; requests: number }>(key.id, "select kind, value, requests from attribution_rollups");
    const of = (kind: string, value: string) => sum(attribution.filter((r) => r.kind === kind && r.value === value));
    expect(users.map((u) => of("user", u))).toEqual([n / 3, n / 3, n / 3]);
    expect([of("tag", "all"), of("tag", "t0"), of("tag", "t1")]).toEqual([n, n / 2, n / 2]);
    expect((await guardOf(key.id).usage()).reserved_tokens).toBe(0);
  });

  it("deferred ones are applied by any later decision that needs them, and by a usage read", async () => {
    // 250 tokens, 100 per reservation: d-2 carries d-1's settle (30 used) but fits without it, so the
    // settle waits; d-3 (as if from another isolate, carrying nothing) fits only once it is applied.
    const key = await createKey({ monthly_token_quota: 250 });
    const [d1, d2, d3] = await Promise.all(["e-1", "e-2", "e-3"].map((id) => admitRequest(key, id)));
    expect((await guardOf(key.id).admit(d1!)).ok).toBe(true);
    // One callback, no I/O in between: the timer cannot apply the settle first.
    const seen = await runInDurableObject(guardOf(key.id), async (guard: KeyGuard) => {
      const second = await guard.admit({ ...d2!, settles: [settle("e-1", 20)] });
      const third = await guard.admit(d3!);
      return { second: second.ok, third: third.ok, usage: guard.usage() };
    });
    expect(seen).toMatchObject({ second: true, third: true, usage: { tokens: 30, requests: 1, reserved_tokens: 200 } });
  });

  it("held on their reservation's row until applied: an object that restarts first applies them then, not the worst case", async () => {
    const key = await createKey({ monthly_token_quota: 100_000 });
    const stub = guardOf(key.id);
    expect((await stub.admit(await admitRequest(key, "h-1"))).ok).toBe(true);
    const carrying = await admitRequest(key, "h-2", { settles: [settle("h-1", 20)] });
    await runInDurableObject(stub, async (guard: KeyGuard) => {
      expect((await guard.admit(carrying)).ok).toBe(true);
      // The object goes away before its timer applies the settle.
      clearTimeout((guard as unknown as { deferTimer: ReturnType<typeof setTimeout> }).deferTimer);
    });
    expect(await sqlRows(key.id, "select request_id from reservations where held_settle is not null")).toEqual([{ request_id: "h-1" }]);
    await abortAllDurableObjects();
    // The fresh instance applies it: h-1 charged what it used (10 + 20), h-2 still reserved (10 + 90).
    expect(await guardOf(key.id).usage()).toMatchObject({ tokens: 30, requests: 1, reserved_tokens: 100 });
    expect(await sqlRows(key.id, "select request_id, held_settle from reservations")).toEqual([{ request_id: "h-2", held_settle: null }]);
  });

  it("one held when an admin entry is appended goes in the log first: the log keeps the order things happened in", async () => {
    const expiresAt = testNow() + 60_000;
    const key = await createKey({ expires_at: new Date(expiresAt).toISOString() });
    const [first, second] = await Promise.all(["x-1", "x-2"].map((id) => admitRequest(key, id)));
    const actions = await runInDurableObject(guardOf(key.id), async (guard: KeyGuard) => {
      expect((await guard.admit(first!)).ok).toBe(true);
      expect((await guard.admit({ ...second!, settles: [settle("x-1", 20)] })).ok).toBe(true);
      // x-1's settle is held; the key expires and /v1/models sees it first: key.expire is appended.
      guard.now = () => expiresAt;
      expect(await guard.authorize(key.id, first!.secretHash)).toMatchObject({ ok: false, code: "key_expired" });
      const page = await guard.auditPage(key.id, 0, 10);
      if (!page.ok) throw new Error("no audit page");
      return page.rows.map((row) => JSON.parse(row.entry) as { action?: string; request_id?: string }).map((e) => e.action ?? e.request_id);
    });
    expect(actions).toEqual(["key.create", "x-1", "key.expire"]);
  });

  it("not needed by the decision: applied shortly after it, exactly once", async () => {
    const key = await createKey({ monthly_token_quota: 100_000 });
    const stub = guardOf(key.id);
    expect((await stub.admit(await admitRequest(key, "d-1"))).ok).toBe(true);
    expect((await stub.admit(await admitRequest(key, "d-2", { settles: [settle("d-1", 20)] }))).ok).toBe(true);
    expect(await stub.settleMany([settle("d-2", 7), settle("d-1", 20)])).toEqual(expect.arrayContaining([{ settled: true }]));
    expect(await settledTokens(key.id)).toMatchObject({ tokens: 47, requests: 2 });
  });
});
