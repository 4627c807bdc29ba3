import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { allEntries, createReport, publishedKeys, REQUEST_ROWS, requestEntries, verifyAudit } from "./support/audit";
import { BASE, chat, createKey, gatewayFetch } from "./support/gateway";
import { testNow } from "./support/clock";
import { admitRequest, guardOf, setClock, sqlRows } from "./support/key-guard";
import { verifyReportText } from "../src/audit/report-verify";

/**
 * Denials cannot grow the log without bound: repeated denials of one kind are coalesced into one
 * audit entry per key per minute, with an exact `count`. The count is stored in the same
 * synchronous step as each decision and the entry is written when the minute is over (alarm, or
 * the next read), so an eviction loses nothing. Each key's log opens with its policy history
 * (key.create, copied at its first use); the assertions are about the request entries after it.
 */

const WINDOW_MS = 60_000;
const denied = (content: string) => ({ model: "mock/slow", messages: [{ role: "user", content }] });
const served = (content: string) => ({ model: "mock/echo", messages: [{ role: "user", content }] });

/** `n` requests in parallel batches; every one must get `status`. Returns their request ids in order of response. */
async function send(key: string, n: number, body: (i: number) => unknown, status: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, n - start) }, (_, i) => chat(key, body(start + i))));
    for (const res of batch) {
      expect(res.status).toBe(status);
      ids.push(res.headers.get("x-request-id")!);
      await res.text();
    }
  }
  return ids;
}

/** Resets this key's Durable Object (its memory is gone; storage and alarm stay), as an eviction would. */
async function evict(id: string): Promise<void> {
  await runInDurableObject(guardOf(id), (_instance, state) => state.abort("evicted by the test")).catch(() => undefined);
}

const requestRows = async (id: string) => (await sqlRows(id, REQUEST_ROWS)).length;

describe("denials are coalesced", () => {
  it("1,000 denials in a minute: one entry with count 1000 once the minute is over, and the chain verifies", async () => {
    const key = await createKey({ models: ["mock/echo"] });
    const start = testNow();
    await setClock(key.id, start);
    // Two through the front door; the other 998 straight to the key's KeyGuard, where admit() decides
    // and counts (the Worker adds nothing to a denial, and a thousand front-door requests take minutes
    // in this test runtime).
    // The two go out together, so either may reach the KeyGuard first: the entry names whichever did.
    const frontDoor = await send(key.key, 2, (i) => denied(`deny ${i}`), 403);
    const guard = guardOf(key.id);
    for (let sent = 2; sent < 1000; sent += 100) {
      const results = await Promise.all(
        Array.from({ length: Math.min(100, 1000 - sent) }, async (_, i) =>
          guard.admit(await admitRequest(key, `req_deny_${sent + i}`, { model: "mock/slow", modelNames: ["mock/slow", "slow"] })),
        ),
      );
      expect(results.every((r) => !r.ok && r.code === "model_not_allowed")).toBe(true);
    }
    // Within the minute nothing is appended: the count is held (stored), not a thousand entries.
    expect(await requestRows(key.id)).toBe(0);
    expect(await sqlRows(key.id, "select count from audit_denials")).toEqual([{ count: 1000 }]);

    // The alarm at the end of the minute writes the one entry.
    await setClock(key.id, start + WINDOW_MS);
    expect(await runDurableObjectAlarm(guardOf(key.id))).toBe(true);
    const entries = await allEntries(key.id);
    expect(entries.map((e) => e.action ?? e.status)).toEqual(["key.create", 403]);
    expect(entries[1]).toMatchObject({ seq: 2, status: 403, count: 1000, model: "mock/slow", ts: start, cost_micros: 0 });
    expect(frontDoor).toContain(entries[1]!.request_id);
    expect(await sqlRows(key.id, "select * from audit_denials")).toEqual([]);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: true, entries: 2, first_invalid_seq: null });

    // A report carries it, and the page's verification code shows the count.
    const res = await createReport(key.id);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const text = await (await gatewayFetch(`${BASE}/reports/${id}.json`)).text();
    const result = await verifyReportText(
      text,
      (await publishedKeys()).map((k) => k.verifier_key),
      { reportId: id },
    );
    expect(result.ok).toBe(true);
    expect(result.checks.find((c) => c.name === "entry seq 2")?.detail).toContain("status 403 × 1000");
  }, 120_000);

  it("one entry per kind per minute; a later minute starts a new entry; served requests are audited as before", async () => {
    const key = await createKey({ models: ["mock/echo"], rpm: 3 });
    const start = testNow();
    await setClock(key.id, start);
    await send(key.key, 3, (i) => served(`ok ${i}`), 200);
    await send(key.key, 4, (i) => served(`limited ${i}`), 429);
    const firstDenied = await send(key.key, 5, (i) => denied(`not allowed ${i}`), 403);
    await setClock(key.id, start + WINDOW_MS + 1);
    await send(key.key, 2, (i) => denied(`later ${i}`), 403);
    await setClock(key.id, start + 2 * WINDOW_MS + 2);
    const entries = await requestEntries(key.id);
    const denials = entries.filter((e) => e.status !== 200);
    expect(denials.map((e) => [e.status, e.count])).toEqual([
      [429, 4],
      [403, 5],
      [403, 2],
    ]);
    // Sent together, so any of the five may reach the KeyGuard first: the entry names whichever did.
    expect(firstDenied).toContain(denials[1]!.request_id);
    expect(entries.filter((e) => e.status === 200)).toHaveLength(3);
    expect(entries.filter((e) => e.status === 200).every((e) => e.count === undefined)).toBe(true);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: true, entries: 1 + 6 });
  }, 60_000);

  it("an eviction mid-minute loses nothing: the count carries on and the entry is still written", async () => {
    const key = await createKey({ models: ["mock/echo"] });
    await send(key.key, 5, (i) => denied(`before ${i}`), 403);
    await evict(key.id);
    await send(key.key, 3, (i) => denied(`after ${i}`), 403);
    await evict(key.id);
    // The new instance has the stored window and its alarm: once the minute is over, one entry.
    await setClock(key.id, testNow() + WINDOW_MS);
    expect(await runDurableObjectAlarm(guardOf(key.id))).toBe(true);
    expect((await requestEntries(key.id)).map((e) => [e.status, e.count])).toEqual([[403, 8]]);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: true, entries: 1 + 1 });
  }, 60_000);

  it("a read after the minute writes the entry even before the alarm", async () => {
    const key = await createKey({ models: ["mock/echo"] });
    const start = testNow();
    await setClock(key.id, start);
    await send(key.key, 2, (i) => denied(`read ${i}`), 403);
    await setClock(key.id, start + WINDOW_MS);
    expect((await requestEntries(key.id)).map((e) => [e.status, e.count])).toEqual([[403, 2]]);
  }, 30_000);
});
