import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { KeyGuard } from "../durable-objects/key-guard";
import { canonicalJson } from "../src/audit/canonical-json";
import { deriveChainKey, verifyChain } from "../src/audit/chain";
import { checksumOf } from "../src/keys/token";
import { allEntries, holdSealer, isRequestEntry, listAudit, requestEntries, verifyAudit, waitForEntries, type ListedEntry } from "./support/audit";
import { admin, chat, createKey, mockUpstream } from "./support/gateway";
import { testNow } from "./support/clock";
import { guardOf, setClock, sqlRows } from "./support/key-guard";
import { TEST_SECRETS } from "./support/test-secrets";

/**
 * The audit log as the admin API shows it: one entry per request a valid key makes (served,
 * denied or failed upstream), none for a bad key; entries sealed after an eviction; no hashes at
 * all without the chain secret; and the list endpoint's paging and input checks. Every key here is
 * made by createKey and never changed before its first request, so its log opens with one policy
 * entry, key.create (copied at first use), and its requests follow from seq 2.
 */

const say = (content: string, model = "mock/echo") => ({ model, messages: [{ role: "user", content }] });
const marker = () => `audit-${crypto.randomUUID()}`;

/** The listed entries re-chained independently with the library, from the test's copy of the secret. */
async function chainHolds(keyId: string, entries: ListedEntry[]): Promise<boolean> {
  const chainKey = await deriveChainKey(TEST_SECRETS.AUDIT_HMAC_SECRET, keyId);
  const records = entries.map(({ hash, ...entry }) => ({ entry: canonicalJson(entry), hash: hash ?? "" }));
  return (await verifyChain(chainKey, keyId, records)).valid;
}

describe("audit: one entry per request", () => {
  it("served, denied by policy and failed upstream each append exactly one entry, keyed by the request id", async () => {
    const key = await createKey({ models: ["mock/echo", "gpt-4o-mini"] });
    const notFound = marker();
    const overloaded = marker();
    await mockUpstream.script({ match: notFound, status: 404, body: { error: { type: "invalid_request_error", code: "model_not_found" } } });
    await mockUpstream.script({ match: overloaded, status: 503, body: { error: { type: "server_error" } } });
    const responses = [
      await chat(key.key, say("served")),
      await chat(key.key, say("not allowed", "mock/slow")),
      await chat(key.key, say(notFound, "gpt-4o-mini")),
      await chat(key.key, say(overloaded, "gpt-4o-mini")),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 403, 404, 502]);
    await waitForEntries(key.id, 3);
    // A denial is coalesced with others of its kind for a minute (audit-denials.test.ts): once the
    // minute is over, the next read writes its entry, with count 1.
    await setClock(key.id, testNow() + 60_000);
    const all = await allEntries(key.id);
    expect(all[0]).toMatchObject({ seq: 1, kind: "admin", action: "key.create" });
    const entries = all.slice(1);
    const ids = responses.map((r) => r.headers.get("x-request-id"));
    expect(entries.map((e) => [e.seq, e.status, e.request_id])).toEqual([
      [2, 200, ids[0]],
      [3, 404, ids[2]],
      [4, 502, ids[3]],
      [5, 403, ids[1]],
    ]);
    expect(entries[3]).toMatchObject({ count: 1, cost_micros: 0 });
    expect(entries[0]).toMatchObject({ v: 1, key_id: key.id, model: "mock/echo", provider: "mock", stream: false });
    expect(entries[1]).toMatchObject({ model: "openai/gpt-4o-mini", provider: "openai", cost_micros: 0 });
    expect(await chainHolds(key.id, all)).toBe(true);
  });

  it("rate limited (429) and over the spend cap (402) are audited too", async () => {
    const limited = await createKey({ rpm: 1 });
    const capped = await createKey({ spend_cap_usd: 0.000001 });
    const statuses = [
      (await chat(limited.key, say("one"))).status,
      (await chat(limited.key, say("two"))).status,
      (await chat(capped.key, say("too dear"))).status,
    ];
    expect(statuses).toEqual([200, 429, 402]);
    await waitForEntries(limited.id, 1);
    for (const id of [limited.id, capped.id]) await setClock(id, testNow() + 60_000);
    expect((await requestEntries(limited.id)).map((e) => e.status)).toEqual([200, 429]);
    // Refused at its first request: the log holds its creation, then the (coalesced) denial.
    expect((await allEntries(capped.id)).map((e) => e.action ?? e.status)).toEqual(["key.create", 402]);
  });

  it("a bad key appends no request entry", async () => {
    const key = await createKey();
    const wrongSecret = "W".repeat(32);
    const forged = `vk_${key.id}${wrongSecret}${checksumOf(key.id, wrongSecret)}`;
    expect((await chat(forged, say("let me in"))).status).toBe(401);
    expect((await chat(`${key.key.slice(0, -1)}x`, say("typo"))).status).toBe(401);
    expect((await chat(key.key, say("real"))).status).toBe(200);
    await waitForEntries(key.id, 1);
    // The forged secret named a real key id, so that first (refused) use copied the key's history.
    expect((await allEntries(key.id)).map((e) => e.action ?? e.status)).toEqual(["key.create", 200]);
  });
});

describe("audit: sealing", () => {
  it("an instance evicted between the append and the sealing loses nothing: the next one seals", async () => {
    const key = await createKey();
    await holdSealer(key.id, true);
    for (let i = 0; i < 3; i++) expect((await chat(key.key, say(`held ${i}`))).status).toBe(200);
    await waitForEntries(key.id, 3);
    // key.create (copied at first use) and the three requests, none sealed.
    const held = await sqlRows<{ seq: number; hash: string | null }>(key.id, "select seq, hash from audit_entries order by seq");
    expect(held).toEqual([1, 2, 3, 4].map((seq) => ({ seq, hash: null })));
    expect(await sqlRows(key.id, "select * from audit_nodes")).toEqual([]);

    await abortAllDurableObjects();
    const entries = await allEntries(key.id);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries.filter(isRequestEntry)).toHaveLength(3);
    expect(entries.every((e) => /^[0-9a-f]{64}$/.test(e.hash ?? ""))).toBe(true);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: true, entries: 4, first_invalid_seq: null });
    // Leaves 0..3 plus the subtrees over leaves 0..1, 2..3 and 0..3.
    expect(await sqlRows(key.id, "select level, idx from audit_nodes order by level, idx")).toEqual([
      { level: 0, idx: 0 },
      { level: 0, idx: 1 },
      { level: 0, idx: 2 },
      { level: 0, idx: 3 },
      { level: 1, idx: 0 },
      { level: 1, idx: 1 },
      { level: 2, idx: 0 },
    ]);
  });

  it("without AUDIT_HMAC_SECRET nothing is sealed (no wrong hashes) and reads fail loudly; with it back, all verifies", async () => {
    const key = await createKey();
    await runInDurableObject(guardOf(key.id), (instance: KeyGuard) => {
      instance.auditEnv = { ...instance.auditEnv, AUDIT_HMAC_SECRET: undefined };
    });
    for (let i = 0; i < 2; i++) expect((await chat(key.key, say(`unsealed ${i}`))).status).toBe(200);
    await waitForEntries(key.id, 2);
    const res = await admin(`/keys/${key.id}/audit`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("internal_error");
    expect(await sqlRows(key.id, "select hash from audit_entries where hash is not null")).toEqual([]);

    await runInDurableObject(guardOf(key.id), (instance: KeyGuard) => {
      instance.auditEnv = { ...instance.auditEnv, AUDIT_HMAC_SECRET: TEST_SECRETS.AUDIT_HMAC_SECRET };
    });
    const entries = await allEntries(key.id);
    expect(entries.filter(isRequestEntry)).toHaveLength(2);
    expect(await chainHolds(key.id, entries)).toBe(true);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: true, entries: entries.length });
  });
});

describe("audit: GET /admin/v1/keys/:id/audit", () => {
  it("pages with after and limit; head is the last entry", async () => {
    const key = await createKey();
    for (let i = 0; i < 5; i++) await chat(key.key, say(`page ${i}`));
    await waitForEntries(key.id, 5);
    // Six entries: key.create and five requests.
    const first = await listAudit(key.id, "?limit=2");
    expect(first.data.map((e) => e.seq)).toEqual([1, 2]);
    expect(first.has_more).toBe(true);
    const second = await listAudit(key.id, "?after=2&limit=3");
    expect(second.data.map((e) => e.seq)).toEqual([3, 4, 5]);
    const last = await listAudit(key.id, "?after=5");
    expect(last.data.map((e) => e.seq)).toEqual([6]);
    expect(last.has_more).toBe(false);
    expect(last.head).toEqual({ seq: 6, hash: last.data[0]!.hash });
    expect(await chainHolds(key.id, await allEntries(key.id))).toBe(true);
  });

  it("an empty log: no entries, head at seq 0 with h_0, and it verifies", async () => {
    const key = await createKey();
    const list = await listAudit(key.id);
    expect(list).toMatchObject({ data: [], has_more: false, head: { seq: 0 } });
    expect(list.head.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyAudit(key.id)).toEqual({ valid: true, entries: 0, head: list.head, first_invalid_seq: null });
  });

  it("rejects bad paging input, unknown keys and missing admin auth", async () => {
    const key = await createKey();
    for (const query of ["?limit=0", "?limit=501", "?limit=abc", "?after=-1", "?after=1.5", "?extra=1"]) {
      expect((await admin(`/keys/${key.id}/audit${query}`)).status, query).toBe(400);
    }
    expect((await admin("/keys/0000000000000000/audit")).status).toBe(404);
    expect((await admin("/keys/not-a-key/audit/verify", { method: "POST" })).status).toBe(404);
    for (const [path, method] of [
      ["/audit", "GET"],
      ["/audit/verify", "POST"],
      ["/audit/reports", "POST"],
    ] as const) {
      const res = await admin(`/keys/${key.id}${path}`, { method, headers: { authorization: "Bearer wrong" } });
      expect(res.status, path).toBe(401);
    }
  });
});
