import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { KeyGuard } from "../durable-objects/key-guard";
import { OTHER_VALUE } from "../durable-objects/key-guard-store";
import { MAX_TRACKED_USERS } from "../durable-objects/key-guard-users";
import { windowKey } from "../src/policy/windows";
import { spanStart } from "./support/clock";
import { admin, chat, createKey } from "./support/gateway";
import { admitRequest, guardOf, setClock, sqlRows } from "./support/key-guard";
import { settledUsage } from "./support/usage";

/**
 * Issue 16, per-user limits within a key: `per_user_limits: [{window, usd?, tokens?, requests?}]`,
 * one set of windows per end user (the request's `user` / `metadata.user_id`; none = one anonymous
 * user), enforced in the KeyGuard's synchronous admit, exact under concurrency, bounded state.
 */

type ErrorBody = { error: { code: string; message: string; param: string | null } };
type Limit = { window: string; usd: number | null; tokens: number | null; requests: number | null };

const DAY = 86_400_000;
const ask = (content: string, user?: string) => ({ model: "mock/echo", max_tokens: 20, messages: [{ role: "user", content }], ...(user ? { user } : {}) });

describe("per-user limits: admin input", () => {
  it("are stored, shown, patched and audited; bad ones are a clear 400", { timeout: 20_000 }, async () => {
    const key = await createKey({ per_user_limits: [{ window: "1d", usd: 1.5, requests: 10 }] });
    const view = (await (await admin(`/keys/${key.id}`)).json()) as { per_user_limits: Limit[] };
    expect(view.per_user_limits).toEqual([{ window: "1d", usd: 1.5, tokens: null, requests: 10 }]);
    const head = ((await (await admin("/audit?limit=1")).json()) as { head: { seq: number } }).head.seq;
    const patched = await admin(`/keys/${key.id}`, { method: "PATCH", json: { per_user_limits: [{ window: "1h", tokens: 500 }] } });
    const entries = ((await (await admin(`/audit?after=${head}&limit=50`)).json()) as { data: { target: string; change: Record<string, unknown> }[] }).data;
    expect(entries.find((e) => e.target === `key:${key.id}`)?.change).toEqual({
      per_user_limits: { before: [{ window: "1d", usdMicros: 1_500_000, requests: 10 }], after: [{ window: "1h", tokens: 500 }] },
    });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { per_user_limits: Limit[] }).per_user_limits).toEqual([{ window: "1h", usd: null, tokens: 500, requests: null }]);
    for (const bad of [
      [{ window: "2d", requests: 1 }],
      [{ window: "1d" }],
      "daily",
      [
        { window: "1d", requests: 1 },
        { window: "1d", usd: 1 },
      ],
    ]) {
      const res = await admin("/keys", { method: "POST", json: { name: "bad per-user", per_user_limits: bad } });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_request");
    }
    const soft = await admin("/keys", { method: "POST", json: { name: "soft per-user", cap_mode: "soft", per_user_limits: [{ window: "1d", usd: 1 }] } });
    expect(soft.status).toBe(400);
  });
});

describe("per-user limits: enforcement", () => {
  it(
    "concurrent requests of two users on one key: each capped exactly, the denial names the user and window, others unaffected",
    { timeout: 60_000 },
    async () => {
      const key = await createKey({ per_user_limits: [{ window: "1d", requests: 4 }] });
      const calls = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? "alice" : "bob")).map((user, i) =>
        chat(key.key, ask(`per-user race ${i}`, user)).then(async (res) => ({
          user,
          res,
          body: res.status === 200 ? null : ((await res.json()) as ErrorBody),
        })),
      );
      const results = await Promise.all(calls);
      for (const user of ["alice", "bob"]) {
        const mine = results.filter((r) => r.user === user);
        expect(mine.filter((r) => r.res.status === 200)).toHaveLength(4);
        const denied = mine.filter((r) => r.res.status !== 200);
        expect(denied.map((r) => r.res.status)).toEqual(Array(8).fill(429));
        expect(denied[0]!.body!.error).toMatchObject({ code: "rate_limit_exceeded", message: expect.stringContaining(`end user "${user}"`) });
        expect(denied[0]!.body!.error.message).toContain("daily (1d)");
        expect(Number(denied[0]!.res.headers.get("retry-after"))).toBeGreaterThan(0);
      }
      await Promise.all(results.filter((r) => r.res.status === 200).map((r) => r.res.body?.cancel()));
      // Another user, and requests without a user (one anonymous user), have their own windows.
      expect((await chat(key.key, ask("per-user carol", "carol"))).status).toBe(200);
      for (let i = 0; i < 4; i++) expect((await chat(key.key, ask(`per-user anonymous ${i}`))).status).toBe(200);
      const anonymous = await chat(key.key, ask("per-user anonymous over"));
      expect(anonymous.status).toBe(429);
      expect(((await anonymous.json()) as ErrorBody).error.message).toContain("anonymous end user");
    },
  );

  it("200 concurrent admissions racing a per-user token window never reserve past it; settling charges each user exactly", { timeout: 60_000 }, async () => {
    const key = await createKey({ per_user_limits: [{ window: "1h", tokens: 1000 }] });
    expect((await chat(key.key, ask("per-user tokens open", "zed"))).status).toBe(200); // creates the KeyGuard
    const guard = guardOf(key.id);
    // Each worst case is 10 prompt + 90 output = 100 tokens: exactly 10 per user fit in 1000 while held.
    const verdicts = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const user = i % 2 === 0 ? "alice" : "bob";
        const result = await guard.admit(await admitRequest(key, `per-user-tok-${i}`, { user }));
        return { user, requestId: `per-user-tok-${i}`, result };
      }),
    );
    for (const user of ["alice", "bob"]) {
      const mine = verdicts.filter((v) => v.user === user);
      expect(mine.filter((v) => v.result.ok)).toHaveLength(10);
      const denied = mine.find((v) => !v.result.ok)!.result as { code: string; message: string };
      expect(denied).toMatchObject({ code: "quota_exceeded", message: expect.stringContaining(`end user "${user}"`) });
      expect(denied.message).toContain("hourly (1h) token limit");
    }
    // Settle alice's at 30 tokens each: 300 charged; 700 left = 7 more worst cases. Bob's still held: he stays full.
    const admitted = verdicts.filter((v) => v.result.ok);
    await Promise.all(
      admitted
        .filter((v) => v.user === "alice")
        .map((v) => guard.settle({ requestId: v.requestId, status: 200, promptTokens: 10, completionTokens: 20, costMicros: 1, latencyMs: 1 })),
    );
    const more = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => (await guard.admit(await admitRequest(key, `per-user-more-${i}`, { user: "alice" }))).ok),
    );
    expect(more.filter(Boolean)).toHaveLength(7);
    expect((await guard.admit(await admitRequest(key, "per-user-bob-more", { user: "bob" }))).ok).toBe(false);
    const hour = windowKey("1h", Date.now());
    const rows = await sqlRows<{ user: string; tokens: number; requests: number }>(
      key.id,
      `SELECT user, tokens, requests FROM user_ledger WHERE period = '${hour}' ORDER BY user`,
    );
    expect(rows).toEqual([
      { user: "alice", tokens: 300, requests: 10 },
      { user: "zed", tokens: expect.any(Number), requests: 1 },
    ]);
  });

  it("windows roll over with the (driven) clock, and ended windows' per-user state is dropped", { timeout: 30_000 }, async () => {
    const key = await createKey({ per_user_limits: [{ window: "1d", requests: 1 }] });
    const day = spanStart(DAY);
    await setClock(key.id, day + 3_600_000);
    expect((await chat(key.key, ask("per-user day 1", "dora"))).status).toBe(200);
    expect((await chat(key.key, ask("per-user day 1 again", "dora"))).status).toBe(429);
    await setClock(key.id, day + DAY + 60_000);
    expect((await chat(key.key, ask("per-user day 2", "dora"))).status).toBe(200);
    // Its charge (and day 2's user row) comes with the settle, after the response.
    await settledUsage(key.id);
    await runDurableObjectAlarm(guardOf(key.id));
    const rows = await sqlRows<{ period: string }>(key.id, "SELECT period FROM user_ledger");
    expect(rows).toEqual([{ period: windowKey("1d", day + DAY + 60_000) }]);
  });

  it(`tracks at most ${MAX_TRACKED_USERS} users per window: newer ones share one ${OTHER_VALUE} bucket and its limit`, { timeout: 30_000 }, async () => {
    const key = await createKey({ per_user_limits: [{ window: "1d", requests: 1 }] });
    expect((await chat(key.key, ask("per-user first", "first"))).status).toBe(200);
    await runInDurableObject(guardOf(key.id), (_i: KeyGuard, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO user_ledger (period, user, tokens, spend_micros, requests) SELECT ?, 'filler-' || i, 1, 1, 1 FROM n`,
        MAX_TRACKED_USERS - 1,
        windowKey("1d", Date.now()),
      );
    });
    // A tracked user keeps its own bucket; two new users share one, so the second is over its limit.
    expect((await chat(key.key, ask("per-user first again", "first"))).status).toBe(429);
    expect((await chat(key.key, ask("per-user newcomer 1", "newcomer-1"))).status).toBe(200);
    const shared = await chat(key.key, ask("per-user newcomer 2", "newcomer-2"));
    expect(shared.status).toBe(429);
    expect(((await shared.json()) as ErrorBody).error.message).toContain(OTHER_VALUE);
  });
});
