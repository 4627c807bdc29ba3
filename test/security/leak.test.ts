import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { direct } from "../support/fuzz";
import { BASE, gatewayFetch, mockUpstream } from "../support/gateway";
import { agentBody, fillPath, label, matches, publicRoutes, adminRoutes, agentRoutes, type RouteInfo } from "../support/routes";
import { TEST_SECRETS } from "../support/test-secrets";
import { dumpD1, dumpDurableObject } from "./storage-dump";

/**
 * The vault leak test, on every route and error path: provider keys in the vault and in the
 * environment, then every route of `app.routes` (success and error), chat on every provider
 * (buffered and streamed), 429 rotation, a provider refusing a key, upstream 400/500/malformed/
 * redirect/timeout answers that echo the key, agent-side errors. No plaintext provider key and no
 * admin token may appear in any response body or header, console line, KeyGuard or ProviderPool
 * storage (audit entries included), or D1 column.
 */

const SECRETS: string[] = [env.OPENAI_API_KEY!, env.ANTHROPIC_API_KEY!, env.GEMINI_API_KEY!, TEST_SECRETS.ADMIN_TOKEN];
const ADMIN = `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`;
const ROUTES: RouteInfo[] = [...adminRoutes(), ...agentRoutes(), ...publicRoutes()];
const seen: string[] = [];
const statuses: number[] = [];
const exercised = new Set<string>();
const vkIds = new Set<string>();
let spies: Array<{ mock: { calls: unknown[][] }; mockRestore(): void }> = [];

interface Sent {
  status: number;
  text: string;
}

/** One request through the Worker's fetch (or app.fetch with a modified env); everything it returns is kept. */
async function send(
  method: string,
  path: string,
  init: { auth?: string | null; json?: unknown; raw?: string; env?: Partial<Cloudflare.Env> } = {},
): Promise<Sent> {
  const headers = new Headers({ "content-type": "application/json" });
  const auth = init.auth === undefined ? ADMIN : init.auth;
  if (auth !== null) headers.set("authorization", auth);
  const body = init.raw ?? (init.json === undefined ? null : JSON.stringify(init.json));
  const request = new Request(`${BASE}${path}`, { method, headers, body });
  const { res, text } = init.env ? await direct(request, init.env) : await gatewayFetch(request).then(async (r) => ({ res: r, text: await r.text() }));
  seen.push(text, JSON.stringify([...res.headers]));
  statuses.push(res.status);
  const pathname = new URL(request.url).pathname;
  for (const route of ROUTES) if (matches(route, method, pathname)) exercised.add(label(route));
  return { status: res.status, text };
}

const secret = (prefix: string) => {
  const value = `${prefix}${crypto.randomUUID().replace(/-/g, "")}`;
  SECRETS.push(value);
  return value;
};

async function addKey(provider: string, key: string, scope?: string): Promise<string> {
  const res = await send("POST", "/admin/v1/provider-keys", { json: { provider, key, ...(scope ? { scope } : {}) } });
  expect(res.status).toBe(201);
  return (JSON.parse(res.text) as { id: string }).id;
}

async function provider(name: string): Promise<void> {
  expect((await send("POST", "/admin/v1/providers", { json: { name, type: "openai-compatible", base_url: `${mockUpstream.url()}/openai/v1` } })).status).toBe(
    201,
  );
}

async function virtualKey(policy: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const res = await send("POST", "/admin/v1/keys", { json: { name: "leak", ...policy } });
  const created = JSON.parse(res.text) as { id: string; key: string };
  vkIds.add(created.id);
  return created;
}

const chat = (vk: string, model: string, content: string, extra: Record<string, unknown> = {}, init: { env?: Partial<Cloudflare.Env> } = {}) =>
  send("POST", "/v1/chat/completions", { auth: `Bearer ${vk}`, json: { model, messages: [{ role: "user", content }], ...extra }, ...init });

/** An upstream error body that repeats every key it could have seen, in every field. */
const echoing = (k: string) => ({ error: { message: `Rejected ${k}; all: ${SECRETS.join(" ")}`, type: k, code: k, param: k } });

beforeAll(() => {
  spies = (["log", "info", "warn", "error", "debug"] as const).map((m) => vi.spyOn(console, m));
});
afterAll(() => spies.forEach((s) => s.mockRestore()));

describe("no provider key or admin token leaks, on any route or error path", () => {
  it("exercises every route and failure, then finds no secret in any output or storage", { timeout: 120_000 }, async () => {
    const vault = { openai: [secret("sk-proj-leak-a-"), secret("sk-proj-leak-b-")], anthropic: secret("sk-ant-api03-leak-"), gemini: secret("AIzaLeak") };
    await addKey("openai", vault.openai[0]!, "org-1");
    await addKey("openai", vault.openai[1]!, "org-2");
    await addKey("anthropic", vault.anthropic);
    await addKey("gemini", vault.gemini);
    // Custom providers with their own pools, so each scripted failure hits a known key.
    const [rot1, rot2, refused, erring] = [secret("rot-one-"), secret("rot-two-"), secret("refused-"), secret("erring-")];
    await provider("leak-rot");
    await addKey("leak-rot", rot1, "x");
    await addKey("leak-rot", rot2, "y");
    await provider("leak-ref");
    const refusedId = await addKey("leak-ref", refused);
    await provider("leak-err");
    await addKey("leak-err", erring);

    const vk = await virtualKey();
    // Success on every provider, buffered and streamed; three rounds rotate over env + vault keys.
    for (let round = 0; round < 3; round++) {
      for (const model of ["gpt-4o-mini", "claude-haiku-4-5", "gemini-2.5-flash", "mock/echo", "leak-rot/gpt-4o-mini"]) {
        expect((await chat(vk.key, model, `hello ${round}`)).status).toBe(200);
        expect((await chat(vk.key, model, `stream ${round}`, { stream: true, stream_options: { include_usage: true } })).status).toBe(200);
      }
    }

    // 429 rotation: one key limited, the other answers; then both limited → provider_rate_limited.
    await mockUpstream.script({ key: rot1, status: 429, headers: { "retry-after": "30" }, body: echoing(rot1) });
    for (let i = 0; i < 2; i++) expect((await chat(vk.key, "leak-rot/gpt-4o-mini", "rotate")).status).toBe(200);
    await mockUpstream.script({ key: rot2, status: 429, headers: { "retry-after": "30" }, body: echoing(rot2) });
    expect((await chat(vk.key, "leak-rot/gpt-4o-mini", "all limited")).status).toBe(429);

    // The provider refuses its only key (and quotes it back): disabled, then no usable key.
    await mockUpstream.script({ key: refused, status: 401, body: echoing(refused) });
    expect((await chat(vk.key, "leak-ref/gpt-4o-mini", "refused")).status).toBe(502);
    expect((await chat(vk.key, "leak-ref/gpt-4o-mini", "still refused")).status).toBe(502);

    // Upstream failures that echo the key, on a custom provider and on each built-in one.
    const failures: Array<[Record<string, unknown>, number, Record<string, unknown>?]> = [
      [{ status: 400, body: echoing(erring) }, 400],
      [{ status: 500, body: echoing(erring) }, 502],
      [{ status: 200, rawBody: `{"id": "${erring}", broken` }, 502],
      [{ status: 200, rawBody: `data: {"error": {"message": "${erring}"}}\n\n` }, 200, { stream: true }],
      [{ status: 302, headers: { location: `${mockUpstream.url()}/openai/v1/next?key=${erring}` } }, 502],
    ];
    for (const [script, status, extra] of failures) {
      const m = `leak-${crypto.randomUUID()}`;
      await mockUpstream.script({ match: m, times: 1, ...script });
      expect((await chat(vk.key, "leak-err/gpt-4o-mini", m, extra)).status).toBe(status);
    }
    for (const model of ["gpt-4o-mini", "claude-haiku-4-5", "gemini-2.5-flash"]) {
      for (const status of [400, 500]) {
        const m = `leak-${crypto.randomUUID()}`;
        await mockUpstream.script({ match: m, status, times: 1, body: echoing(SECRETS.join(" ")) });
        expect((await chat(vk.key, model, m)).status).toBeGreaterThanOrEqual(400);
      }
    }
    // Timeout: a short UPSTREAM_TIMEOUT_MS through app.fetch, and an upstream slower than that.
    const slow = `leak-${crypto.randomUUID()}`;
    await mockUpstream.script({ match: slow, status: 200, delayMs: 1_500, times: 1 });
    expect((await chat(vk.key, "leak-err/gpt-4o-mini", slow, {}, { env: { UPSTREAM_TIMEOUT_MS: "300" } })).status).toBe(504);

    // Agent-side refusals: bad JSON, unknown model, policy limits, revoked key, bad key.
    expect((await send("POST", "/v1/chat/completions", { auth: `Bearer ${vk.key}`, raw: `{"model": "${rot1}"` })).status).toBe(400);
    expect((await chat(vk.key, "nowhere/model", "x")).status).toBe(404);
    const limited = await virtualKey({ rpm: 1, monthly_token_quota: 1_000_000 });
    await chat(limited.key, "mock/echo", "first");
    expect((await chat(limited.key, "mock/echo", "second")).status).toBe(429);
    expect((await chat((await virtualKey({ monthly_token_quota: 1 })).key, "mock/echo", "over quota")).status).toBe(402);
    expect((await chat((await virtualKey({ models: ["claude-*"] })).key, "mock/echo", "not allowed")).status).toBe(403);
    expect((await chat(`${vk.key.slice(0, -1)}x`, "mock/echo", "bad checksum")).status).toBe(401);

    // Every route of the app: once as it should be called, once wrongly, once without credentials.
    const report = JSON.parse((await send("POST", `/admin/v1/keys/${vk.id}/audit/reports`)).text) as { id: string };
    await sweep({ vk, refusedId, reportId: report.id });
    for (const route of ROUTES) expect(exercised, `${label(route)} was never exercised`).toContain(label(route));
    for (const status of [200, 201, 400, 401, 402, 403, 404, 429, 502, 504]) expect(statuses).toContain(status);

    await expectNoSecretAnywhere(["openai", "anthropic", "gemini", "leak-rot", "leak-ref", "leak-err"]);
  });
});

async function sweep(ids: { vk: { id: string; key: string }; refusedId: string; reportId: string }): Promise<void> {
  const param = (route: RouteInfo) =>
    route.path.includes("/provider-keys/") ? ids.refusedId : route.path.startsWith("/reports/") ? `${ids.reportId}.json` : ids.vk.id;
  const bodies: Record<string, unknown> = {
    "POST /admin/v1/keys": { name: "sweep" },
    "PATCH /admin/v1/keys/:id": { name: "renamed" },
    "POST /admin/v1/prices": { model: "leak-rot/gpt-4o-mini", input_usd_per_mtok: 1, output_usd_per_mtok: 2 },
    "POST /admin/v1/provider-keys": { provider: "openai", key: secret("sk-proj-sweep-") },
    "POST /admin/v1/providers": { name: "sweep-provider", type: "openai-compatible", base_url: "https://llm.example.com/v1" },
    "POST /v1/chat/completions": { model: "mock/echo", messages: [{ role: "user", content: "sweep" }] },
  };
  const queries: Record<string, string> = { "DELETE /admin/v1/prices": "?model=leak-rot/gpt-4o-mini", "GET /admin/v1/usage": "?granularity=day" };
  // Destructive routes last, so the others still find what they act on.
  const ordered = [...ROUTES].sort((a, b) => Number(/revoke|DELETE|disable/.test(label(a))) - Number(/revoke|DELETE|disable/.test(label(b))));
  for (const route of ordered) {
    const auth = route.path.startsWith("/v1/") ? `Bearer ${ids.vk.key}` : ADMIN;
    const path = fillPath(route, () => param(route));
    const json = bodies[label(route)] ?? (route.path.startsWith("/v1/") && route.method === "POST" ? agentBody(route) : undefined);
    await send(route.method, `${path}${queries[label(route)] ?? ""}`, { auth, json });
    await send(
      route.method,
      fillPath(route, () => "nope"),
      { auth, raw: route.method === "GET" ? undefined : `{"key": "${SECRETS[0]}"` },
    );
    await send(route.method, path, { auth: null });
  }
}

async function expectNoSecretAnywhere(pools: string[]): Promise<void> {
  const d1 = await dumpD1();
  const guards = await Promise.all([...vkIds].map((id) => dumpDurableObject(env.KEY_GUARD.getByName(id), `key-guard:${id}`)));
  const poolDumps = await Promise.all(pools.map((p) => dumpDurableObject(env.PROVIDER_POOL.getByName(p), `provider-pool:${p}`)));
  const logs = spies.flatMap((s) => s.mock.calls.map((args) => JSON.stringify(args)));
  const stored = [d1, ...guards, ...poolDumps].flatMap((d) => Object.entries(d.tables));
  const places: Array<[string, string]> = [
    ...seen.map((t, i): [string, string] => [`response ${i >> 1}`, t]),
    ...logs.map((l, i): [string, string] => [`console line ${i}`, l]),
    ...stored,
  ];
  const leaks = places.flatMap(([where, text]) => SECRETS.filter((s) => text.includes(s)).map((s) => `${s.slice(0, 8)}… in ${where}`));
  const auditRows = guards.reduce((n, g) => n + JSON.parse(Object.entries(g.tables).find(([k]) => k.endsWith(".audit_entries"))?.[1] ?? "[]").length, 0);
  console.info(
    `[leak] ${SECRETS.length} secrets × (${seen.length / 2} responses + ${logs.length} console lines + ${d1.rows} D1 rows + ` +
      `${auditRows} audit entries in ${guards.length} KeyGuards + ${poolDumps.length} pools): ${leaks.length} leaks`,
  );
  expect(leaks).toEqual([]);
  expect(auditRows).toBeGreaterThan(30);
}
