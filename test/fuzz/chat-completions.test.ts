import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE, createKey, type CreatedKey } from "../support/gateway";
import { REQUEST_ROWS } from "../support/audit";
import { sqlRows } from "../support/key-guard";
import {
  assertFuzz,
  countCase,
  direct,
  expectAgentError,
  expectNoSecret,
  reportCounts,
  REQUEST_ID,
  runs,
  scaledTimeout,
  serverSecrets,
  settleAll,
  type AgentError,
} from "../support/fuzz";
import { authorization } from "./arbitraries";
import { bodyText, chatBody, chatContentType, type ChatBody } from "./chat-request";

/**
 * Fuzzing the hot path. Properties, for every generated request: never a 5xx (the mock upstreams
 * never fail unless scripted to); an error is exactly the documented OpenAI shape with a matching
 * status and an `x-request-id`; no secret (server secrets, the caller's own `vk_` key) is echoed.
 * Then, over the whole run: a request rejected before admission is neither charged nor audited,
 * and every admitted one is audited exactly once.
 */

/** Cases per fast-check run, sent concurrently (admitted requests wait on the key's DO and upstream). */
const BATCH = 8;
const RUNS = runs(500);

interface Outcome {
  requestId: string;
  status: number;
  error: AgentError | null;
}

/** Errors raised before `admit()` (auth with no I/O or an unknown key, body, schema, routing). */
function rejectedBeforeAdmission(e: AgentError): boolean {
  if (["invalid_api_key", "request_too_large", "unsupported_media_type"].includes(e.code)) return true;
  if (e.code === "invalid_request") return /^(Request body |Invalid '|Invalid body)/.test(e.message);
  return e.code === "model_not_found" && e.message.endsWith("does not exist or no provider serves it.");
}

function expectWellFormedStream(text: string): void {
  const frames = text.split("\n\n").filter((f) => f !== "");
  expect(frames.length).toBeGreaterThan(0);
  for (const frame of frames) {
    // SSE comments (keep-alives, the closing `: keyforge-cost-usd=…`) are valid frames clients ignore.
    if (frame.startsWith(":")) continue;
    expect(frame.startsWith("data: ")).toBe(true);
    const data = frame.slice("data: ".length);
    if (data !== "[DONE]") JSON.parse(data);
  }
  expect(frames.at(-1) === "data: [DONE]" || frames.at(-1)!.includes('"error"')).toBe(true);
}

describe("fuzz: POST /v1/chat/completions", () => {
  let key: CreatedKey;
  let secrets: string[];
  const outcomes: Outcome[] = [];

  beforeAll(async () => {
    // No policy limits: every request that reaches admit() is admitted, so the audit log is an exact oracle.
    key = await createKey({ name: "fuzz" });
    secrets = [...serverSecrets(), key.key];
  }, 60_000);
  afterAll(() => reportCounts("test/fuzz/chat-completions.test.ts"));

  async function send(c: { auth: string | null; contentType: string | null; body: ChatBody }): Promise<void> {
    const headers = new Headers();
    if (c.auth !== null) headers.set("authorization", c.auth);
    if (c.contentType !== null) headers.set("content-type", c.contentType);
    const { res, text } = await direct(new Request(`${BASE}/v1/chat/completions`, { method: "POST", headers, body: bodyText(c.body) }));
    countCase("bodies × content types × credentials");
    expect(res.status).toBeLessThan(500);
    expectNoSecret(`${text}\n${JSON.stringify([...res.headers])}`, secrets);
    const requestId = res.headers.get("x-request-id") ?? "";
    expect(requestId).toMatch(REQUEST_ID);
    if (res.status !== 200) {
      outcomes.push({ requestId, status: res.status, error: expectAgentError(res, text) });
      return;
    }
    if (res.headers.get("content-type")?.startsWith("text/event-stream")) expectWellFormedStream(text);
    else expect((JSON.parse(text) as { object: string }).object).toBe("chat.completion");
    outcomes.push({ requestId, status: 200, error: null });
  }

  /**
   * The generated run, shared by both tests: whichever runs first sends it, so each test also
   * passes on its own (`-t`) and in either order.
   */
  let fuzzRun: Promise<void> | null = null;
  const fuzz = () => (fuzzRun ??= sendGeneratedRequests());

  async function sendGeneratedRequests(): Promise<void> {
    const oneCase = fc.record({
      // Mostly the right key, so that bodies get past auth; the auth suite fuzzes the header on its own.
      auth: fc.oneof({ weight: 8, arbitrary: fc.constant(`Bearer ${key.key}`) }, { weight: 1, arbitrary: authorization(key.key) }),
      contentType: chatContentType,
      body: chatBody,
    });
    await assertFuzz(
      fc.asyncProperty(fc.array(oneCase, { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        await settleAll(cases.map(send));
      }),
      RUNS,
    );
  }

  it(`${RUNS * BATCH} generated requests: never 5xx, documented error shape, no echo of a secret`, { timeout: scaledTimeout(300_000) }, async () => {
    await fuzz();
    // The generators must reach every layer, or the properties above prove little.
    const codes = new Set(outcomes.map((o) => o.error?.code ?? "ok"));
    for (const code of ["ok", "invalid_request", "invalid_api_key", "unsupported_media_type", "model_not_found", "request_too_large"]) {
      expect(codes, `no case produced '${code}'`).toContain(code);
    }
    console.log(
      `[fuzz] outcomes: ${JSON.stringify(Object.fromEntries([...codes].map((c) => [c, outcomes.filter((o) => (o.error?.code ?? "ok") === c).length])))}`,
    );
  });

  it(
    "a request rejected before admission is neither charged nor audited; every admitted one is audited once",
    { timeout: scaledTimeout(300_000) },
    async () => {
      await fuzz();
      expect(outcomes.length).toBe(RUNS * BATCH);
      // Request entries: the key's log also opens with its policy history (key.create), copied at first use.
      const audited = (await sqlRows<{ entry: string }>(key.id, REQUEST_ROWS)).map(
        (r) => JSON.parse(r.entry) as { request_id: string; status: number | string },
      );
      const byId = new Map<string, number>();
      for (const e of audited) byId.set(e.request_id, (byId.get(e.request_id) ?? 0) + 1);
      const admitted = outcomes.filter((o) => o.error === null || !rejectedBeforeAdmission(o.error));
      const rejected = outcomes.filter((o) => o.error !== null && rejectedBeforeAdmission(o.error));
      expect(rejected.length).toBeGreaterThan(outcomes.length / 3);
      for (const o of rejected) expect(byId.has(o.requestId), `rejected ${o.requestId} (${o.error!.code}) was audited`).toBe(false);
      for (const o of admitted) expect(byId.get(o.requestId), `admitted ${o.requestId} (${o.status}) audited`).toBe(1);
      expect(audited.length).toBe(admitted.length);

      const [ledger] = await sqlRows<{ requests: number }>(key.id, "select coalesce(sum(requests), 0) as requests from ledger");
      expect(ledger!.requests).toBe(admitted.length);
      const [open] = await sqlRows<{ n: number }>(key.id, "select count(*) as n from reservations");
      expect(open!.n).toBe(0);
      console.log(`[fuzz] admission: ${admitted.length} admitted and audited once, ${rejected.length} rejected before admission, none audited`);
    },
  );
});
