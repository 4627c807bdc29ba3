import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { expect, inject } from "vitest";
import { app } from "../../src/app";
import { statusOf, type ErrorCode } from "../../src/errors";
import { TEST_SECRETS } from "./test-secrets";

/**
 * Harness of the fuzz suites (test/fuzz). Cases go straight to `app.fetch` (the Worker's own fetch
 * handler, all middleware included) instead of through the service binding: ~1 ms per rejected
 * case instead of ~25 ms, which is what makes ten thousand cases per run affordable.
 */

declare module "vitest" {
  // Provided by test/support/global-setup.ts (which this project's tsconfig does not include).
  interface ProvidedContext {
    fuzzSeed: number;
  }
}

export const FUZZ_SEED = Math.trunc(inject("fuzzSeed"));
export { runs, scaledTimeout } from "./fuzz-scale";

/** Cases actually sent, per suite; printed for docs/security.md. */
const counts = new Map<string, number>();
export function countCase(suite: string, n = 1): void {
  counts.set(suite, (counts.get(suite) ?? 0) + n);
}
export function reportCounts(file: string): void {
  for (const [suite, n] of counts) console.log(`[fuzz] ${file} › ${suite}: ${n} cases (FUZZ_SEED=${FUZZ_SEED})`);
}

/** `fc.assert` with the suite seed; a failure says how to replay it. */
export async function assertFuzz<T>(property: fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, { seed: FUZZ_SEED, numRuns, endOnFailure: false });
  } catch (error) {
    console.error(`fuzz failure: replay with FUZZ_SEED=${FUZZ_SEED} (the fast-check report below has the exact path)`);
    throw error;
  }
}

/** Waits for every case of a batch (none left running into the next), then throws the first failure. */
export async function settleAll(pending: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(pending);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** The app with (optionally) a modified environment; the body is read before waitUntil work is awaited. */
export async function direct(request: Request, overrides: Partial<Cloudflare.Env> = {}): Promise<{ res: Response; text: string }> {
  const ctx = createExecutionContext();
  const res = await app.fetch(request, { ...env, ...overrides }, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { res, text };
}

/** Values the server holds that must never come back out, whatever was sent. */
export function serverSecrets(): string[] {
  const keks = TEST_SECRETS.VAULT_KEKS.split(",").map((e) => e.slice(e.indexOf(":") + 1));
  const signing = TEST_SECRETS.AUDIT_SIGNING_KEYS.split(",").map((e) => e.slice(e.indexOf(":") + 1));
  return [
    TEST_SECRETS.ADMIN_TOKEN,
    TEST_SECRETS.KEY_PEPPER,
    TEST_SECRETS.AUDIT_HMAC_SECRET,
    ...keks,
    ...signing,
    env.OPENAI_API_KEY,
    env.ANTHROPIC_API_KEY,
    env.GEMINI_API_KEY,
  ].filter((s): s is string => typeof s === "string" && s.length >= 8);
}

export function expectNoSecret(haystack: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    if (haystack.includes(secret)) throw new Error(`a secret (${secret.slice(0, 4)}…, ${secret.length} chars) was echoed`);
  }
}

export const REQUEST_ID = /^req_[0-9a-f]{32}$/;

/** Errors the agent API documents (design.md), with the status each must carry. */
const AGENT_CODES: ErrorCode[] = [
  "invalid_request",
  "request_too_large",
  "unsupported_media_type",
  "invalid_api_key",
  "key_revoked",
  "key_expired",
  "quota_exceeded",
  "spend_cap_exceeded",
  "model_not_allowed",
  "model_not_found",
  "not_found",
  "method_not_allowed",
  "rate_limit_exceeded",
  "provider_rate_limited",
  "upstream_error",
  "upstream_timeout",
];

export interface AgentError {
  message: string;
  type: string;
  param: string | null;
  code: ErrorCode;
}

/** A /v1 error: exactly {message, type, param, code}, a documented code whose status matches. */
export function expectAgentError(res: Response, text: string): AgentError {
  expect(res.headers.get("x-request-id")).toMatch(REQUEST_ID);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: AgentError };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(AGENT_CODES).toContain(body.error.code);
  expect(res.status).toBe(statusOf(body.error.code));
  expect(typeof body.error.message).toBe("string");
  expect(typeof body.error.type).toBe("string");
  expect(body.error.param === null || typeof body.error.param === "string").toBe(true);
  return body.error;
}

export interface AdminError {
  code: ErrorCode;
  message: string;
  request_id: string;
}

/** Any other error: exactly {code, message, request_id}, the id equal to the `x-request-id` header. */
export function expectAdminError(res: Response, text: string): AdminError {
  const id = res.headers.get("x-request-id");
  expect(id).toMatch(REQUEST_ID);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: AdminError };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "request_id"]);
  expect(body.error.request_id).toBe(id);
  expect(res.status).toBe(statusOf(body.error.code));
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

/**
 * An error of the Anthropic surface (/v1/messages…): exactly {type:"error", error:{type,message},
 * request_id}, the id equal to the `x-request-id` and `request-id` headers. Its body has no KeyForge
 * code: for a 401 the code is told from the message (`code` below), so sweeps can assert it.
 */
export function expectAnthropicError(res: Response, text: string): { type: string; message: string; code: string | null } {
  const requestId = res.headers.get("x-request-id");
  expect(requestId).toMatch(REQUEST_ID);
  expect(res.headers.get("request-id")).toBe(requestId);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { type: string; error: { type: string; message: string }; request_id: string };
  expect(Object.keys(body).sort()).toEqual(["error", "request_id", "type"]);
  expect(body.type).toBe("error");
  expect(body.request_id).toBe(requestId);
  expect(Object.keys(body.error).sort()).toEqual(["message", "type"]);
  const code =
    res.status !== 401 ? null : /revoked/.test(body.error.message) ? "key_revoked" : /expired/.test(body.error.message) ? "key_expired" : "invalid_api_key";
  return { ...body.error, code };
}
