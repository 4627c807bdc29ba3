import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RECORD_RECHECK_MS } from "../durable-objects/key-guard";
import { loadKeyRecord } from "../src/keys/catalogue";
import { testNow } from "./support/clock";
import { countD1, keyQueries } from "./support/d1-queries";
import { admin, chat, createKey } from "./support/gateway";
import { guardOf, setClock } from "./support/key-guard";

/**
 * Versioned key records: every admin write bumps `version`; PATCH and revoke write only what they
 * change and are compare-and-swap on `If-Match: "<version>"` (409 `conflict` when it moved on); the
 * KeyGuard applies a record only if it is newer than the one it holds, so a revoke is never undone
 * by a racing PATCH; and the KeyGuard re-reads D1 in the background every RECORD_RECHECK_MS so a
 * change it missed heals, while warm requests stay free of D1.
 */

type View = { id: string; version: number; status: string; rpm: number | null; tpm: number | null; name: string; models: string[] };
type Reply = { status: number; etag: string | null; body: View & { error?: { code: string; message: string; param?: string } } };

async function call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Reply> {
  const res = await admin(path, init);
  return { status: res.status, etag: res.headers.get("etag"), body: (await res.json()) as Reply["body"] };
}

const patch = (id: string, json: unknown, version?: number | string) =>
  call(`/keys/${id}`, { method: "PATCH", json, headers: version === undefined ? {} : { "if-match": typeof version === "number" ? `"${version}"` : version } });
const revoke = (id: string, version?: number) =>
  call(`/keys/${id}/revoke`, { method: "POST", headers: version === undefined ? {} : { "if-match": `"${version}"` } });
const say = { model: "mock/echo", messages: [{ role: "user", content: "versions" }] };

async function chatCode(key: string): Promise<string> {
  const res = await chat(key, say);
  return res.status === 200 ? "200" : `${res.status} ${((await res.json()) as { error: { code: string } }).error.code}`;
}

/** A key whose KeyGuard exists (first request made), so admin writes are pushed to it. */
async function activeKey(policy: Record<string, unknown> = {}) {
  const key = await createKey(policy);
  expect(await chatCode(key.key)).toBe("200");
  return key;
}

describe("key versions", () => {
  it("every write bumps the version, shown in the body and as the ETag", async () => {
    const key = await createKey();
    expect(key.version).toBe(1);
    const read = await call(`/keys/${key.id}`);
    expect([read.body.version, read.etag]).toEqual([1, '"1"']);
    const patched = await patch(key.id, { rpm: 10 }, 1);
    expect([patched.status, patched.body.version, patched.etag, patched.body.rpm]).toEqual([200, 2, '"2"', 10]);
    const revoked = await revoke(key.id);
    expect([revoked.status, revoked.body.version, revoked.body.status]).toEqual([200, 3, "revoked"]);
    // Revoking again changes nothing.
    expect((await revoke(key.id)).body.version).toBe(3);
  });

  it("a PATCH or revoke with a stale If-Match is refused with 409 conflict and writes nothing", async () => {
    const key = await activeKey();
    expect((await patch(key.id, { rpm: 10 }, 1)).status).toBe(200);
    const stale = await patch(key.id, { tpm: 5000 }, 1);
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: "conflict" });
    expect(stale.body.error!.message).toContain("version is 2");
    const staleRevoke = await revoke(key.id, 1);
    expect(staleRevoke.status).toBe(409);
    const now = await call(`/keys/${key.id}`);
    expect(now.body).toMatchObject({ version: 2, rpm: 10, tpm: null, status: "active" });
    expect(await chatCode(key.key)).toBe("200");
    expect((await patch(key.id, { rpm: 11 }, "*")).status).toBe(200);
  });

  it.each(["abc", '"1", "2"', 'W/"1"', "-1", '"1.5"'])("If-Match %s is a 400 naming the header", async (value) => {
    const key = await createKey();
    const res = await patch(key.id, { rpm: 10 }, value);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_request" });
    expect(res.body.error!.message).toContain("If-Match");
    expect((await call(`/keys/${key.id}`)).body.version).toBe(1);
  });

  it("404 for an unknown key, with or without If-Match", async () => {
    expect((await patch("AAAAAAAAAAAAAAAA", { rpm: 1 })).status).toBe(404);
    expect((await patch("AAAAAAAAAAAAAAAA", { rpm: 1 }, 1)).status).toBe(404);
    expect((await revoke("AAAAAAAAAAAAAAAA", 1)).status).toBe(404);
  });
});

describe("concurrent admin writes", () => {
  it("two PATCHes with the version they read: one applies, the other gets 409", async () => {
    for (let i = 0; i < 5; i++) {
      const key = await activeKey();
      const results = await Promise.all([patch(key.id, { rpm: 100 }, 1), patch(key.id, { tpm: 100_000 }, 1)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const winner = results.find((r) => r.status === 200)!.body;
      const now = (await call(`/keys/${key.id}`)).body;
      expect(now).toMatchObject({ version: 2, rpm: winner.rpm, tpm: winner.tpm });
    }
  });

  it("two PATCHes of different fields without If-Match: both are applied, none is lost", async () => {
    for (let i = 0; i < 5; i++) {
      const key = await activeKey();
      const results = await Promise.all([patch(key.id, { rpm: 100 }), patch(key.id, { tpm: 100_000 }), patch(key.id, { name: `renamed-${i}` })]);
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
      expect((await call(`/keys/${key.id}`)).body).toMatchObject({ version: 4, rpm: 100, tpm: 100_000, name: `renamed-${i}` });
      // The KeyGuard holds the newest version too: the limits it enforces are both there.
      const row = await loadKeyRecord(env.DB, key.id);
      await guardOf(key.id).configure({ ...row!, version: 1, rpm: null, tpm: null });
      expect(await chatCode(key.key)).toBe("200");
      const rate = await chat(key.key, say);
      expect(rate.headers.get("x-ratelimit-limit-requests")).toBe("100");
      expect(rate.headers.get("x-ratelimit-limit-tokens")).toBe("100000");
    }
  });

  it("a PATCH racing a revoke never undoes it, in D1 or in the KeyGuard", async () => {
    for (let i = 0; i < 8; i++) {
      const key = await activeKey();
      const writes = [() => patch(key.id, { rpm: 1000 + i }), () => revoke(key.id)];
      const results = await Promise.all(i % 2 === 0 ? writes.map((w) => w()) : writes.reverse().map((w) => w()));
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      expect((await call(`/keys/${key.id}`)).body).toMatchObject({ status: "revoked", rpm: 1000 + i, version: 3 });
      expect(await chatCode(key.key)).toBe("401 key_revoked");
    }
  });

  it("the KeyGuard ignores a record older than the one it holds", async () => {
    const key = await activeKey();
    const before = (await loadKeyRecord(env.DB, key.id))!;
    expect((await revoke(key.id)).status).toBe(200);
    await guardOf(key.id).configure(before);
    expect(await chatCode(key.key)).toBe("401 key_revoked");
  });
});

describe("KeyGuard re-checks D1", () => {
  it("a change the KeyGuard missed heals after RECORD_RECHECK_MS, and warm requests read no D1", async () => {
    // The object's clock is driven from before its first request, so the record it loads is fresh at t0.
    const key = await createKey();
    const t0 = testNow();
    await setClock(key.id, t0);
    expect(await chatCode(key.key)).toBe("200");
    // A revoke lands in D1 but its push to the object is lost.
    await env.DB.prepare("update virtual_keys set revoked_at = ?, version = version + 1 where id = ?").bind(Date.now(), key.id).run();

    const warm = await countD1(async () => [await chatCode(key.key), await chatCode(key.key), await chatCode(key.key)]);
    expect(warm.result).toEqual(["200", "200", "200"]);
    expect(keyQueries(warm.queries)).toEqual([]);

    await setClock(key.id, t0 + RECORD_RECHECK_MS + 1_000);
    const codes: string[] = [];
    for (let i = 0; i < 20 && codes.at(-1) !== "401 key_revoked"; i++) {
      codes.push(await chatCode(key.key));
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(codes.at(-1)).toBe("401 key_revoked");
    // The re-check runs off the request's path: at most the request that triggered it was still served.
    expect(codes.filter((c) => c === "200").length).toBeLessThanOrEqual(1);
  });

  it("a cap the KeyGuard missed is healed too (stricter and looser)", async () => {
    const key = await createKey({ models: ["gpt-*"] });
    const t0 = testNow();
    await setClock(key.id, t0);
    expect(await chatCode(key.key)).toBe("403 model_not_allowed");
    await env.DB.prepare("update virtual_keys set models = '[]', version = version + 1 where id = ?").bind(key.id).run();
    expect(await chatCode(key.key)).toBe("403 model_not_allowed");
    await setClock(key.id, t0 + RECORD_RECHECK_MS + 1_000);
    const codes: string[] = [];
    for (let i = 0; i < 20 && codes.at(-1) !== "200"; i++) {
      codes.push(await chatCode(key.key));
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(codes.at(-1)).toBe("200");
  });
});
