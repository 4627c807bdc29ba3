import { existsSync } from "node:fs";
import { join } from "node:path";
import { GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type Served } from "../mocks/serve";
import { mockUpstreams } from "../mocks/upstreams";
import { buildDashboard, ROOT, startGateway, type Gateway } from "./support/gateway";

/**
 * Through the real front door (`wrangler dev`: the asset router of wrangler.toml's [assets] in front
 * of the Worker, which the workerd test pool bypasses): every API prefix is the Worker's
 * (`run_worker_first`), so an unknown API path or a wrong method gets its family's JSON — never the
 * dashboard's index.html or an empty 405 from the asset handler — while the dashboard's own paths
 * stay static assets. Then the README's @google/genai recipe as written: only GOOGLE_GEMINI_BASE_URL
 * and GEMINI_API_KEY set, against the mock Gemini served from this process.
 */

const GEMINI_ERROR = { error: { code: expect.any(Number), message: expect.any(String), status: expect.any(String) } };
const CASES: Array<{ method: string; path: string; status: number; shape: unknown }> = [
  { method: "GET", path: "/v1/no-such-api", status: 404, shape: { error: { type: "invalid_request_error", code: "not_found" } } },
  { method: "GET", path: "/v1/chat/completions", status: 405, shape: { error: { code: "method_not_allowed" } } },
  { method: "POST", path: "/v1beta/models/gemini-2.5-flash:generateContent", status: 401, shape: GEMINI_ERROR },
  { method: "GET", path: "/v1beta/models/gemini-2.5-flash:generateContent", status: 405, shape: GEMINI_ERROR },
  { method: "PUT", path: "/v1beta/no-such-api", status: 404, shape: GEMINI_ERROR },
  { method: "OPTIONS", path: "/v1beta/no-such-api", status: 404, shape: GEMINI_ERROR },
  { method: "GET", path: "/admin/no-such-api", status: 404, shape: { error: { code: "not_found" } } },
  { method: "DELETE", path: "/reports/no/such/report", status: 404, shape: { error: { code: "not_found" } } },
  { method: "POST", path: "/.well-known/keyforge/audit-keys", status: 405, shape: { error: { code: "method_not_allowed" } } },
];

describe.skipIf(process.env.KEYFORGE_E2E === "off")("API paths through wrangler dev's asset router", () => {
  let upstream: Served;
  let gateway: Gateway;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, "dashboard/dist/index.html"))) buildDashboard();
    upstream = await serve(mockUpstreams());
    gateway = await startGateway({
      ALLOW_INSECURE_UPSTREAMS: "on",
      GEMINI_BASE_URL: `${upstream.url}/gemini`,
      GEMINI_API_KEY: "AIzaE2eGemini0123456789abcdefgh",
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it("every API prefix answers JSON of its family (HEAD: the status, no body); the dashboard is still HTML", async () => {
    for (const { method, path, status, shape } of CASES) {
      const res = await fetch(`${gateway.url}${path}`, { method });
      const label = `${method} ${path}`;
      expect(res.status, label).toBe(status);
      expect(res.headers.get("content-type"), label).toMatch(/^application\/json/);
      expect(await res.json(), label).toMatchObject(shape as object);
      const head = await fetch(`${gateway.url}${path}`, { method: "HEAD" });
      expect(head.headers.get("content-type"), `HEAD ${path}`).toMatch(/^application\/json/);
      expect(await head.text(), `HEAD ${path}`).toBe("");
    }
    for (const page of ["/", "/keys", "/some/dashboard/route"]) {
      const res = await fetch(`${gateway.url}${page}`);
      expect(res.status, page).toBe(200);
      expect(res.headers.get("content-type"), page).toMatch(/^text\/html/);
    }
  });

  it("@google/genai with only GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY set: generate and stream", async () => {
    const admin = await fetch(`${gateway.url}/admin/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${gateway.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "gemini recipe", spend_cap_usd: 1 }),
    });
    const { key } = (await admin.json()) as { key: string };
    const saved = { base: process.env.GOOGLE_GEMINI_BASE_URL, key: process.env.GEMINI_API_KEY };
    process.env.GOOGLE_GEMINI_BASE_URL = gateway.url;
    process.env.GEMINI_API_KEY = key;
    try {
      const ai = new GoogleGenAI({});
      const response = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "e2e-genai-marker hello" });
      expect(response.text).toBe("e2e-genai-marker hello");
      let text = "";
      for await (const chunk of await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "e2e-genai-marker streamed words" }))
        text += chunk.text ?? "";
      expect(text).toBe("e2e-genai-marker streamed words");
    } finally {
      for (const [name, value] of [
        ["GOOGLE_GEMINI_BASE_URL", saved.base],
        ["GEMINI_API_KEY", saved.key],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
