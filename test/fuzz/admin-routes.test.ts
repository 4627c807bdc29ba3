import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE } from "../support/gateway";
import {
  assertFuzz,
  countCase,
  direct,
  expectAdminError,
  expectNoSecret,
  reportCounts,
  REQUEST_ID,
  runs,
  scaledTimeout,
  serverSecrets,
  settleAll,
} from "../support/fuzz";
import { adminRoutes, fillPath, label, publicRoutes, type RouteInfo } from "../support/routes";
import { TEST_SECRETS } from "../support/test-secrets";
import { contentType, hostileJson, hostileString, setAt } from "./arbitraries";
import { bodySchemaOf, fromSchema, operationOf, querySchemasOf } from "./from-schema";

/**
 * Fuzzing every admin and public route, enumerated from `app.routes`. Bodies and query strings are
 * generated from the gateway's own OpenAPI document (so near-valid), then mutated; path params
 * are real ids or junk. Properties: never a 5xx; every error is exactly `{error:{code, message,
 * request_id}}` with the id of the `x-request-id` header; no server secret and no provider key
 * ever submitted comes back; a wrong admin token is always 401 and the right one never is.
 */

const BATCH = 8;
const RUNS = runs(550);
const ADMIN = `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`;

type Doc = Parameters<typeof operationOf>[0];

interface Case {
  route: number;
  method: string | null;
  params: string[];
  query: Array<[string, string]>;
  body: { json: unknown } | { raw: string } | null;
  contentType: string | null;
  auth: string | null;
}

async function call(method: string, path: string, init: { json?: unknown; auth?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers = new Headers({ authorization: init.auth ?? ADMIN, "content-type": "application/json" });
  const body = init.json === undefined ? null : JSON.stringify(init.json);
  const { res, text } = await direct(new Request(`${BASE}${path}`, { method, headers, body }));
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
}

describe("fuzz: every admin and public route", () => {
  let routes: RouteInfo[];
  let doc: Doc;
  const pool: string[] = ["env-openai", "env-gemini", "pk_000000000000000000000000", "AAAAAAAAAAAAAAAA", "rpt_AAAAAAAAAAAAAAAAAAAAAA.json"];
  /** Provider keys that were accepted (201): none may ever appear in a later response. */
  const storedKeys: string[] = [];
  const statuses = new Map<string, Set<number>>();

  beforeAll(async () => {
    routes = [...adminRoutes(), ...publicRoutes()];
    const openapi = await direct(new Request(`${BASE}/admin/v1/openapi.json`, { headers: { authorization: ADMIN } }));
    doc = JSON.parse(openapi.text) as Doc;
    // Real ids so that path params reach the handlers' happy paths too.
    const live = await call("POST", "/admin/v1/keys", { json: { name: "fuzz-admin" } });
    const revoked = await call("POST", "/admin/v1/keys", { json: { name: "fuzz-revoked" } });
    await call("POST", `/admin/v1/keys/${revoked.body.id as string}/revoke`);
    await direct(
      new Request(`${BASE}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${live.body.key as string}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: "seed the audit log" }] }),
      }),
    );
    const report = await call("POST", `/admin/v1/keys/${live.body.id as string}/audit/reports`);
    const secret = `sk-fuzz-${crypto.randomUUID().replace(/-/g, "")}`;
    storedKeys.push(secret);
    const pk = await call("POST", "/admin/v1/provider-keys", { json: { provider: "openai", key: secret } });
    expect([live.status, revoked.status, report.status, pk.status]).toEqual([201, 201, 201, 201]);
    pool.push(live.body.id as string, revoked.body.id as string, pk.body.id as string, report.body.id as string, `${report.body.id as string}.json`);
  }, 60_000);
  afterAll(() => {
    reportCounts("test/fuzz/admin-routes.test.ts");
    const documented = routes.filter((r) => [...(statuses.get(`${r.method} ${r.path}`) ?? [])].some((s) => s < 300)).length;
    console.log(
      `[fuzz] ${routes.length} routes reached (${documented} with a 2xx), ${statuses.size} method × route pairs tried; statuses seen: ${[...new Set([...statuses.values()].flatMap((v) => [...v]))].sort().join(", ")}`,
    );
  });

  function caseArb(): fc.Arbitrary<Case> {
    return fc.integer({ min: 0, max: routes.length - 1 }).chain((index) => {
      const route = routes[index]!;
      const op = operationOf(doc, route.method, route.path);
      const bodySchema = bodySchemaOf(op);
      const query = querySchemasOf(op);
      const documented = bodySchema ? fromSchema(bodySchema) : hostileJson;
      const body = fc.oneof(
        // Valid bodies create rows that later listings must walk: keep them a minority.
        { weight: 1, arbitrary: documented.map((json) => ({ json })) },
        {
          weight: 5,
          arbitrary: fc
            .tuple(documented, fc.array(fc.tuple(fc.array(fc.nat(), { maxLength: 3 }), hostileJson), { minLength: 1, maxLength: 2 }))
            .map(([v, ms]) => ({ json: ms.reduce<unknown>((acc, [p, x]) => setAt(acc, p, x), v) })),
        },
        { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("", "{", "[]", "null", "{}")).map((raw) => ({ raw })) },
        { weight: 1, arbitrary: fc.constant(null) },
      );
      const queryValue = (s: Parameters<typeof fromSchema>[0]) =>
        fc.oneof(
          fromSchema(s).map((v) => (typeof v === "string" ? v : (JSON.stringify(v) ?? ""))),
          hostileString,
        );
      const queryArb = fc
        .tuple(
          fc
            .array(fc.constantFrom(...(query.length > 0 ? query : [["q", {}] as [string, Parameters<typeof fromSchema>[0]]])), { maxLength: 4 })
            .chain((picked) => fc.tuple(...picked.map(([name, s]) => queryValue(s).map((v) => [name, v] as [string, string])))),
          fc.array(fc.tuple(hostileString, hostileString), { maxLength: 2 }),
        )
        .map(([known, extra]) => [...known, ...extra]);
      const param = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) });
      return fc.record({
        route: fc.constant(index),
        method: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT") }),
        params: fc.array(param, { minLength: route.params.length, maxLength: route.params.length }),
        query: queryArb,
        body,
        contentType,
        auth: fc.oneof(
          { weight: 12, arbitrary: fc.constant(ADMIN) },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              null,
              "",
              "Bearer wrong",
              `bearer ${TEST_SECRETS.ADMIN_TOKEN}`,
              TEST_SECRETS.ADMIN_TOKEN,
              `Bearer ${TEST_SECRETS.ADMIN_TOKEN} `,
              `Bearer ${TEST_SECRETS.ADMIN_TOKEN}x`,
              "Basic dGVzdA==",
            ),
          },
        ),
      });
    });
  }

  async function send(c: Case): Promise<void> {
    const route = routes[c.route]!;
    const method = c.method ?? route.method;
    const path = fillPath(route, (p) => c.params[route.params.indexOf(p)] ?? "x");
    const search = new URLSearchParams(c.query).toString();
    const headers = new Headers();
    if (c.auth !== null) headers.set("authorization", c.auth);
    if (c.contentType !== null) headers.set("content-type", c.contentType);
    const body = method === "GET" || c.body === null ? null : "raw" in c.body ? c.body.raw : (JSON.stringify(c.body.json) ?? "");
    const { res, text } = await direct(new Request(`${BASE}${path}${search ? `?${search}` : ""}`, { method, headers, body }));
    countCase("routes × params × queries × bodies × credentials");
    const key = `${method} ${route.path}`;
    statuses.set(key, (statuses.get(key) ?? new Set()).add(res.status));

    expect(res.status, `${key} → ${text.slice(0, 300)}`).toBeLessThan(500);
    expect(res.headers.get("x-request-id")).toMatch(REQUEST_ID);
    // A provider key submitted in this very request may be echoed only if it was also sent elsewhere (path, query).
    const submitted = c.body && "json" in c.body ? (c.body.json as { key?: unknown } | null)?.key : undefined;
    const elsewhere = `${path}?${search}`;
    const ownKey = typeof submitted === "string" && submitted.length >= 12 && !elsewhere.includes(submitted) ? [submitted] : [];
    expectNoSecret(`${text}\n${JSON.stringify([...res.headers])}`, [...serverSecrets(), ...storedKeys, ...ownKey]);

    const adminRoute = route.path.startsWith("/admin/v1/");
    // Headers drop leading and trailing HTTP whitespace; the gateway then wants exactly `Bearer <token>`.
    const rightToken = c.auth !== null && c.auth.replace(/^[ \t]+|[ \t]+$/g, "") === ADMIN;
    if (adminRoute && !rightToken) expect(res.status).toBe(401);
    if (res.status >= 400) {
      const error = expectAdminError(res, text);
      if (adminRoute && rightToken) expect(error.code).not.toBe("unauthorized");
    } else if (adminRoute) {
      // JSON, or JSON Lines from the audit export.
      expect(res.headers.get("content-type")).toMatch(/^application\/(?:x-nd)?json/);
    }
    if (res.status === 201 && route.path === "/admin/v1/provider-keys" && ownKey.length > 0) storedKeys.push(ownKey[0]!);
  }

  it(
    `${RUNS * BATCH} generated requests: never 5xx, documented error shape, no secret echoed, auth always enforced`,
    { timeout: scaledTimeout(300_000) },
    async () => {
      expect(routes.length).toBeGreaterThan(15);
      await assertFuzz(
        fc.asyncProperty(fc.array(caseArb(), { minLength: BATCH, maxLength: BATCH }), async (cases) => {
          await settleAll(cases.map(send));
        }),
        RUNS,
      );
      // Every route was reached, and reached past validation at least once.
      for (const route of routes) {
        const seen = statuses.get(`${route.method} ${route.path}`);
        expect(seen, `${label(route)} was never called`).toBeDefined();
        expect(
          [...seen!].some((s) => s !== 401),
          `${label(route)} never got past auth`,
        ).toBe(true);
      }
    },
  );
});
