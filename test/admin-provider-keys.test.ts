import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import { toBase64 } from "../src/lib/bytes";
import { candidateKeys } from "../src/pool/key-pool";
import { Vault } from "../src/vault/vault";
import { admin, BASE, gatewayFetch } from "./support/gateway";
import { TEST_SECRETS } from "./support/test-secrets";

/** Every plaintext key this file hands to the API; none may ever come back out. */
const PLAINTEXTS: string[] = [];
const seen: string[] = [];
let logSpies: Array<{ mock: { calls: unknown[][] }; mockRestore(): void }> = [];

const secret = (label: string) => {
  const key = `sk-proj-${label}-${crypto.randomUUID().replace(/-/g, "")}`;
  PLAINTEXTS.push(key);
  return key;
};

async function call(path: string, init: RequestInit & { json?: unknown } = {}) {
  const res = await admin(path, init);
  const text = await res.text();
  seen.push(text, JSON.stringify([...res.headers]));
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> & { data?: Array<Record<string, unknown>> } };
}

async function addKey(input: Record<string, unknown>) {
  const res = await call("/provider-keys", { method: "POST", json: input });
  expect(res.status).toBe(201);
  return res.body;
}

beforeAll(() => {
  logSpies = [vi.spyOn(console, "error"), vi.spyOn(console, "warn"), vi.spyOn(console, "log")];
});

afterAll(async () => {
  // The leak check: no response, no header, no log line and no D1 column holds a plaintext key.
  const rows = await env.DB.prepare("select * from provider_keys").all();
  const logs = logSpies.flatMap((spy) => spy.mock.calls.map((args: unknown[]) => JSON.stringify(args)));
  const everything = [...seen, JSON.stringify(rows.results), ...logs].join("\n");
  expect(PLAINTEXTS.length).toBeGreaterThan(3);
  for (const plaintext of PLAINTEXTS) expect(everything).not.toContain(plaintext);
  logSpies.forEach((spy) => spy.mockRestore());
});

describe("admin: provider keys", () => {
  it("adds a key: 201 with last4, stored only as vault ciphertext bound to the row", async () => {
    const key = secret("create");
    const created = await addKey({ provider: "openai", key, name: "prod org", scope: "org-1" });
    expect(created).toMatchObject({
      object: "provider_key",
      provider: "openai",
      name: "prod org",
      scope: "org-1",
      last4: key.slice(-4),
      source: "vault",
      status: "healthy",
      cooldown_until: null,
    });
    expect(created.id).toMatch(/^pk_[0-9a-f]{24}$/);
    expect(Date.parse(created.created_at as string)).not.toBeNaN();
    expect(created).not.toHaveProperty("key");

    const row = await env.DB.prepare("select * from provider_keys where id = ?").bind(created.id).first<Record<string, unknown>>();
    expect(row!.ciphertext).toMatch(/^v1:/);
    const vault = Vault.fromEnv(env);
    expect(await vault.decrypt(row!.ciphertext as string, { provider: "openai", id: created.id as string })).toBe(key);
    // The proxy's pool serves it at once (the admin call reloaded the pool and this isolate's cache).
    expect([...(await candidateKeys(env, "openai"))].find((c) => c.id === created.id)?.apiKey).toBe(key);
  });

  it("lists vault and environment keys with live pool status", async () => {
    const a = await addKey({ provider: "anthropic", key: secret("list-a"), scope: "org-x" });
    const b = await addKey({ provider: "anthropic", key: secret("list-b"), scope: "org-x" });
    const pool = env.PROVIDER_POOL.getByName("anthropic");
    await pool.reportRateLimited(a.id as string, 45_000);

    const list = await call("/provider-keys");
    expect(list.status).toBe(200);
    const byId = new Map(list.body.data!.map((k) => [k.id, k]));
    for (const id of [a.id, b.id]) {
      expect(byId.get(id)).toMatchObject({ status: "cooling_down", provider: "anthropic", scope: "org-x" });
      expect(Date.parse(byId.get(id)!.cooldown_until as string)).toBeGreaterThan(Date.now());
    }
    expect(byId.get("env-openai")).toMatchObject({ source: "env", scope: "env", provider: "openai", last4: env.OPENAI_API_KEY!.slice(-4) });
    expect(byId.get("env-gemini")).toMatchObject({ source: "env", status: "healthy", created_at: null });
    for (const k of list.body.data!) expect(Object.keys(k).sort()).not.toContain("ciphertext");
  });

  it("re-enables a disabled key, vault or environment", async () => {
    const k = await addKey({ provider: "gemini", key: secret("enable") });
    await env.PROVIDER_POOL.getByName("gemini").disable(k.id as string);
    await env.PROVIDER_POOL.getByName("gemini").disable("env-gemini");
    const listed = await call("/provider-keys");
    expect(listed.body.data!.find((x) => x.id === k.id)?.status).toBe("disabled");

    const enabled = await call(`/provider-keys/${k.id}/enable`, { method: "POST" });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ id: k.id, status: "healthy", cooldown_until: null });
    const envEnabled = await call("/provider-keys/env-gemini/enable", { method: "POST" });
    expect(envEnabled.body).toMatchObject({ id: "env-gemini", source: "env", status: "healthy" });
    expect((await call("/provider-keys/pk_000000000000000000000000/enable", { method: "POST" })).status).toBe(404);
  });

  it("an admin disables a key: it is skipped until enabled again", async () => {
    const k = await addKey({ provider: "anthropic", key: secret("disable") });
    const disabled = await call(`/provider-keys/${k.id}/disable`, { method: "POST" });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ id: k.id, status: "disabled" });
    expect([...(await candidateKeys(env, "anthropic"))].map((c) => c.id)).not.toContain(k.id);
    expect((await call(`/provider-keys/${k.id}/enable`, { method: "POST" })).body).toMatchObject({ status: "healthy" });
    expect([...(await candidateKeys(env, "anthropic"))].map((c) => c.id)).toContain(k.id);
    expect((await call("/provider-keys/pk_000000000000000000000000/disable", { method: "POST" })).status).toBe(404);
  });

  it("deletes a key from D1 and from the pool", async () => {
    const k = await addKey({ provider: "google", key: secret("delete") });
    expect(k.provider).toBe("gemini"); // `google` is Gemini's alias; the pool is one
    const deleted = await call(`/provider-keys/${k.id}`, { method: "DELETE" });
    expect(deleted).toEqual({ status: 200, body: { id: k.id, object: "provider_key", deleted: true } });
    expect(await env.DB.prepare("select id from provider_keys where id = ?").bind(k.id).first()).toBeNull();
    expect((await env.PROVIDER_POOL.getByName("gemini").snapshot()).keys.map((x) => x.id)).not.toContain(k.id);
    expect((await call("/provider-keys")).body.data!.map((x) => x.id)).not.toContain(k.id);
    expect((await call(`/provider-keys/${k.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await call("/provider-keys/env-openai", { method: "DELETE" })).status).toBe(400);
  });

  it("accepts keys for a custom provider, and only for known providers", async () => {
    const created = await call("/providers", {
      method: "POST",
      json: { name: "acme", type: "openai-compatible", base_url: "https://llm.acme.example.com/v1/" },
    });
    expect(created.status).toBe(201);
    expect((await addKey({ provider: "acme", key: secret("custom") })).provider).toBe("acme");
    for (const provider of ["nope", "mock", "OpenAI"]) {
      const res = await call("/provider-keys", { method: "POST", json: { provider, key: secret("unknown") } });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: "invalid_request" });
    }
  });

  it.each([
    ["missing provider", { key: "sk-validation-0123456789" }],
    ["missing key", { provider: "openai" }],
    ["key too short", { provider: "openai", key: "sk-1" }],
    ["key with a space", { provider: "openai", key: "sk-has space-0123456789" }],
    ["empty name", { provider: "openai", key: "sk-validation-0123456789", name: "  " }],
    ["scope not a string", { provider: "openai", key: "sk-validation-0123456789", scope: 7 }],
    ["unknown field", { provider: "openai", key: "sk-validation-0123456789", extra: true }],
  ])("400 for %s, without echoing the key", async (_label, json: Record<string, unknown>) => {
    if (typeof json.key === "string") PLAINTEXTS.push(json.key);
    const res = await call("/provider-keys", { method: "POST", json });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_request", request_id: expect.stringMatching(/^req_/) });
  });

  it("400 for a body that is not JSON", async () => {
    const res = await call("/provider-keys", { method: "POST", body: "{nope", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
  });
});

describe("admin: providers", () => {
  it("adds a custom provider with a normalised base URL and lists it with the built-ins", async () => {
    const res = await call("/providers", { method: "POST", json: { name: "local-llm", type: "openai-compatible", base_url: "http://127.0.0.1:11434/v1/" } });
    expect(res.status).toBe(201); // loopback http is allowed here because the tests set ALLOW_INSECURE_UPSTREAMS=on
    expect(res.body).toMatchObject({ name: "local-llm", type: "openai-compatible", base_url: "http://127.0.0.1:11434/v1", builtin: false });
    const list = await call("/providers");
    expect(list.body.data!.map((p) => p.name)).toEqual(expect.arrayContaining(["openai", "anthropic", "gemini", "local-llm"]));
    const dup = await call("/providers", { method: "POST", json: { name: "local-llm", type: "openai-compatible", base_url: "https://x.example.com" } });
    expect(dup.status).toBe(409);
  });

  it.each([
    [{ name: "openai", type: "openai-compatible", base_url: "https://api.example.com" }, "name"],
    [{ name: "google", type: "openai-compatible", base_url: "https://api.example.com" }, "name"],
    [{ name: "Bad_Name", type: "openai-compatible", base_url: "https://api.example.com" }, "name"],
    [{ name: "x".repeat(33), type: "openai-compatible", base_url: "https://api.example.com" }, "name"],
    [{ name: "ok", type: "anthropic", base_url: "https://api.example.com" }, "type"],
    [{ name: "ok", type: "openai-compatible", base_url: "https://169.254.169.254/v1" }, "base_url"],
    [{ name: "ok", type: "openai-compatible", base_url: "https://user:pw@api.example.com" }, "base_url"],
    [{ name: "ok", type: "openai-compatible", base_url: "https://metadata.google.internal" }, "base_url"],
    [{ name: "ok", type: "openai-compatible", base_url: "http://10.0.0.7:8000/v1" }, "base_url"],
    [{ name: "ok", type: "openai-compatible", base_url: "https://api.example.com/v1?key=x" }, "base_url"],
  ])("400 for %j", async (json, param) => {
    const res = await call("/providers", { method: "POST", json });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_request" });
    expect(res.body.error).toHaveProperty("message", expect.stringContaining(param));
  });
});

describe("admin: auth", () => {
  it.each([
    ["GET", "/provider-keys"],
    ["POST", "/provider-keys"],
    ["DELETE", "/provider-keys/pk_x"],
    ["POST", "/provider-keys/pk_x/enable"],
    ["POST", "/provider-keys/pk_x/disable"],
    ["GET", "/providers"],
    ["POST", "/providers"],
    ["POST", "/vault/rewrap"],
  ])("401 for %s %s without or with a wrong admin token", async (method, path) => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: "Bearer wrong-token" }, { authorization: TEST_SECRETS.ADMIN_TOKEN }];
    for (const headers of attempts) {
      const res = await gatewayFetch(`${BASE}/admin/v1${path}`, { method, headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
  });
});

describe("admin: vault rewrap (KEK rotation)", () => {
  const V1 = TEST_SECRETS.VAULT_KEKS; // "v1:<base64>"
  const V2 = `v2:${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;

  /** The app with a different VAULT_KEKS, as after `wrangler secret put VAULT_KEKS`. */
  async function withKeks(keks: string, path: string, init: RequestInit = {}) {
    const ctx = createExecutionContext();
    const headers = { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`, ...init.headers };
    const res = await app.fetch(new Request(`${BASE}/admin/v1${path}`, { ...init, headers }), { ...env, VAULT_KEKS: keks }, ctx);
    await waitOnExecutionContext(ctx);
    const text = await res.text();
    seen.push(text);
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  }

  it("moves every row to the active KEK, keeps every key decryptable, and is idempotent", async () => {
    const total = (await env.DB.prepare("select count(*) as n from provider_keys").first<{ n: number }>())!.n;
    expect(total).toBeGreaterThan(2);
    const noop = await withKeks(V1, "/vault/rewrap", { method: "POST" });
    expect(noop.body).toMatchObject({ active_version: "v1", total, rewrapped: 0, unchanged: total, failed: [], remaining_by_version: { v1: total } });

    const rotated = await withKeks(`${V1},${V2}`, "/vault/rewrap", { method: "POST" });
    expect(rotated.body).toMatchObject({ active_version: "v2", rewrapped: total, failed: [], remaining_by_version: { v2: total } });
    const again = await withKeks(`${V1},${V2}`, "/vault/rewrap", { method: "POST" });
    expect(again.body).toMatchObject({ rewrapped: 0, unchanged: total });

    // With v1 removed every key still decrypts.
    const rows = (await env.DB.prepare("select id, provider, ciphertext from provider_keys").all<{ id: string; provider: string; ciphertext: string }>())
      .results;
    const onlyV2 = Vault.fromEnv({ VAULT_KEKS: V2 });
    const plain = await Promise.all(rows.map((r) => onlyV2.decrypt(r.ciphertext, r)));
    for (const p of plain) expect(PLAINTEXTS).toContain(p);

    // And the environment that only knows v1 reports those rows as failed, by id and reason only.
    const stale = await withKeks(V1, "/vault/rewrap", { method: "POST" });
    expect((stale.body.failed as unknown[]).length).toBe(total);
    expect(stale.body.failed).toContainEqual({ id: rows[0]!.id, provider: rows[0]!.provider, reason: "unknown_version" });

    // Rotate back so the file leaves D1 under the test KEK.
    const back = await withKeks(`${V2},${V1}`, "/vault/rewrap", { method: "POST" });
    expect(back.body).toMatchObject({ active_version: "v1", rewrapped: total, remaining_by_version: { v1: total } });
  });
});
