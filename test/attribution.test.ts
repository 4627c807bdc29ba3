import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { KeyGuard } from "../durable-objects/key-guard";
import { ATTRIBUTION_VALUES_PER_HOUR, KeyGuardStore, OTHER_VALUE } from "../durable-objects/key-guard-store";
import { messagesFetch } from "./support/anthropic";
import type { AuditReport } from "../src/audit/report";
import { verifyReport } from "../src/audit/report-verify";
import { createReport, publishedKeys, requestEntries, verifyAudit } from "./support/audit";
import { admin, BASE, chat, type CreatedKey, createKey, gatewayFetch, sdk } from "./support/gateway";
import { guardOf } from "./support/key-guard";

/**
 * Issue 16, attribution: the end-user id (OpenAI `user`, Anthropic `metadata.user_id`) and the
 * `x-keyforge-tags` header, recorded on the key's HMAC-chained audit entries and on its usage
 * rollups; `GET /admin/v1/usage?group_by=tag|user`. Both are caller-controlled, so both are bounded.
 */

type Row = {
  key_id: string;
  user?: string | null;
  tag?: string | null;
  model?: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
};

const TAGS = "x-keyforge-tags";
// Claude Code's shape: user_<64 hex>_account_<uuid>_session_<uuid> (~160 characters).
const CLAUDE_USER = `user_${"ab".repeat(32)}_account_${crypto.randomUUID()}_session_${crypto.randomUUID()}`;

async function settled(id: string, requests: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { usage } = (await (await admin(`/keys/${id}`)).json()) as { usage: { requests: number; reserved_tokens: number } };
    if (usage.requests >= requests && usage.reserved_tokens === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("requests did not settle");
}

async function usage(query: string): Promise<Row[]> {
  const res = await admin(`/usage?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { data: Row[] }).data;
}

const sum = (rows: Row[], f: (r: Row) => number) => rows.reduce((a, r) => a + f(r), 0);

describe("attribution: audit entries and usage rollups", () => {
  let key: CreatedKey;

  beforeAll(async () => {
    key = await createKey({ name: "attribution" });
    const client = sdk(key.key);
    // OpenAI SDK: `user` on chat (twice for alice), responses and embeddings; tags in the header.
    for (let i = 0; i < 2; i++) {
      await client.chat.completions.create(
        { model: "mock/echo", max_tokens: 30, user: "alice", messages: [{ role: "user", content: `attribution alice ${i}` }] },
        { headers: { [TAGS]: "team-a, run:42" } },
      );
    }
    await client.responses.create({ model: "mock/echo", input: "attribution bob", max_output_tokens: 30, user: "bob" }, { headers: { [TAGS]: "team-b" } });
    await client.embeddings.create({ model: "text-embedding-3-small", input: "attribution carol", user: "carol" });
    // Anthropic Messages with Claude Code's metadata.user_id.
    const messages = await messagesFetch(
      "/v1/messages",
      key.key,
      { model: "mock/echo", max_tokens: 30, metadata: { user_id: CLAUDE_USER }, messages: [{ role: "user", content: "attribution claude" }] },
      { [TAGS]: "team-a" },
    );
    expect(messages.status, await messages.clone().text()).toBe(200);
    // Neither: counted under null in both groupings.
    expect((await chat(key.key, { model: "mock/echo", max_tokens: 30, messages: [{ role: "user", content: "attribution nobody" }] })).status).toBe(200);
    await settled(key.id, 6);
  }, 60_000);

  it("records user and tags on the HMAC-chained entries (only when sent) and the chain verifies", { timeout: 30_000 }, async () => {
    const entries = (await requestEntries(key.id)).filter((e) => e.status === 200);
    expect(entries).toHaveLength(6);
    const byUser = (user: string | undefined) => entries.filter((e) => e.user === user);
    expect(byUser("alice").map((e) => [e.endpoint, e.tags])).toEqual([
      ["chat", ["team-a", "run:42"]],
      ["chat", ["team-a", "run:42"]],
    ]);
    expect(byUser("bob").map((e) => [e.endpoint, e.tags])).toEqual([["responses", ["team-b"]]]);
    expect(byUser("carol").map((e) => [e.endpoint, e.tags])).toEqual([["embeddings", undefined]]);
    // The ~160-character id is kept as a readable prefix plus a hash of the whole: bounded, still distinct.
    const claude = entries.find((e) => e.endpoint === "messages")!;
    expect(claude.user).toMatch(new RegExp(`^${CLAUDE_USER.slice(0, 96)}~[0-9a-f]{16}$`));
    expect(claude.tags).toEqual(["team-a"]);
    // An entry without attribution has neither field (its bytes are those of an entry written before them).
    const plain = entries.find((e) => e.user === undefined && e.endpoint === "chat")!;
    expect(Object.keys(plain)).not.toContain("user");
    expect(Object.keys(plain)).not.toContain("tags");
    expect(await verifyAudit(key.id)).toMatchObject({ valid: true, first_invalid_seq: null });
    // A signed report of those entries verifies offline too (the same entry schema as the page and CLI).
    const created = await createReport(key.id);
    expect(created.status).toBe(201);
    const report = (await (await gatewayFetch(`${BASE}/reports/${((await created.json()) as { id: string }).id}.json`)).json()) as AuditReport;
    const result = await verifyReport(
      report,
      (await publishedKeys()).map((k) => k.verifier_key),
    );
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.entries.some((e) => e.entry.includes('"tags":["team-a","run:42"]') && e.entry.includes('"user":"alice"'))).toBe(true);
  });

  it("GET /admin/v1/usage?group_by=user|tag: exact per user and per tag, each summing to the key's total", { timeout: 30_000 }, async () => {
    expect(await runDurableObjectAlarm(guardOf(key.id))).toBe(true);
    const byModel = await usage(`key_id=${key.id}`);
    const byUser = await usage(`key_id=${key.id}&group_by=user`);
    const byTag = await usage(`key_id=${key.id}&group_by=tag`);
    const total = {
      requests: sum(byModel, (r) => r.requests),
      tokens: sum(byModel, (r) => r.prompt_tokens + r.completion_tokens),
      cost: sum(byModel, (r) => r.cost_usd),
    };
    expect(total.requests).toBe(6);

    const users = Object.fromEntries(byUser.map((r) => [String(r.user), r.requests]));
    expect(users).toEqual({ alice: 2, bob: 1, carol: 1, [byUser.find((r) => r.user?.startsWith("user_"))!.user!]: 1, null: 1 });
    expect(sum(byUser, (r) => r.requests)).toBe(total.requests);
    expect(sum(byUser, (r) => r.prompt_tokens + r.completion_tokens)).toBe(total.tokens);
    expect(sum(byUser, (r) => r.cost_usd)).toBeCloseTo(total.cost, 9);
    // Alice's two chat calls are exactly the two audited ones.
    const audited = (await requestEntries(key.id)).filter((e) => e.user === "alice") as unknown as { prompt_tokens: number; cost_micros: number }[];
    const alice = byUser.find((r) => r.user === "alice")!;
    expect(alice.prompt_tokens).toBe(audited.reduce((a, e) => a + e.prompt_tokens, 0));
    expect(alice.cost_usd * 1e6).toBeCloseTo(
      audited.reduce((a, e) => a + e.cost_micros, 0),
      3,
    );

    // A request with two tags counts under both; untagged requests under null.
    expect(Object.fromEntries(byTag.map((r) => [String(r.tag), r.requests]))).toEqual({ "team-a": 3, "run:42": 2, "team-b": 1, null: 2 });

    // Tag / user rollups have no model dimension: a model filter with them is a clear 400.
    const bad = await admin(`/usage?key_id=${key.id}&group_by=user&model=mock/echo`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("'model'"),
    });
    expect((await admin("/usage?group_by=team")).status).toBe(400);
  });
});

describe("attribution: bounds (the header and body fields are caller-controlled)", () => {
  it("a malformed x-keyforge-tags is a 400 invalid_request naming the header, before anything is admitted", { timeout: 30_000 }, async () => {
    const key = await createKey({ name: "attribution-bad-tags" });
    const body = { model: "mock/echo", max_tokens: 10, messages: [{ role: "user", content: "attribution bad tags" }] };
    for (const header of ["a b", "x".repeat(65), Array.from({ length: 9 }, (_, i) => `t${i}`).join(","), "ok,,", "tag;drop", "a=b"]) {
      const res = await chat(key.key, body, { [TAGS]: header });
      expect(res.status, header).toBe(400);
      const error = ((await res.json()) as { error: { code: string; param: string; message: string } }).error;
      expect(error).toMatchObject({ code: "invalid_request", param: TAGS });
      expect(error.message).toContain(TAGS);
    }
    // /v1/messages renders it in Anthropic's shape, naming the header too.
    const messages = await messagesFetch("/v1/messages", key.key, body, { [TAGS]: "a b" });
    expect(messages.status).toBe(400);
    expect(await messages.text()).toContain(TAGS);
    // Empty and duplicate-laden headers are fine.
    expect((await chat(key.key, body, { [TAGS]: "" })).status).toBe(200);
    expect((await chat(key.key, body, { [TAGS]: "a,a, b" })).status).toBe(200);
    await settled(key.id, 2);
    const entries = await requestEntries(key.id);
    expect(entries.map((e) => e.tags)).toEqual([undefined, ["a", "b"]]);
  });

  it(
    `rolls up at most ${ATTRIBUTION_VALUES_PER_HOUR} distinct users (and tags) per key and hour; the rest as ${OTHER_VALUE}`,
    { timeout: 30_000 },
    async () => {
      const key = await createKey({ name: "attribution-cardinality" });
      expect((await chat(key.key, { model: "mock/echo", messages: [{ role: "user", content: "attribution open" }] })).status).toBe(200);
      const rows = await runInDurableObject(guardOf(key.id), (_i: KeyGuard, state) => {
        const store = new KeyGuardStore(state.storage.sql);
        store.migrate(); // idempotent: this handle reads the tables the KeyGuard created
        const hour = 7 * 3_600_000;
        const one = { requests: 1, promptTokens: 1, completionTokens: 1, costMicros: 1 };
        for (let i = 0; i < ATTRIBUTION_VALUES_PER_HOUR + 5; i++) store.addAttribution(hour, `u${i}`, [`t${i}`], one);
        // A value already seen this hour keeps its own row after the cap is reached.
        store.addAttribution(hour, "u0", ["t0"], one);
        const pending = store.pendingAttribution().filter((r) => r.hour === hour);
        const pick = (kind: string, value: string) => pending.find((r) => r.kind === kind && r.value === value)?.requests;
        const result = {
          users: pending.filter((r) => r.kind === "user").length,
          tags: pending.filter((r) => r.kind === "tag").length,
          otherUser: pick("user", OTHER_VALUE),
          otherTag: pick("tag", OTHER_VALUE),
          u0: pick("user", "u0"),
          total: pending.filter((r) => r.kind === "user").reduce((a, r) => a + r.requests, 0),
        };
        store.clearAttribution(pending);
        store.pruneAttributionSeen(hour + 3_600_000);
        return result;
      });
      expect(rows).toEqual({
        users: ATTRIBUTION_VALUES_PER_HOUR + 1,
        tags: ATTRIBUTION_VALUES_PER_HOUR + 1,
        otherUser: 5,
        otherTag: 5,
        u0: 2,
        total: ATTRIBUTION_VALUES_PER_HOUR + 6,
      });
    },
  );
});
