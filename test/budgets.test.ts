import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { KeyGuard } from "../durable-objects/key-guard";
import { spanStart } from "./support/clock";
import { admin, chat, createKey, type CreatedKey } from "./support/gateway";
import { admitRequest, guardOf, setClock } from "./support/key-guard";

/**
 * Issue 16, shared budgets: one BudgetGuard per budget holds reservations across all member keys,
 * after each key's own KeyGuard has admitted. Keys without a budget never call it.
 */

type ErrorBody = { error: { code: string; message: string } };
type WindowUsage = {
  window: string;
  spend_usd: number;
  tokens: number;
  requests: number;
  reserved_usd: number;
  reserved_tokens: number;
  reserved_requests: number;
};
type Budget = {
  id: string;
  name: string;
  version: number;
  limits: { window: string; usd: number | null; tokens: number | null; requests: number | null }[];
  usage: WindowUsage[];
  members: { key_id: string; name: string; usage: { window: string; spend_usd: number; requests: number }[] }[];
};

const HOUR = 3_600_000;
const ask = (tag: string) => ({ model: "mock/echo", max_tokens: 100, messages: [{ role: "user", content: tag }] });

async function createBudget(name: string, limits: unknown[]): Promise<Budget> {
  const res = await admin("/budgets", { method: "POST", json: { name, limits } });
  expect(res.status).toBe(201);
  return (await res.json()) as Budget;
}

const getBudget = async (id: string) => (await (await admin(`/budgets/${id}`)).json()) as Budget;
const day = (b: Budget) => b.usage.find((w) => w.window === "1d")!;

/** The budget once nothing is reserved any more (settles run after the response). */
async function settledBudget(id: string): Promise<Budget> {
  for (let i = 0; i < 400; i++) {
    const b = await getBudget(id);
    if (b.usage.every((w) => w.reserved_requests === 0)) return b;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("budget reservations did not settle");
}

/** Counts the KeyGuard's calls to the BUDGET_GUARD namespace (its env is swapped inside the object). */
async function countBudgetCalls(key: CreatedKey): Promise<() => Promise<number>> {
  await runInDurableObject(guardOf(key.id), (instance: KeyGuard) => {
    const holder = instance as unknown as { env: Cloudflare.Env; budgetCalls: number };
    holder.budgetCalls = 0;
    holder.env = {
      ...env,
      BUDGET_GUARD: {
        getByName: (name: string) => {
          holder.budgetCalls++;
          return env.BUDGET_GUARD.getByName(name);
        },
      } as unknown as Cloudflare.Env["BUDGET_GUARD"],
    };
  });
  return () => runInDurableObject(guardOf(key.id), (instance: KeyGuard) => (instance as unknown as { budgetCalls: number }).budgetCalls);
}

describe("budgets: admin API", () => {
  it("create, read, list, patch; keys join with budget_id", async () => {
    const budget = await createBudget("team-a", [
      { window: "1d", usd: 5 },
      { window: "1h", requests: 100 },
    ]);
    expect(budget.id).toMatch(/^bud_/);
    const key = await createKey({ budget_id: budget.id });
    expect(key.budget_id).toBe(budget.id);
    const read = await getBudget(budget.id);
    expect(read.limits).toEqual([
      { window: "1d", usd: 5, tokens: null, requests: null },
      { window: "1h", usd: null, tokens: null, requests: 100 },
    ]);
    expect(read.usage.map((w) => w.window)).toEqual(["1h", "1d", "7d", "month"]);
    expect(read.members).toEqual([{ key_id: key.id, name: "test key", usage: [] }]);
    const list = (await (await admin("/budgets")).json()) as { data: Budget[] };
    expect(list.data.some((b) => b.id === budget.id)).toBe(true);
    const patched = await admin(`/budgets/${budget.id}`, {
      method: "PATCH",
      headers: { "if-match": `"${read.version}"` },
      json: { limits: [{ window: "7d", tokens: 9 }] },
    });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as Budget).limits).toEqual([{ window: "7d", usd: null, tokens: 9, requests: null }]);
    const stale = await admin(`/budgets/${budget.id}`, { method: "PATCH", headers: { "if-match": `"${read.version}"` }, json: { name: "x" } });
    expect(stale.status).toBe(409);
  }, 20_000);

  it.each([
    ["POST", "/budgets", { name: "x", limits: [{ window: "1w", usd: 1 }] }, 400],
    ["POST", "/budgets", { limits: [] }, 400],
    ["PATCH", "/budgets/bud_0000000000000000", { name: "x" }, 404],
    ["PATCH", "/budgets/nope", { name: "x" }, 404],
    ["POST", "/keys", { name: "k", budget_id: "bud_0000000000000000" }, 400],
    ["POST", "/keys", { name: "k", budget_id: "team-a" }, 400],
  ])(
    "%s %s %j → %i",
    async (method, path, json, status) => {
      const res = await admin(path, { method, json });
      expect(res.status).toBe(status);
      expect(((await res.json()) as ErrorBody).error.code).toBe(status === 404 ? "not_found" : "invalid_request");
    },
    20_000,
  );

  it("GET of an unknown budget is 404", async () => {
    expect((await admin("/budgets/bud_0000000000000001")).status).toBe(404);
  }, 20_000);
});

describe("budgets: enforcement", () => {
  it("200 concurrent requests over 5 keys never overspend the shared daily cap; members add up", async () => {
    const budget = await createBudget("race", [{ window: "1d", usd: 0.003 }]);
    const keys = await Promise.all(Array.from({ length: 5 }, () => createKey({ budget_id: budget.id })));
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => chat(keys[i % 5]!.key, ask(`budget-race-${i}`))));
    const ok = responses.filter((r) => r.status === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(responses.every((r) => r.status === 200 || r.status === 402)).toBe(true);
    const denied = responses.find((r) => r.status === 402)!;
    const body = (await denied.json()) as ErrorBody;
    expect(body.error.code).toBe("spend_cap_exceeded");
    expect(body.error.message).toContain("budget 'race'");
    await Promise.all(responses.filter((r) => r !== denied).map((r) => r.body?.cancel()));
    const settled = await settledBudget(budget.id);
    expect(day(settled).spend_usd).toBeLessThanOrEqual(0.003);
    expect(day(settled).requests).toBe(ok);
    const memberRequests = settled.members.map((m) => m.usage.find((u) => u.window === "1d")?.requests ?? 0);
    expect(memberRequests.reduce((a, b) => a + b, 0)).toBe(ok);
    // The keys' own ledgers agree: every admitted request was charged once on each side.
    const keyRequests = await Promise.all(
      keys.map(async (k) => ((await (await admin(`/keys/${k.id}`)).json()) as { usage: { requests: number } }).usage.requests),
    );
    expect(keyRequests.reduce((a, b) => a + b, 0)).toBe(ok);
  }, 60_000);

  it("the key's own daily cap and the budget's both hold under one race", async () => {
    const budget = await createBudget("both", [{ window: "1d", usd: 0.004 }]);
    const capped = await createKey({ budget_id: budget.id, limits: [{ window: "1d", usd: 0.001 }] });
    const other = await createKey({ budget_id: budget.id });
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => chat((i % 2 ? capped : other).key, ask(`both-race-${i}`))));
    await Promise.all(responses.map((r) => r.body?.cancel()));
    const settled = await settledBudget(budget.id);
    expect(day(settled).spend_usd).toBeLessThanOrEqual(0.004);
    const cappedUsage = settled.members.find((m) => m.key_id === capped.id)?.usage.find((u) => u.window === "1d");
    expect(cappedUsage?.spend_usd ?? 0).toBeLessThanOrEqual(0.001);
  }, 60_000);

  it("a budget denial releases the key's own reservation: nothing is charged to the key", async () => {
    const budget = await createBudget("deny", [{ window: "1h", requests: 1 }]);
    const a = await createKey({ budget_id: budget.id });
    const b = await createKey({ budget_id: budget.id, limits: [{ window: "1h", requests: 5 }] });
    expect((await chat(a.key, ask("deny-1"))).status).toBe(200);
    const denied = await chat(b.key, ask("deny-2"));
    expect(denied.status).toBe(429);
    expect(Number(denied.headers.get("retry-after"))).toBeGreaterThan(0);
    const usage = ((await (await admin(`/keys/${b.id}`)).json()) as { usage: { requests: number; reserved_tokens: number } }).usage;
    expect(usage).toMatchObject({ requests: 0, reserved_tokens: 0 });
  }, 20_000);

  it("budget windows roll over with the member keys' (driven) clocks", async () => {
    const budget = await createBudget("roll", [{ window: "1h", requests: 1 }]);
    const a = await createKey({ budget_id: budget.id });
    const b = await createKey({ budget_id: budget.id });
    const hour = spanStart(HOUR);
    await setClock(a.id, hour + 30 * 60_000);
    await setClock(b.id, hour + 45 * 60_000);
    expect((await chat(a.key, ask("roll-1"))).status).toBe(200);
    const denied = await chat(b.key, ask("roll-2"));
    expect(denied.status).toBe(429);
    expect(Number(denied.headers.get("retry-after"))).toBe(15 * 60);
    await setClock(b.id, hour + HOUR);
    expect((await chat(b.key, ask("roll-3"))).status).toBe(200);
  }, 20_000);

  it("a repeated settle charges the budget once", async () => {
    const budget = await createBudget("once", [{ window: "1d", usd: 1 }]);
    const key = await createKey({ budget_id: budget.id });
    const stub = guardOf(key.id);
    expect((await stub.admit(await admitRequest(key, "once-1"))).ok).toBe(true);
    const settle = { requestId: "once-1", status: 200, promptTokens: 10, completionTokens: 20, costMicros: 50, latencyMs: 1 };
    expect(await stub.settle(settle)).toEqual({ settled: true });
    expect(await stub.settle(settle)).toEqual({ settled: false });
    expect(await env.BUDGET_GUARD.getByName(budget.id).settle({ keyId: key.id, requestId: "once-1", tokens: 30, costMicros: 50 })).toEqual({ settled: false });
    const b = await getBudget(budget.id);
    expect(day(b)).toMatchObject({ requests: 1, tokens: 30, spend_usd: 0.00005, reserved_requests: 0 });
  }, 20_000);

  it("a batch of settles (settleMany) charges each request once, skips repeats and unknown ids, and calls the budget once", async () => {
    const budget = await createBudget("batch", [{ window: "1d", usd: 1 }]);
    const key = await createKey({ budget_id: budget.id });
    const stub = guardOf(key.id);
    for (const id of ["b-1", "b-2", "b-3"]) expect((await stub.admit(await admitRequest(key, id))).ok).toBe(true);
    const calls = await countBudgetCalls(key);
    const settle = (requestId: string, completionTokens: number) => ({
      requestId,
      status: 200,
      promptTokens: 10,
      completionTokens,
      costMicros: 7,
      latencyMs: 1,
    });
    const results = await stub.settleMany([settle("b-1", 1), settle("b-2", 2), settle("b-1", 1), settle("nope", 5), settle("b-3", 3)]);
    expect(results).toEqual([{ settled: true }, { settled: true }, { settled: false }, { settled: false }, { settled: true }]);
    expect(await calls()).toBe(1);
    const usage = await stub.usage();
    expect(usage).toMatchObject({ requests: 3, tokens: 36, reserved_tokens: 0 });
    expect(day(await getBudget(budget.id))).toMatchObject({ requests: 3, tokens: 36, spend_usd: 0.000021, reserved_requests: 0 });
  }, 20_000);

  it("a key without a budget makes no budget call; a member key does", async () => {
    const budget = await createBudget("calls", [{ window: "1d", usd: 1 }]);
    const plain = await createKey({ limits: [{ window: "1d", usd: 1 }] });
    const member = await createKey({ budget_id: budget.id });
    expect((await chat(plain.key, ask("calls-warm-1"))).status).toBe(200);
    expect((await chat(member.key, ask("calls-warm-2"))).status).toBe(200);
    const plainCalls = await countBudgetCalls(plain);
    const memberCalls = await countBudgetCalls(member);
    for (let i = 0; i < 3; i++) {
      expect((await chat(plain.key, ask(`calls-plain-${i}`))).status).toBe(200);
      expect((await chat(member.key, ask(`calls-member-${i}`))).status).toBe(200);
    }
    await settledBudget(budget.id);
    expect(await plainCalls()).toBe(0);
    expect(await memberCalls()).toBeGreaterThanOrEqual(3);
  }, 20_000);
});

describe("budgets: delete", () => {
  it("refuses (409) while member keys remain; once they are detached deletes it, audited; a key naming it later is refused, never uncapped", async () => {
    const budget = await createBudget("delete-me", [{ window: "1d", usd: 5 }]);
    const key = await createKey({ budget_id: budget.id });
    expect((await chat(key.key, ask("budget delete member"))).status).toBe(200);

    const refused = await admin(`/budgets/${budget.id}`, { method: "DELETE" });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as ErrorBody).error).toMatchObject({ code: "conflict", message: expect.stringContaining("1 member key") });
    expect((await getBudget(budget.id)).id).toBe(budget.id);

    expect((await admin(`/keys/${key.id}`, { method: "PATCH", json: { budget_id: null } })).status).toBe(200);
    const before = ((await (await admin("/audit?limit=1")).json()) as { head: { seq: number } }).head.seq;
    const deleted = await admin(`/budgets/${budget.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ id: budget.id, object: "budget", deleted: true });
    const requestId = deleted.headers.get("x-request-id");
    const entries = ((await (await admin(`/audit?after=${before}&limit=100`)).json()) as { data: { request_id: string; action: string; target: string }[] })
      .data;
    expect(entries.filter((e) => e.request_id === requestId)).toEqual([
      expect.objectContaining({ action: "budgets.delete", target: `/admin/v1/budgets/${budget.id}` }),
    ]);

    expect((await admin(`/budgets/${budget.id}`)).status).toBe(404);
    expect((await admin(`/budgets/${budget.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await admin("/budgets/bud_nope", { method: "DELETE" })).status).toBe(404);
    // The detached key spends on its own again.
    expect((await chat(key.key, ask("budget delete detached"))).status).toBe(200);
    // A key that still names the deleted budget (a join racing the delete) is refused by the retired BudgetGuard.
    const verdict = await env.BUDGET_GUARD.getByName(budget.id).reserve({
      budgetId: budget.id,
      keyId: key.id,
      requestId: "stale-join",
      tokens: 10,
      costMicros: 10,
      at: Date.now(),
    });
    expect(verdict).toMatchObject({ ok: false, message: "This key's budget no longer exists." });
  });
});
