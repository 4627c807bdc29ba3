import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEFAULT_COOLDOWN_MS } from "../src/pool/cooldown";
import { testNow } from "./support/clock";
import { candidateKeys, reportAuthFailure, reportRateLimited } from "../src/pool/key-pool";
import type { PoolSnapshot } from "../src/pool/types";
import { Vault } from "../src/vault/vault";

/**
 * Tests share D1 and DO storage within this file, so each uses its own provider name, and row
 * ids (a global primary key) are stored as `<provider>.<short id>`; `byId` maps them back.
 */
let seq = 0;
let createdSeq = 0;
const uniqueProvider = (label: string) => `${label}-${++seq}`;
const rowId = (provider: string, short: string) => `${provider}.${short}`;

interface SeedKey {
  id: string;
  scope?: string | null;
  secret?: string;
}

async function insertKeys(provider: string, keys: SeedKey[]): Promise<void> {
  const vault = Vault.fromEnv(env);
  for (const k of keys) {
    const id = rowId(provider, k.id);
    const secret = k.secret ?? `sk-${provider}-${k.id}-secret`;
    const ciphertext = await vault.encrypt(secret, { provider, id });
    await env.DB.prepare("INSERT INTO provider_keys (id, provider, name, scope, ciphertext, last4, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(id, provider, `key ${k.id}`, k.scope ?? null, ciphertext, secret.slice(-4), 1_000 + ++createdSeq)
      .run();
  }
}

/** A pool whose clock the test moves by hand (no sleeps): `clock.t` is the DO's `now()`. */
async function poolWithClock(provider: string) {
  const stub = env.PROVIDER_POOL.getByName(provider);
  const clock = { t: testNow() };
  await runInDurableObject(stub, (instance) => {
    instance.now = () => clock.t;
  });
  return { stub, clock };
}

const short = (s: PoolSnapshot, id: string) => id.slice(s.provider.length + 1);
const byId = (s: PoolSnapshot) => Object.fromEntries(s.keys.map((k) => [short(s, k.id), { status: k.status, cooldownUntil: k.cooldownUntil }]));

describe("ProviderPool DO", () => {
  it("cools down every key of the scope together; another scope and null-scope keys stay healthy", async () => {
    const provider = uniqueProvider("scopes");
    await insertKeys(provider, [{ id: "a1", scope: "org-a" }, { id: "a2", scope: "org-a" }, { id: "b1", scope: "org-b" }, { id: "n1" }, { id: "n2" }]);
    const { stub, clock } = await poolWithClock(provider);

    const after = await stub.reportRateLimited(rowId(provider, "a1"), 30_000);
    expect(byId(after)).toEqual({
      a1: { status: "cooling_down", cooldownUntil: clock.t + 30_000 },
      a2: { status: "cooling_down", cooldownUntil: clock.t + 30_000 },
      b1: { status: "healthy", cooldownUntil: null },
      n1: { status: "healthy", cooldownUntil: null },
      n2: { status: "healthy", cooldownUntil: null },
    });

    // A key without a scope is its own scope: other unscoped keys are not cooled with it.
    const unscoped = await stub.reportRateLimited(rowId(provider, "n1"), 5_000);
    expect(byId(unscoped).n1).toEqual({ status: "cooling_down", cooldownUntil: clock.t + 5_000 });
    expect(byId(unscoped).n2).toEqual({ status: "healthy", cooldownUntil: null });
  });

  it("defaults the cooldown to 60 s when no retry-after was given, and clamps silly hints", async () => {
    const provider = uniqueProvider("default");
    await insertKeys(provider, [{ id: "k1" }, { id: "k2" }]);
    const { stub, clock } = await poolWithClock(provider);
    expect(DEFAULT_COOLDOWN_MS).toBe(60_000);
    expect(byId(await stub.reportRateLimited(rowId(provider, "k1"), null)).k1!.cooldownUntil).toBe(clock.t + 60_000);
    // retry-after: 0 must not mean "hammer it again at once".
    expect(byId(await stub.reportRateLimited(rowId(provider, "k2"), 0)).k2!.cooldownUntil).toBe(clock.t + 1_000);
  });

  it("never shortens a later cooldown, but extends an earlier one", async () => {
    const provider = uniqueProvider("shorten");
    await insertKeys(provider, [
      { id: "k1", scope: "s" },
      { id: "k2", scope: "s" },
    ]);
    const { stub, clock } = await poolWithClock(provider);
    await stub.reportRateLimited(rowId(provider, "k1"), 120_000);
    expect(byId(await stub.reportRateLimited(rowId(provider, "k2"), 10_000)).k1!.cooldownUntil).toBe(clock.t + 120_000);
    expect(byId(await stub.reportRateLimited(rowId(provider, "k1"), 300_000)).k2!.cooldownUntil).toBe(clock.t + 300_000);
  });

  it("turns a cooling key healthy by time alone", async () => {
    const provider = uniqueProvider("recover");
    await insertKeys(provider, [{ id: "k1" }]);
    const { stub, clock } = await poolWithClock(provider);
    const start = clock.t;
    await stub.reportRateLimited(rowId(provider, "k1"), 30_000);
    clock.t = start + 29_999;
    expect(byId(await stub.snapshot()).k1).toEqual({ status: "cooling_down", cooldownUntil: start + 30_000 });
    clock.t = start + 30_000;
    expect(byId(await stub.snapshot()).k1).toEqual({ status: "healthy", cooldownUntil: null });
  });

  it("keeps a key that failed auth disabled, through time and 429s, until it is enabled", async () => {
    const provider = uniqueProvider("auth");
    await insertKeys(provider, [{ id: "k1" }, { id: "k2" }]);
    const { stub, clock } = await poolWithClock(provider);
    const disabled = await stub.disable(rowId(provider, "k1"));
    expect(byId(disabled)).toEqual({ k1: { status: "disabled", cooldownUntil: null }, k2: { status: "healthy", cooldownUntil: null } });
    clock.t += 7 * 24 * 3_600_000;
    await stub.reportRateLimited(rowId(provider, "k1"), 1_000);
    expect(byId(await stub.snapshot()).k1!.status).toBe("disabled");
    expect(byId(await stub.enable(rowId(provider, "k1"))).k1).toEqual({ status: "healthy", cooldownUntil: null });
  });

  it("tracks the environment key of a built-in provider the same way", async () => {
    const stub = env.PROVIDER_POOL.getByName("anthropic");
    const [key] = (await stub.snapshot()).keys;
    expect(key).toMatchObject({ id: "env-anthropic", scope: "env", source: "env", ciphertext: null, status: "healthy" });
    expect(key!.last4).toBe(env.ANTHROPIC_API_KEY!.slice(-4));
    expect((await stub.disable("env-anthropic")).keys[0]!.status).toBe("disabled");
    expect((await stub.enable("env-anthropic")).keys[0]!.status).toBe("healthy");
  });

  it("reflects D1 after reload: added and deleted keys, version bumped, stale health forgotten", async () => {
    const provider = uniqueProvider("reload");
    await insertKeys(provider, [{ id: "k1" }, { id: "k2" }]);
    const { stub } = await poolWithClock(provider);
    const first = await stub.snapshot();
    expect(first.provider).toBe(provider);
    expect(first.keys.map((k) => [short(first, k.id), k.source, k.last4])).toEqual([
      ["k1", "vault", "cret"],
      ["k2", "vault", "cret"],
    ]);
    expect(first.keys[0]!.ciphertext).toMatch(/^v1:/);

    await insertKeys(provider, [{ id: "k3" }]);
    expect((await stub.snapshot()).keys).toHaveLength(2); // the DO serves its loaded copy until told
    const reloaded = await stub.reload();
    expect(reloaded.keys.map((k) => short(reloaded, k.id))).toEqual(["k1", "k2", "k3"]);
    expect(reloaded.version).toBeGreaterThan(first.version);

    await stub.disable(rowId(provider, "k1"));
    await env.DB.prepare("DELETE FROM provider_keys WHERE id = ?").bind(rowId(provider, "k1")).run();
    expect(Object.keys(byId(await stub.reload()))).toEqual(["k2", "k3"]);
    // A key re-created under the same id starts healthy: the old health row was dropped.
    await insertKeys(provider, [{ id: "k1" }]);
    expect(byId(await stub.reload()).k1!.status).toBe("healthy");
  });

  it("re-reads D1 by itself every few minutes, so a missed reload heals", async () => {
    const provider = uniqueProvider("refresh");
    await insertKeys(provider, [{ id: "k1" }]);
    const { stub, clock } = await poolWithClock(provider);
    await stub.snapshot();
    await insertKeys(provider, [{ id: "k2" }]);
    clock.t += 4 * 60_000;
    expect(Object.keys(byId(await stub.snapshot()))).toEqual(["k1"]);
    clock.t += 60_000;
    expect(Object.keys(byId(await stub.snapshot()))).toEqual(["k1", "k2"]);
  });

  it("ignores reports for unknown keys", async () => {
    const provider = uniqueProvider("unknown");
    await insertKeys(provider, [{ id: "k1" }]);
    const { stub } = await poolWithClock(provider);
    const before = await stub.snapshot();
    const after = await stub.reportRateLimited(rowId(provider, "nope"), 10_000);
    expect(after.keys).toEqual(before.keys);
    expect(after.version).toBe(before.version);
  });
});

describe("Worker-side key pool", () => {
  it("serves healthy keys decrypted, in round-robin order", async () => {
    const provider = uniqueProvider("rr");
    await insertKeys(provider, [{ id: "k1" }, { id: "k2" }, { id: "k3" }]);
    const first = [...(await candidateKeys(env, provider))];
    expect(first.map((c) => c.apiKey).sort()).toEqual(["k1", "k2", "k3"].map((id) => `sk-${provider}-${id}-secret`));
    const second = [...(await candidateKeys(env, provider))];
    expect(second.map((c) => c.id)).not.toEqual(first.map((c) => c.id));
    expect(new Set(second.map((c) => c.id))).toEqual(new Set(first.map((c) => c.id)));
  });

  it("skips the rest of a cooled scope mid-rotation and answers 429 with the earliest recovery", async () => {
    const provider = uniqueProvider("rotate");
    await insertKeys(provider, [
      { id: "a1", scope: "org-a" },
      { id: "a2", scope: "org-a" },
      { id: "b1", scope: "org-b" },
    ]);
    const rotation = await candidateKeys(env, provider);
    const tried: string[] = [];
    for (const key of rotation) {
      tried.push(key.id);
      await reportRateLimited(env, provider, key.id, key.scope === "org-a" ? 30_000 : 90_000);
    }
    // Whichever key came first, one 429 per scope: the second org-a key is never tried.
    expect(tried.filter((id) => id.includes(".a"))).toHaveLength(1);
    expect(tried).toContain(rowId(provider, "b1"));
    const err = rotation.exhaustedError();
    expect(err.code).toBe("provider_rate_limited");
    expect(err.retryAfterSeconds).toBe(30);
    expect([...(await candidateKeys(env, provider))]).toEqual([]);
  });

  it("drops a key that failed auth from the very next pick", async () => {
    const provider = uniqueProvider("authpick");
    await insertKeys(provider, [{ id: "k1" }, { id: "k2" }]);
    await candidateKeys(env, provider);
    await reportAuthFailure(env, provider, rowId(provider, "k1"));
    expect([...(await candidateKeys(env, provider))].map((c) => c.id)).toEqual([rowId(provider, "k2")]);
    await reportAuthFailure(env, provider, rowId(provider, "k2"));
    const none = await candidateKeys(env, provider);
    expect(none.configured).toBe(true);
    expect(none.earliestRecoveryMs()).toBeNull();
    expect(none.exhaustedError().code).toBe("upstream_error");
  });

  it("uses the cached snapshot within the TTL: no DO round trip on the happy path", async () => {
    const provider = uniqueProvider("cache");
    await insertKeys(provider, [{ id: "k1" }, { id: "k2" }]);
    await candidateKeys(env, provider);
    // Changed behind the isolate's back (straight on the DO): not visible until the TTL passes.
    await env.PROVIDER_POOL.getByName(provider).disable(rowId(provider, "k1"));
    expect([...(await candidateKeys(env, provider))].map((c) => c.id).sort()).toEqual([rowId(provider, "k1"), rowId(provider, "k2")]);
  });

  it("skips a key whose ciphertext belongs to another row, even when that row's plaintext is cached", async () => {
    const provider = uniqueProvider("moved");
    await insertKeys(provider, [{ id: "k1" }, { id: "k2" }]);
    await env.DB.prepare("UPDATE provider_keys SET ciphertext = (SELECT ciphertext FROM provider_keys WHERE id = ?) WHERE id = ?")
      .bind(rowId(provider, "k1"), rowId(provider, "k2"))
      .run();
    const keys = [...(await candidateKeys(env, provider))];
    expect(keys.map((c) => [c.id, c.apiKey])).toEqual([[rowId(provider, "k1"), `sk-${provider}-k1-secret`]]);
  });

  it("says when a provider has no key at all", async () => {
    const empty = await candidateKeys(env, uniqueProvider("empty"));
    expect([...empty]).toEqual([]);
    expect(empty.configured).toBe(false);
    expect(empty.exhaustedError().code).toBe("upstream_error");
  });

  it("serves the environment key of a built-in provider", async () => {
    const keys = [...(await candidateKeys(env, "gemini"))];
    expect(keys).toEqual([{ id: "env-gemini", name: "GEMINI_API_KEY", scope: "env", last4: env.GEMINI_API_KEY!.slice(-4), apiKey: env.GEMINI_API_KEY }]);
  });
});
