import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { KeyGuard } from "../durable-objects/key-guard";
import { runVerifyCli } from "../src/audit/cli";
import { noteKeysFromSeed } from "../src/audit/note-keys";
import type { AuditReport } from "../src/audit/report";
import { verifyReport } from "../src/audit/report-verify";
import { fromBase64, toBase64 } from "../src/lib/bytes";
import { createReport, historyLength, publishedKeys, REQUEST_ROWS, waitForEntries } from "./support/audit";
import { BASE, chat, createKey, gatewayFetch } from "./support/gateway";
import { guardOf, sqlRows } from "./support/key-guard";
import { TEST_SECRETS } from "./support/test-secrets";

/**
 * Shareable reports end to end inside workerd: the admin API signs and stores one, anyone fetches
 * it from /reports/:id.json and verifies it against /.well-known/keyforge/audit-keys (with the
 * library and with the keyforge-verify CLI logic); any flipped byte fails; a rotated signing key
 * stays published so reports it signed keep verifying.
 */

/** A key after `n` requests; its log opens with `h` entries of policy history (key.create, copied at first use). */
async function loggedKey(n: number): Promise<{ id: string; key: string; h: number }> {
  const key = await createKey();
  await grow(key, n);
  return { ...key, h: await historyLength(key.id) };
}

async function grow(key: { id: string; key: string }, n: number): Promise<void> {
  const before = (await sqlRows(key.id, REQUEST_ROWS)).length;
  for (let i = 0; i < n; i++) expect((await chat(key.key, { model: "mock/echo", messages: [{ role: "user", content: `report ${i}` }] })).status).toBe(200);
  await waitForEntries(key.id, before + n);
}

async function report(id: string, range?: { from_seq?: number; to_seq?: number }): Promise<{ id: string; url: string; text: string; body: AuditReport }> {
  const res = await createReport(id, range);
  expect(res.status).toBe(201);
  const created = (await res.json()) as { id: string; url: string };
  const fetched = await gatewayFetch(`${BASE}/reports/${created.id}.json`);
  const text = await fetched.text();
  return { ...created, text, body: JSON.parse(text) as AuditReport };
}

const trusted = async () => (await publishedKeys()).map((k) => k.verifier_key);

describe("audit reports", () => {
  it("created by the admin API, served publicly, verified against the published keys", async () => {
    const key = await loggedKey(6);
    const created = await report(key.id);
    expect(created.id).toMatch(/^rpt_[0-9A-Za-z]{22}$/);
    expect(created.url).toBe(`${BASE}/reports/${created.id}`);

    const res = await gatewayFetch(`${BASE}/reports/${created.id}.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");

    const result = await verifyReport(created.body, await trusted());
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.checks.map((c) => c.name)).toEqual([
      "schema",
      "trusted keys",
      "checkpoint signature",
      "checkpoint",
      "report signature",
      "range",
      ...Array.from({ length: key.h + 6 }, (_, i) => `entry seq ${i + 1}`),
      "range proof",
      "consistency",
    ]);
    expect(created.body).toMatchObject({ key_id: key.id, origin: `keyforge.dev/audit/${key.id}`, range: { from_seq: 1, to_seq: key.h + 6 }, previous: null });

    // The keyforge-verify CLI logic on the same bytes, with an in-memory file system.
    const out: string[] = [];
    const io = { readText: async () => created.text, out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    const keyArgs = (await trusted()).flatMap((k) => ["--key", k]);
    expect(await runVerifyCli(["report.json", ...keyArgs], io)).toBe(0);
    expect(out.at(-1)).toMatch(/^VERIFIED/);
  });

  it("a later report of a sub-range links the earlier checkpoint by a consistency proof", async () => {
    const key = await loggedKey(6);
    const first = await report(key.id);
    await grow(key, 2);
    const [size, earlier] = [key.h + 8, key.h + 6];
    const second = await report(key.id, { from_seq: 2, to_seq: size });
    expect(second.body.range).toEqual({ from_seq: 2, to_seq: size });
    expect(second.body.previous?.checkpoint).toBe(first.body.checkpoint);
    const result = await verifyReport(second.body, await trusted(), { previousCheckpoint: first.body.checkpoint });
    expect(result.ok).toBe(true);
    expect(result.checks.at(-1)).toMatchObject({ name: "consistency", detail: `tree of size ${size} extends the earlier signed tree of size ${earlier}` });
    const single = await report(key.id, { from_seq: 4, to_seq: 4 });
    expect(single.body.entries.map((e) => (JSON.parse(e.entry) as { seq: number }).seq)).toEqual([4]);
    expect((await verifyReport(single.body, await trusted())).ok).toBe(true);
  });

  it("one byte flipped anywhere in the stored report fails verification", async () => {
    const key = await loggedKey(3);
    const { text } = await report(key.id);
    const keys = await trusted();
    const bytes = new TextEncoder().encode(text);
    let checked = 0;
    for (let at = 0; at < bytes.length; at++) {
      const mutated = bytes.slice();
      mutated[at] = mutated[at]! ^ 0x01;
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(mutated));
      } catch {
        continue; // not JSON any more: refused before any check
      }
      checked++;
      expect((await verifyReport(parsed, keys)).ok, `byte ${at}`).toBe(false);
    }
    expect(checked).toBeGreaterThan(bytes.length / 2);
  });

  it("rejects empty logs, bad ranges and unknown keys; unknown report ids are 404", async () => {
    const empty = await createKey();
    expect((await createReport(empty.id)).status).toBe(400);
    const key = await loggedKey(3);
    // `to_seq` one past the head: the log holds key.create (h = 1) and three requests.
    for (const range of [{ from_seq: 0 }, { to_seq: key.h + 4 }, { from_seq: 3, to_seq: 2 }, { from_seq: "1" }, { extra: 1 }] as Array<
      Record<string, unknown>
    >) {
      expect((await createReport(key.id, range as { from_seq?: number })).status, JSON.stringify(range)).toBe(400);
    }
    expect((await createReport("0000000000000000")).status).toBe(404);
    for (const path of ["/reports/rpt_0000000000000000000000.json", "/reports/rpt_0000000000000000000000", "/reports/nope.json", "/reports/..%2Fx"]) {
      const res = await gatewayFetch(`${BASE}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });

  it("GET /reports/:id serves the verification page from the assets", async () => {
    const key = await loggedKey(1);
    const { id } = await report(key.id);
    const res = await gatewayFetch(`${BASE}/reports/${id}`);
    if (env.ASSETS) {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
      // The page itself, not the admin app's single-page fallback.
      expect(await res.text()).toContain("<title>KeyForge audit report</title>");
    } else {
      expect(res.status).toBe(404);
    }
  });
});

describe("GET /.well-known/keyforge/audit-keys", () => {
  it("publishes the active key, and keeps a rotated-out key that signed a checkpoint", async () => {
    const configured = await noteKeysFromSeed("test-signer", fromBase64(TEST_SECRETS.AUDIT_SIGNING_KEYS.split(":")[1]!));
    const key = await loggedKey(3);
    const before = await report(key.id);

    // Rotate this key's signer to a fresh key that the Worker's env does not list.
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const name = `rotated-${crypto.randomUUID().slice(0, 8)}`;
    const rotated = await noteKeysFromSeed(name, seed);
    await runInDurableObject(guardOf(key.id), (instance: KeyGuard) => {
      instance.auditEnv = { ...instance.auditEnv, AUDIT_SIGNING_KEYS: `${name}:${toBase64(seed)}` };
    });
    await grow(key, 2);
    const after = await report(key.id);
    expect(after.body.verifier_key).toBe(rotated.verifierKey);
    expect(after.body.previous?.checkpoint).toBe(before.body.checkpoint);

    const res = await gatewayFetch(`${BASE}/.well-known/keyforge/audit-keys`);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const keys = ((await res.json()) as { keys: Array<{ name: string; key_id: string; verifier_key: string; active: boolean; created_at: string | null }> })
      .keys;
    expect(keys.filter((k) => k.active)).toEqual([
      { name: "test-signer", key_id: configured.verifierKey.split("+")[1], verifier_key: configured.verifierKey, active: true, created_at: expect.any(String) },
    ]);
    expect(keys).toContainEqual({
      name,
      key_id: rotated.verifierKey.split("+")[1],
      verifier_key: rotated.verifierKey,
      active: false,
      created_at: expect.any(String),
    });
    // Reports signed before and after the rotation both verify against the published list...
    const published = keys.map((k) => k.verifier_key);
    expect((await verifyReport(before.body, published)).ok).toBe(true);
    expect((await verifyReport(after.body, published, { previousCheckpoint: before.body.checkpoint })).ok).toBe(true);
    // ...and not against the current key alone.
    expect((await verifyReport(after.body, [configured.verifierKey])).ok).toBe(false);
  });
});
