import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, chat, createKey } from "./support/gateway";

describe("admin: virtual keys", () => {
  it("creates a key, shows the full token once and stores only a keyed hash", async () => {
    const created = await createKey({ name: "agent-1", models: ["mock/*"], metadata: { team: "a" } });
    expect(created.key).toMatch(/^vk_[0-9A-Za-z]{54}$/);
    expect(created.display).toBe(`vk_${created.id}…${created.key.slice(-10, -6)}`);
    expect(created.status).toBe("active");
    expect(created.usage).toMatchObject({ tokens: 0, spend_usd: 0, requests: 0 });

    const secret = created.key.slice(3 + 16, 3 + 16 + 32);
    const rows = await env.DB.prepare("select * from virtual_keys").all();
    const dump = JSON.stringify(rows.results);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(created.key);

    const one = await admin(`/keys/${created.id}`);
    expect(one.status).toBe(200);
    const body = (await one.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty("key");
    expect(JSON.stringify(body)).not.toContain(secret);
    expect(body.metadata).toEqual({ team: "a" });

    const list = (await (await admin("/keys")).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((k) => k.id)).toContain(created.id);
  });

  it("revokes a key: the very next request is refused with key_revoked", async () => {
    const { id, key } = await createKey();
    const ok = await chat(key, { model: "mock/echo", messages: [{ role: "user", content: "hi" }] });
    expect(ok.status).toBe(200);

    const revoked = await admin(`/keys/${id}/revoke`, { method: "POST" });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { status: string }).status).toBe("revoked");

    const denied = await chat(key, { model: "mock/echo", messages: [{ role: "user", content: "hi" }] });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({
      error: { message: "This API key has been revoked.", type: "authentication_error", param: null, code: "key_revoked" },
    });
  });

  it("applies a policy change on the very next request", async () => {
    const { id, key } = await createKey();
    expect((await chat(key, { model: "mock/echo", messages: [{ role: "user", content: "a" }] })).status).toBe(200);
    const patched = await admin(`/keys/${id}`, { method: "PATCH", json: { models: ["gpt-*"] } });
    expect(patched.status).toBe(200);
    const denied = await chat(key, { model: "mock/echo", messages: [{ role: "user", content: "a" }] });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("model_not_allowed");
  });

  it.each([
    [{}, "name"],
    [{ name: "" }, "name"],
    [{ name: "k", monthly_token_quota: -1 }, "monthly_token_quota"],
    [{ name: "k", spend_cap_usd: -0.5 }, "spend_cap_usd"],
    [{ name: "k", rpm: 0 }, "rpm"],
    [{ name: "k", tpm: 1.5 }, "tpm"],
    [{ name: "k", models: ["gpt-**"] }, "models[0]"],
    [{ name: "k", models: ["bad model"] }, "models[0]"],
    [{ name: "k", expires_at: "2001-01-01T00:00:00Z" }, "expires_at"],
    [{ name: "k", expires_at: "tomorrow" }, "expires_at"],
    [{ name: "k", expires_at: Number.MAX_SAFE_INTEGER }, "expires_at"],
    [{ name: "k", unknown_field: 1 }, null],
  ])("rejects invalid input %j with a 400 naming the field", async (input, field) => {
    const res = await admin("/keys", { method: "POST", json: input });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.request_id).toBe(res.headers.get("x-request-id"));
    if (field) expect(body.error.message).toContain(field);
  });

  it("404s an unknown key id and a malformed one", async () => {
    expect((await admin("/keys/AAAAAAAAAAAAAAAA")).status).toBe(404);
    expect((await admin("/keys/not-an-id")).status).toBe(404);
  });

  it.each([
    ["no token", {}],
    ["wrong token", { authorization: "Bearer nope" }],
    ["token in the wrong header", { "x-api-key": "test-admin-token-0123456789abcdef" }],
    ["basic auth", { authorization: "Basic dGVzdDp0ZXN0" }],
  ])("refuses admin calls with %s", async (_label, headers) => {
    const res = await admin("/keys", { headers: { authorization: "", ...headers } });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; request_id: string } };
    expect(body.error.code).toBe("unauthorized");
  });

  it("refuses a virtual key used as the admin token", async () => {
    const { key } = await createKey();
    const res = await admin("/keys", { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(401);
  });
});

describe("admin: Durable Object placement", () => {
  const exists = async (keyId: string) => {
    const wanted = env.KEY_GUARD.idFromName(keyId);
    return (await listDurableObjectIds(env.KEY_GUARD)).some((id) => id.equals(wanted));
  };

  it("the admin API never creates a key's KeyGuard; the first request does, with the latest policy", async () => {
    const { id, key } = await createKey({ name: "placement" });
    expect((await admin(`/keys/${id}`)).status).toBe(200);
    expect((await admin("/keys")).status).toBe(200);
    expect((await admin(`/keys/${id}/audit`)).status).toBe(200);
    expect(await (await admin(`/keys/${id}/audit/verify`, { method: "POST" })).json()).toMatchObject({ valid: true, entries: 0 });
    expect((await admin(`/keys/${id}`, { method: "PATCH", json: { models: ["gpt-*"] } })).status).toBe(200);
    expect(await exists(id)).toBe(false);

    // The first request creates the object, which reads the policy changed above.
    const denied = await chat(key, { model: "mock/echo", messages: [{ role: "user", content: "hi" }] });
    expect(denied.status).toBe(403);
    expect(await exists(id)).toBe(true);
    const row = await env.DB.prepare("select activated_at from virtual_keys where id = ?").bind(id).first<{ activated_at: number | null }>();
    expect(row?.activated_at).toBeGreaterThan(0);

    // From now on changes are pushed to the object and usage comes from it.
    await admin(`/keys/${id}`, { method: "PATCH", json: { models: [] } });
    expect((await chat(key, { model: "mock/echo", messages: [{ role: "user", content: "hi" }] })).status).toBe(200);
    await admin(`/keys/${id}/revoke`, { method: "POST" });
    expect((await chat(key, { model: "mock/echo", messages: [{ role: "user", content: "hi" }] })).status).toBe(401);
  });

  it("a key revoked before its first use is refused on that first use", async () => {
    const { id, key } = await createKey();
    await admin(`/keys/${id}/revoke`, { method: "POST" });
    expect(await exists(id)).toBe(false);
    const res = await chat(key, { model: "mock/echo", messages: [{ role: "user", content: "hi" }] });
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("key_revoked");
  });
});
