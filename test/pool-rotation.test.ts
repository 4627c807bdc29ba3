import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ProviderPool } from "../durable-objects/provider-pool";
import { admin, chat, createKey, mockUpstream, sdk } from "./support/gateway";

/**
 * Provider key pools end to end: a custom OpenAI-compatible provider backed by the mock upstream,
 * whose answers are scripted per provider key. Every plaintext key used here must never come back
 * out of KeyForge (responses, headers, logs, audit entries, D1).
 */

const PLAINTEXTS: string[] = [];
const seen: string[] = [];
let spies: Array<{ mock: { calls: unknown[][] }; mockRestore(): void }> = [];

beforeAll(() => {
  spies = [vi.spyOn(console, "error"), vi.spyOn(console, "warn"), vi.spyOn(console, "log")];
});

afterAll(async () => {
  const tables = ["provider_keys", "virtual_keys", "audit_reports", "usage_rollups", "providers"];
  const rows = await Promise.all(tables.map((t) => env.DB.prepare(`select * from ${t}`).all()));
  const logs = spies.flatMap((s) => s.mock.calls.map((args) => JSON.stringify(args)));
  const everything = [...seen, JSON.stringify(rows.map((r) => r.results)), ...logs].join("\n");
  for (const plaintext of PLAINTEXTS) expect(everything).not.toContain(plaintext);
  spies.forEach((s) => s.mockRestore());
});

async function record(res: Response): Promise<Response> {
  seen.push(await res.clone().text(), JSON.stringify([...res.headers]));
  return res;
}

async function provider(): Promise<string> {
  const name = `acme-${crypto.randomUUID().slice(0, 8)}`;
  const res = await record(
    await admin("/providers", { method: "POST", json: { name, type: "openai-compatible", base_url: `${mockUpstream.url()}/openai/v1` } }),
  );
  expect(res.status).toBe(201);
  return name;
}

async function addKey(providerName: string, scope: string): Promise<{ id: string; key: string }> {
  const key = `sk-pool-${scope}-${crypto.randomUUID().replace(/-/g, "")}`;
  PLAINTEXTS.push(key);
  const res = await record(await admin("/provider-keys", { method: "POST", json: { provider: providerName, key, scope } }));
  expect(res.status).toBe(201);
  return { id: ((await res.json()) as { id: string }).id, key };
}

async function statuses(providerName: string): Promise<Record<string, { status: string; cooldown_until: string | null }>> {
  const res = await record(await admin("/provider-keys"));
  const body = (await res.json()) as { data: Array<{ id: string; provider: string; status: string; cooldown_until: string | null }> };
  return Object.fromEntries(body.data.filter((k) => k.provider === providerName).map((k) => [k.id, k]));
}

const limit = (key: string, retryAfterSeconds: number) =>
  mockUpstream.script({
    key,
    status: 429,
    headers: { "retry-after": String(retryAfterSeconds) },
    body: { error: { message: "Rate limit reached for requests", type: "requests", param: null, code: "rate_limit_exceeded" } },
  });

describe("provider key pools", () => {
  it("3 keys of distinct scopes, 2 limited: 100 requests all succeed, the limited keys cool down, then recover", async () => {
    const name = await provider();
    const [a, b, c] = [await addKey(name, "org-a"), await addKey(name, "org-b"), await addKey(name, "org-c")];
    await limit(a!.key, 30);
    await limit(b!.key, 30);
    const { key } = await createKey();
    const body = { model: `${name}/gpt-4o-mini`, messages: [{ role: "user", content: "rotate me" }] };
    const statusesSeen: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const responses = await Promise.all(Array.from({ length: 10 }, () => chat(key, body).then(record)));
      statusesSeen.push(...responses.map((r) => r.status));
    }
    expect(statusesSeen.filter((s) => s !== 200)).toEqual([]);

    const now = Date.now();
    const state = await statuses(name);
    expect(state[a!.id]?.status).toBe("cooling_down");
    expect(state[b!.id]?.status).toBe("cooling_down");
    expect(state[c!.id]?.status).toBe("healthy");
    const until = Math.max(Date.parse(state[a!.id]!.cooldown_until!), Date.parse(state[b!.id]!.cooldown_until!));
    expect(until).toBeGreaterThan(now + 25_000);
    expect(until).toBeLessThanOrEqual(now + 31_000);

    // Each limited key was tried at most a few times (concurrent first batch), never after cooling.
    expect((await mockUpstream.requests(a!.key)).length).toBeLessThanOrEqual(10);
    expect((await mockUpstream.requests(c!.key)).length).toBeGreaterThanOrEqual(90);

    // After the reset time the keys are healthy again.
    await runInDurableObject(env.PROVIDER_POOL.getByName(name), (pool: ProviderPool) => {
      pool.now = () => until + 1;
    });
    const later = await statuses(name);
    expect(later[a!.id]?.status).toBe("healthy");
    expect(later[b!.id]?.status).toBe("healthy");
  });

  it("replays the same model and body on the next key, for buffered and streamed requests alike", async () => {
    const name = await provider();
    const first = await addKey(name, "s1");
    const second = await addKey(name, "s2");
    await limit(first.key, 20);
    const { key } = await createKey();
    const client = sdk(key);
    const stream = await client.chat.completions.create({
      model: `${name}/gpt-4o-mini`,
      stream: true,
      messages: [{ role: "user", content: "stream after a 429" }],
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("stream after a 429");
    const toFirst = await mockUpstream.requests(first.key);
    const toSecond = await mockUpstream.requests(second.key);
    expect(toFirst).toHaveLength(1);
    expect(toSecond).toHaveLength(1);
    expect(toSecond[0]!.body).toEqual(toFirst[0]!.body);
    expect(toSecond[0]!.body.model).toBe("gpt-4o-mini");
  });

  it("all keys limited → 429 provider_rate_limited with Retry-After = earliest recovery; same-scope keys cool together", async () => {
    const name = await provider();
    const x1 = await addKey(name, "org-x");
    const x2 = await addKey(name, "org-x");
    const y = await addKey(name, "org-y");
    for (const k of [x1, x2]) await limit(k.key, 40);
    await limit(y.key, 25);
    const { key } = await createKey();
    const res = await record(await chat(key, { model: `${name}/gpt-4o-mini`, messages: [{ role: "user", content: "all limited" }] }));
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("provider_rate_limited");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(24);
    expect(retryAfter).toBeLessThanOrEqual(25);
    // One 429 from the org-x key cooled its sibling too: only one of the two was ever called.
    const calls = (await mockUpstream.requests(x1.key)).length + (await mockUpstream.requests(x2.key)).length;
    expect(calls).toBe(1);
    const state = await statuses(name);
    expect(state[x1.id]?.status).toBe("cooling_down");
    expect(state[x2.id]?.status).toBe("cooling_down");
  });

  it("a key the provider refuses is disabled and skipped; the agent still gets an answer", async () => {
    const name = await provider();
    const bad = await addKey(name, "p1");
    const good = await addKey(name, "p2");
    await mockUpstream.script({
      key: bad.key,
      status: 401,
      body: { error: { message: "Incorrect API key provided", type: "invalid_request_error", param: null, code: "invalid_api_key" } },
    });
    const { key } = await createKey();
    for (let i = 0; i < 3; i++) {
      const res = await record(await chat(key, { model: `${name}/gpt-4o-mini`, messages: [{ role: "user", content: "hi" }] }));
      expect(res.status).toBe(200);
    }
    expect((await statuses(name))[bad.id]?.status).toBe("disabled");
    expect((await mockUpstream.requests(bad.key)).length).toBe(1);
    expect((await mockUpstream.requests(good.key)).length).toBe(3);
  });
});
