import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { checksumOf, generateToken } from "../../src/keys/token";
import { admin, BASE, createKey, type CreatedKey, gatewayFetch } from "../support/gateway";
import { REQUEST_ID } from "../support/fuzz";
import { testNow } from "../support/clock";
import { setClock, sqlRows } from "../support/key-guard";
import { expectAnthropicError } from "../support/fuzz";
import { adminRoutes, agentBody, agentErrorShape, agentRoutes, fillPath, label, type RouteInfo } from "../support/routes";
import { TEST_SECRETS } from "../support/test-secrets";

/**
 * One security suite for every route in `app.routes` (Unkey's pattern): each admin route refuses
 * every wrong way of presenting the admin token with 401 `unauthorized` before doing anything, and
 * each /v1 route refuses each kind of bad virtual key with 401 and its own code. A positive control
 * per route shows the refusals come from the credential, not from the request.
 */

let live: CreatedKey;
let revoked: CreatedKey;
let expired: CreatedKey;

beforeAll(async () => {
  live = await createKey({ name: "auth-live" });
  revoked = await createKey({ name: "auth-revoked" });
  expect((await admin(`/keys/${revoked.id}/revoke`, { method: "POST" })).status).toBe(200);
  // Expiry: a few seconds ahead, then the key's KeyGuard clock moves past it (no sleeping).
  expired = await createKey({ name: "auth-expired", expires_at: Math.floor(Date.now() / 1000) + 5 });
  await setClock(expired.id, testNow() + 60_000);
}, 60_000);

/** A request to a route: real ids in the path and a plausible body, so only the credential is wrong. */
function request(route: RouteInfo, headers: Record<string, string>, query = "", id = live.id): Promise<Response> {
  const path = fillPath(route, () => id);
  const body =
    route.method === "GET" || route.method === "DELETE" ? null : JSON.stringify(route.path.startsWith("/v1/") ? agentBody(route) : { name: "auth-suite" });
  return gatewayFetch(`${BASE}${path}${query}`, { method: route.method, headers: { "content-type": "application/json", ...headers }, body });
}

async function tableCounts(): Promise<Record<string, number>> {
  const tables = await env.DB.prepare(
    "select name from sqlite_master where type = 'table' and name not like '\\_cf%' escape '\\' and name not like 'sqlite%'",
  ).all<{ name: string }>();
  const out: Record<string, number> = {};
  for (const { name } of tables.results) out[name] = (await env.DB.prepare(`select count(*) as n from "${name}"`).first<{ n: number }>())!.n;
  return out;
}

const ADMIN_CASES: Array<[string, () => Record<string, string>, string?]> = [
  ["no token", () => ({})],
  ["a wrong token", () => ({ authorization: "Bearer wrong-token-0123456789abcdef" })],
  ["the token with one character more", () => ({ authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}x` })],
  ["the token in the wrong header", () => ({ "x-api-key": TEST_SECRETS.ADMIN_TOKEN })],
  ["the token without 'Bearer'", () => ({ authorization: TEST_SECRETS.ADMIN_TOKEN })],
  ["the token as Basic credentials", () => ({ authorization: `Basic ${btoa(`admin:${TEST_SECRETS.ADMIN_TOKEN}`)}` })],
  ["the token in the query string", () => ({}), `?token=${TEST_SECRETS.ADMIN_TOKEN}`],
  ["a vk_ virtual key", () => ({ authorization: `Bearer ${live.key}` })],
];

describe("admin auth on every admin route", () => {
  const routes = adminRoutes();
  const cases = routes.flatMap((route) => ADMIN_CASES.map(([what, headers, query]) => ({ route, what, headers, query })));

  it(`covers every admin route (${routes.length}) × ${ADMIN_CASES.length} bad credentials`, () => {
    expect(routes.length).toBeGreaterThan(15);
    console.log(`[auth] admin: ${routes.length} routes × ${ADMIN_CASES.length} credentials = ${cases.length} cases`);
  });

  it("refuses each with 401 unauthorized in the admin shape, and nothing is written", async () => {
    const before = await tableCounts();
    for (const { route, what, headers, query } of cases) {
      const res = await request(route, headers(), query ?? "");
      const text = await res.text();
      expect(res.status, `${label(route)} with ${what}: ${text}`).toBe(401);
      const body = JSON.parse(text) as { error: Record<string, unknown> };
      expect(Object.keys(body.error).sort()).toEqual(["code", "message", "request_id"]);
      expect(body.error).toMatchObject({ code: "unauthorized", request_id: res.headers.get("x-request-id") });
      expect(res.headers.get("x-request-id")).toMatch(REQUEST_ID);
      expect(text).not.toContain(TEST_SECRETS.ADMIN_TOKEN);
    }
    expect(await tableCounts()).toEqual(before);
  });

  it("positive control: the right token gets past auth on every route", async () => {
    // A key of its own: these calls really run (revoke included).
    const spare = await createKey({ name: "auth-spare" });
    for (const route of routes) {
      const res = await request(route, { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` }, "", spare.id);
      expect(res.status, label(route)).not.toBe(401);
      await res.body?.cancel();
    }
  });
});

/** Bad virtual keys and the code each must get. */
function agentCases(): Array<[string, string | null, string]> {
  const id = live.key.slice(3, 19);
  const secret = live.key.slice(19, 51);
  const other = "s".repeat(32);
  const flipped = `${live.key.slice(0, -1)}${live.key.at(-1) === "A" ? "B" : "A"}`;
  return [
    ["no Authorization header", null, "invalid_api_key"],
    ["a malformed key", "Bearer vk_abc", "invalid_api_key"],
    ["a key of another format", "Bearer sk-proj-0123456789abcdef", "invalid_api_key"],
    ["a bad checksum", `Bearer ${flipped}`, "invalid_api_key"],
    ["an unknown id with a valid checksum", `Bearer ${generateToken().token}`, "invalid_api_key"],
    ["a known id with a wrong secret (valid checksum)", `Bearer vk_${id}${other}${checksumOf(id, other)}`, "invalid_api_key"],
    ["a secret moved to another id", `Bearer vk_${revoked.id}${secret}${checksumOf(revoked.id, secret)}`, "invalid_api_key"],
    ["the admin token", `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`, "invalid_api_key"],
    ["a revoked key", `Bearer ${revoked.key}`, "key_revoked"],
    ["an expired key", `Bearer ${expired.key}`, "key_expired"],
  ];
}

describe("agent auth on every /v1 route", () => {
  const routes = agentRoutes();

  it("refuses each bad key with 401 and its code, in its API family's error shape, and audits nothing", async () => {
    const cases = agentCases();
    expect(routes.length).toBeGreaterThanOrEqual(2);
    for (const route of routes) {
      for (const [what, authorization, code] of cases) {
        const res = await request(route, authorization === null ? {} : { authorization });
        const text = await res.text();
        expect(res.status, `${label(route)} with ${what}: ${text}`).toBe(401);
        if (agentErrorShape(route) === "anthropic") {
          expect(expectAnthropicError(res, text)).toMatchObject({ code, type: "authentication_error" });
        } else {
          const body = JSON.parse(text) as { error: Record<string, unknown> };
          expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
          expect(body.error).toMatchObject({ code, type: "authentication_error" });
        }
        expect(res.headers.get("x-request-id")).toMatch(REQUEST_ID);
        if (authorization) expect(text).not.toContain(authorization.slice("Bearer ".length));
      }
    }
    console.log(`[auth] agent: ${routes.length} routes × ${cases.length} credentials = ${routes.length * cases.length} cases`);
    for (const key of [live, revoked, expired]) {
      // No refusal is audited as a request. A refused request that loaded the key copied its policy
      // history (key.create, then a revoke made before); an expired key's log then gets key.expire.
      const rows = await sqlRows<{ entry: string }>(key.id, "select entry from audit_entries");
      const kinds = rows.map((r) => (JSON.parse(r.entry) as { action?: string }).action ?? "request");
      const history = key === expired ? ["key.create", "key.expire"] : key === revoked ? ["key.create", "key.revoke"] : ["key.create"];
      expect(kinds, key.name as string).toEqual(history);
    }
  });

  it("positive control: the live key is served on every route", async () => {
    for (const route of routes) {
      const res = await request(route, { authorization: `Bearer ${live.key}` });
      expect(res.status, label(route)).toBe(200);
      await res.body?.cancel();
    }
  });
});
