import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, BASE, createKey, type CreatedKey } from "../support/gateway";
import { REQUEST_ROWS } from "../support/audit";
import { sqlRows } from "../support/key-guard";
import {
  assertFuzz,
  countCase,
  direct,
  expectAgentError,
  expectAnthropicError,
  expectNoSecret,
  reportCounts,
  runs,
  scaledTimeout,
  serverSecrets,
  settleAll,
} from "../support/fuzz";
import { agentAudited, agentBody, agentErrorShape, agentRoutes, label, type RouteInfo } from "../support/routes";
import { TEST_SECRETS } from "../support/test-secrets";
import { authorization } from "./arbitraries";

/**
 * Fuzzing the agent credential on every /v1 route (from `app.routes`). The oracle is exact: the
 * request succeeds iff the header is `Bearer <the live key>` (scheme case-insensitive, as the
 * parser allows); the revoked key gets `key_revoked`; anything else gets `invalid_api_key`. No
 * credential is echoed, and nothing lands in either key's audit log except the successes.
 */

const BATCH = 8;
const RUNS = runs(250);
const BEARER = /^Bearer\s+(\S+)\s*$/i;

describe("fuzz: the Authorization header on /v1", () => {
  let live: CreatedKey;
  let revoked: CreatedKey;
  let routes: RouteInfo[];
  let successes = 0;

  beforeAll(async () => {
    live = await createKey({ name: "fuzz-live" });
    revoked = await createKey({ name: "fuzz-revoked" });
    expect((await admin(`/keys/${revoked.id}/revoke`, { method: "POST" })).status).toBe(200);
    routes = agentRoutes();
    expect(routes.map(label)).toEqual(expect.arrayContaining(["POST /v1/chat/completions", "GET /v1/models"]));
  }, 60_000);
  afterAll(() => reportCounts("test/fuzz/agent-auth.test.ts"));

  function expected(header: string | null): "ok" | "key_revoked" | "invalid_api_key" {
    // Headers drop leading and trailing HTTP whitespace (not every Unicode space) before the gateway sees them.
    const token = header === null ? null : (BEARER.exec(header.replace(/^[ \t]+|[ \t]+$/g, ""))?.[1] ?? null);
    if (token === live.key) return "ok";
    return token === revoked.key ? "key_revoked" : "invalid_api_key";
  }

  async function send(route: RouteInfo, header: string | null): Promise<void> {
    const headers = new Headers({ "content-type": "application/json" });
    if (header !== null) headers.set("authorization", header);
    const body = route.method === "GET" ? null : JSON.stringify(agentBody(route));
    const { res, text } = await direct(new Request(`${BASE}${route.path}`, { method: route.method, headers, body }));
    countCase("credentials × /v1 routes");
    const credential = header?.trim().split(/\s+/).at(-1) ?? "";
    // Long credentials only: a short one could occur in the fixed error text by chance.
    expectNoSecret(`${text}\n${JSON.stringify([...res.headers])}`, [
      ...serverSecrets(),
      live.key,
      revoked.key,
      ...(credential.length >= 16 ? [credential] : []),
    ]);
    const want = expected(header);
    if (want === "ok") {
      expect(res.status, text).toBe(200);
      if (agentAudited(route)) successes += 1;
      return;
    }
    const error = agentErrorShape(route) === "anthropic" ? expectAnthropicError(res, text) : expectAgentError(res, text);
    expect(error.code).toBe(want);
    expect(res.status).toBe(401);
  }

  it(`${RUNS * BATCH} generated credentials: exactly the live key gets in, each refusal has its code`, { timeout: scaledTimeout(120_000) }, async () => {
    const oneCase = fc.record({
      route: fc.integer({ min: 0, max: routes.length - 1 }),
      header: fc.oneof({ weight: 5, arbitrary: authorization(live.key, [TEST_SECRETS.ADMIN_TOKEN]) }, { weight: 1, arbitrary: authorization(revoked.key) }),
    });
    await assertFuzz(
      fc.asyncProperty(fc.array(oneCase, { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        await settleAll(cases.map((c) => send(routes[c.route]!, c.header)));
      }),
      RUNS,
    );
    expect(successes).toBeGreaterThan(0);
  });

  it("only the admitted requests reached the audit log", async () => {
    // Request entries: the keys' logs also open with their policy history (key.create, …), copied at first use.
    const count = async (id: string) => (await sqlRows(id, REQUEST_ROWS)).length;
    expect(await count(live.id)).toBe(successes);
    expect(await count(revoked.id)).toBe(0);
  });
});
