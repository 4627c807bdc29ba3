import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { CONTROL_PLANE_LOG_ID, type ControlPlaneLog } from "../durable-objects/control-plane-log";
import { runVerifyCli } from "../src/audit/cli";
import { verifyExport } from "../src/audit/export";
import type { AuditReport } from "../src/audit/report";
import { verifyReport, verifyReportText } from "../src/audit/report-verify";
import { isAuditRead } from "../src/middleware/control-plane";
import { publishedKeys, waitForEntries } from "./support/audit";
import { testNow } from "./support/clock";
import { admin, BASE, chat, createKey, gatewayFetch } from "./support/gateway";
import { guardOf, setClock, sqlRows } from "./support/key-guard";
import type { KeyGuard } from "../durable-objects/key-guard";
import { adminRoutes, fillPath, label } from "./support/routes";

/**
 * The control-plane log (issue 15): one entry per state-changing admin request, actors from named
 * admin tokens, auditors read-only, tamper detection, and key rotation with a grace period.
 */

interface Entry {
  seq: number;
  kind?: string;
  actor?: string;
  action?: string;
  target?: string;
  request_id: string;
  change: Record<string, { before: unknown; after: unknown }> | null;
  ref_seq?: number;
  key_id: string;
  hash: string | null;
}

const cpLog = () => env.CONTROL_PLANE_LOG.getByName(CONTROL_PLANE_LOG_ID);

async function head(): Promise<number> {
  const res = await admin("/audit?limit=1");
  expect(res.status).toBe(200);
  return ((await res.json()) as { head: { seq: number } }).head.seq;
}

async function entriesAfter(after: number): Promise<Entry[]> {
  const out: Entry[] = [];
  for (let cursor = after; ;) {
    const res = await admin(`/audit?after=${cursor}&limit=500`);
    const page = (await res.json()) as { data: Entry[]; has_more: boolean };
    out.push(...page.data);
    if (!page.has_more || page.data.length === 0) return out;
    cursor = page.data.at(-1)!.seq;
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const isWrite = (method: string) => !["GET", "HEAD", "OPTIONS"].includes(method);

async function createAdminToken(name: string, role: "admin" | "auditor"): Promise<{ id: string; token: string }> {
  const res = await admin("/admin-tokens", { method: "POST", json: { name, role } });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

const ask = (key: string, content: string) => chat(key, { model: "mock/echo", messages: [{ role: "user", content }] });

describe("control-plane log: every state-changing admin route", () => {
  it("writes exactly one entry per successful request, and none that is not paired with a failure", async () => {
    const routes = adminRoutes().filter((r) => isWrite(r.method));
    expect(routes.length).toBeGreaterThan(8);
    const bodies: Record<string, unknown> = {
      "POST /admin/v1/keys": { name: "cp-enum" },
      "PATCH /admin/v1/keys/:id": { rpm: 17 },
      "POST /admin/v1/admin-tokens": { name: `cp-enum-${Date.now()}`, role: "auditor" },
      "POST /admin/v1/keys/:id/rotate": { grace_seconds: 5 },
      "POST /admin/v1/audit/reports": {},
    };
    const mustSucceed = new Set([
      "POST /admin/v1/keys",
      "PATCH /admin/v1/keys/:id",
      "POST /admin/v1/keys/:id/revoke",
      "POST /admin/v1/keys/:id/rotate",
      "POST /admin/v1/admin-tokens",
      "POST /admin/v1/admin-tokens/:id/revoke",
      "POST /admin/v1/audit/reports",
    ]);
    let succeeded = 0;
    for (const route of routes) {
      const key = await createKey({ name: "cp-enum-target" });
      const token = route.path.startsWith("/admin/v1/admin-tokens/") ? await createAdminToken(`cp-t-${crypto.randomUUID().slice(0, 8)}`, "auditor") : null;
      const path = fillPath(route, () => token?.id ?? key.id);
      const start = await head();
      const body = bodies[label(route)] ?? (route.method === "DELETE" ? undefined : { name: "cp-enum" });
      const res = await admin(path.replace(/^\/admin\/v1/, ""), { method: route.method, ...(body === undefined ? {} : { json: body }) });
      const requestId = res.headers.get("x-request-id");
      const mine = (await entriesAfter(start)).filter((e) => e.request_id === requestId);
      const what = `${label(route)} → ${res.status} ${await res.text()}`;
      if (mustSucceed.has(label(route))) expect(res.status, what).toBeLessThan(300);
      if (route.path.endsWith("/audit/verify")) {
        expect(mine, what).toEqual([]); // a read
      } else if (res.status < 400) {
        succeeded++;
        expect(mine.length, what).toBe(1);
        expect(mine[0]).toMatchObject({ kind: "admin", actor: "root", key_id: CONTROL_PLANE_LOG_ID });
        expect(mine[0]!.action).not.toBe("failed");
      } else {
        // Refused before its entry (validated first), or entry then `failed` pointing at it.
        expect([0, 2], what).toContain(mine.length);
        if (mine.length === 2) expect(mine[1]).toMatchObject({ action: "failed", ref_seq: mine[0]!.seq });
      }
    }
    expect(succeeded).toBeGreaterThanOrEqual(mustSucceed.size);
  }, 120_000);

  it("records a key's patch as before → after of its policy fields, never a secret", async () => {
    const key = await createKey({ name: "cp-diff", rpm: 10 });
    const start = await head();
    const res = await admin(`/keys/${key.id}`, { method: "PATCH", json: { rpm: 20, spend_cap_usd: 5 } });
    expect(res.status).toBe(200);
    const [entry] = await entriesAfter(start);
    expect(entry).toMatchObject({
      action: "key.patch",
      target: `key:${key.id}`,
      change: { rpm: { before: 10, after: 20 }, spend_cap_micros: { before: null, after: 5_000_000 } },
    });
    expect(Object.keys(entry!.change!).sort()).toEqual(["rpm", "spend_cap_micros"]);
    const all = JSON.stringify(await entriesAfter(0));
    expect(all).not.toContain(key.key.slice(3, 40));
  });
});

describe("named admin tokens", () => {
  let auditor: { id: string; token: string };

  beforeAll(async () => {
    auditor = await createAdminToken(`auditor-${crypto.randomUUID().slice(0, 8)}`, "auditor");
  });

  it("lists tokens without secrets, and names the actor of each entry", async () => {
    const alice = await createAdminToken(`alice-${crypto.randomUUID().slice(0, 8)}`, "admin");
    const listed = await (await admin("/admin-tokens")).text();
    expect(listed).not.toContain(alice.token);
    expect(listed).not.toContain("secret_hash");
    const start = await head();
    const res = await admin("/keys", { method: "POST", json: { name: "by-alice" }, headers: bearer(alice.token) });
    expect(res.status).toBe(201);
    const [entry] = await entriesAfter(start);
    expect(entry!.actor).toMatch(/^alice-/);
    expect(entry!.action).toBe("key.create");
    // Revoked: refused at once on this isolate.
    expect((await admin(`/admin-tokens/${alice.id}/revoke`, { method: "POST" })).status).toBe(200);
    const after = await admin("/keys", { headers: bearer(alice.token) });
    expect(after.status).toBe(401);
  });

  it("refuses 'root' and a taken name", async () => {
    expect((await admin("/admin-tokens", { method: "POST", json: { name: "root", role: "admin" } })).status).toBe(400);
    expect((await admin("/admin-tokens", { method: "POST", json: { name: "System", role: "admin" } })).status).toBe(400);
    const name = `dup-${crypto.randomUUID().slice(0, 8)}`;
    await createAdminToken(name, "auditor");
    const again = await admin("/admin-tokens", { method: "POST", json: { name, role: "admin" } });
    expect(again.status).toBe(409);
  });

  it("an auditor gets 403 forbidden on every write route, and writes no entry", async () => {
    const key = await createKey({ name: "cp-auditor-target" });
    const start = await head();
    const writes = adminRoutes().filter(
      (r) =>
        isWrite(r.method) &&
        !isAuditRead(
          r.method,
          fillPath(r, () => key.id),
        ),
    );
    expect(writes.length).toBeGreaterThan(6);
    for (const route of writes) {
      const res = await admin(fillPath(route, () => key.id).replace(/^\/admin\/v1/, ""), {
        method: route.method,
        json: { name: "x" },
        headers: bearer(auditor.token),
      });
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(res.status, label(route)).toBe(403);
      expect(Object.keys(body.error).sort()).toEqual(["code", "message", "request_id"]);
      expect(body.error.code).toBe("forbidden");
    }
    expect(await entriesAfter(start)).toEqual([]);
  }, 60_000);

  it("an auditor reads everything, verifies, and issues reports", async () => {
    for (const route of adminRoutes().filter((r) => r.method === "GET" && r.params.length === 0)) {
      const res = await gatewayFetch(`${BASE}${route.path}`, { headers: bearer(auditor.token) });
      expect(res.status, label(route)).toBe(200);
    }
    expect((await admin("/audit/verify", { method: "POST", headers: bearer(auditor.token) })).status).toBe(200);
    const report = await admin("/audit/reports", { method: "POST", headers: bearer(auditor.token) });
    expect(report.status).toBe(201);
  });
});

describe("audit export", () => {
  it("streams a log as JSON Lines that verify offline; a cut or edited export fails", async () => {
    const key = await createKey({ name: "cp-export" });
    for (let i = 0; i < 3; i++) expect((await ask(key.key, `export ${i}`)).status).toBe(200);
    expect((await admin(`/keys/${key.id}`, { method: "PATCH", json: { rpm: 99 } })).status).toBe(200);
    const trusted = (await publishedKeys()).map((k) => k.verifier_key);

    const keyExport = await admin(`/audit/export?key_id=${key.id}`);
    expect(keyExport.status).toBe(200);
    expect(keyExport.headers.get("content-type")).toContain("application/x-ndjson");
    const keyText = await keyExport.text();
    const lines = keyText.trim().split("\n");
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: "export", log: key.id, from_seq: 1 });
    expect(lines.some((l) => l.includes('"action\\":\\"key.patch'))).toBe(true);
    expect((await verifyExport(keyText, trusted)).ok).toBe(true);

    const cpText = await (await admin("/audit/export?from=1&to=2")).text();
    const cp = await verifyExport(cpText, trusted);
    expect(cp.checks.at(-1)?.detail).toContain("seqs 1..2");
    expect(cp.ok).toBe(true);

    // Offline, through the CLI's logic: ok, then a line dropped, then an entry edited.
    const io = (text: string, out: string[]) => ({ readText: () => Promise.resolve(text), out: (l: string) => void out.push(l), err: () => undefined });
    const keyArgs = trusted.flatMap((k) => ["--key", k]);
    expect(await runVerifyCli(["export.jsonl", ...keyArgs], io(keyText, []))).toBe(0);
    const cut = lines.filter((_, i) => i !== 2).join("\n");
    expect(await runVerifyCli(["export.jsonl", ...keyArgs], io(cut, []))).toBe(1);
    const noEnd = lines.slice(0, -1).join("\n");
    expect((await verifyExport(noEnd, trusted)).ok).toBe(false);
    const edited = keyText.replace('\\"rpm\\":{\\"after\\":99', '\\"rpm\\":{\\"after\\":98');
    expect(edited).not.toBe(keyText);
    expect((await verifyExport(edited, trusted)).ok).toBe(false);

    expect((await admin(`/audit/export?from=5&to=2`)).status).toBe(400);
    expect((await admin(`/audit/export?key_id=AAAAAAAAAAAAAAAA`)).status).toBe(404);
  });
});

describe("a key's own log: expiry", () => {
  const keyLog = async (id: string) => ((await (await admin(`/keys/${id}/audit?limit=500`)).json()) as { data: Entry[] }).data;
  const expiries = (entries: Entry[]) => entries.filter((e) => e.kind === "admin" && e.action === "key.expire");

  it("the first request after expires_at writes key.expire (once, before anything later), and the log verifies", async () => {
    const expiresAt = testNow() + 60_000;
    const key = await createKey({ name: "cp-expire", expires_at: new Date(expiresAt).toISOString() });
    expect((await ask(key.key, "before expiry")).status).toBe(200);
    expect(expiries(await keyLog(key.id))).toEqual([]);
    await setClock(key.id, expiresAt);
    const refused = await ask(key.key, "after expiry");
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("key_expired");
    expect((await ask(key.key, "again")).status).toBe(401);
    const entries = await keyLog(key.id);
    expect(expiries(entries)).toHaveLength(1);
    expect(entries.at(-1)).toMatchObject({
      kind: "admin",
      action: "key.expire",
      actor: "system",
      target: `key:${key.id}`,
      key_id: key.id,
      request_id: refused.headers.get("x-request-id"),
      change: { expired_at: { before: null, after: expiresAt } },
    });
    expect((await (await admin(`/keys/${key.id}/audit/verify`, { method: "POST" })).json()) as { valid: boolean }).toMatchObject({ valid: true });
  });

  it("a log read after expires_at shows key.expire even with no request; a revoked key never expires", async () => {
    const expiresAt = testNow() + 60_000;
    const key = await createKey({ name: "cp-expire-read", expires_at: new Date(expiresAt).toISOString() });
    expect((await ask(key.key, "used once")).status).toBe(200);
    await setClock(key.id, expiresAt + 1);
    const verified = (await (await admin(`/keys/${key.id}/audit/verify`, { method: "POST" })).json()) as { valid: boolean; entries: number };
    expect(verified.valid).toBe(true);
    const entries = await keyLog(key.id);
    expect(verified.entries).toBe(entries.length);
    expect(expiries(entries)).toEqual([
      expect.objectContaining({ actor: "system", request_id: "", change: { expired_at: { before: null, after: expiresAt } } }),
    ]);

    const revoked = await createKey({ name: "cp-expire-revoked", expires_at: new Date(expiresAt).toISOString() });
    expect((await ask(revoked.key, "used once")).status).toBe(200);
    expect((await admin(`/keys/${revoked.id}/revoke`, { method: "POST" })).status).toBe(200);
    await setClock(revoked.id, expiresAt + 1);
    expect((await ask(revoked.key, "after both")).status).toBe(401);
    const revokedLog = await keyLog(revoked.id);
    expect(expiries(revokedLog)).toEqual([]);
    expect(revokedLog.at(-1)).toMatchObject({ action: "key.revoke" });
  });
});

describe("audit export by time", () => {
  it("from/to as ISO-8601 times export exactly the entries stamped in [from, to), and the export verifies", async () => {
    const key = await createKey({ name: "cp-export-time" });
    const hour = 3_600_000;
    const base = testNow() + 24 * hour; // clear of every entry stamped on the real clock
    for (const [i, at] of [base, base + hour, base + 2 * hour].entries()) {
      await setClock(key.id, at);
      for (let n = 0; n < 2; n++) expect((await ask(key.key, `export-time ${i}.${n}`)).status).toBe(200);
      // Settles run after the response (waitUntil): let them land before the clock moves on.
      await vi.waitFor(
        async () => {
          const usage = ((await (await admin(`/keys/${key.id}`)).json()) as { usage: { requests: number } }).usage;
          expect(usage.requests).toBe(2 * (i + 1));
        },
        { timeout: 5000 },
      );
    }
    const iso = (t: number) => new Date(t).toISOString();
    const res = await admin(`/audit/export?key_id=${key.id}&from=${iso(base + hour)}&to=${iso(base + 2 * hour)}`);
    expect(res.status, await res.clone().text()).toBe(200);
    const text = await res.text();
    const entries = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; entry?: string })
      .filter((l) => l.type === "entry")
      .map((l) => JSON.parse(l.entry!) as { ts: number; status: number });
    expect(entries.map((e) => e.ts)).toEqual([base + hour, base + hour]);
    const trusted = (await publishedKeys()).map((k) => k.verifier_key);
    expect((await verifyExport(text, trusted)).ok).toBe(true);
    const io = { readText: () => Promise.resolve(text), out: () => undefined, err: () => undefined };
    expect(await runVerifyCli(["export.jsonl", ...trusted.flatMap((k) => ["--key", k])], io)).toBe(0);

    // Open-ended: from the first window on; the control-plane log by time too.
    const open = await (await admin(`/audit/export?key_id=${key.id}&from=${iso(base)}`)).text();
    expect(open.split("\n").filter((l) => l.startsWith('{"type":"entry"')).length).toBe(6);
    expect((await admin(`/audit/export?from=${iso(testNow() - hour)}`)).status).toBe(200);

    // Bad ranges: a clear 400, never a 500.
    for (const query of [
      `from=1&to=${iso(base)}`,
      `from=${iso(base + 9 * hour)}`,
      `from=${iso(base)}&to=${iso(base)}`,
      "from=yesterday",
      "to=2026-13-40T00:00:00Z",
    ]) {
      const bad = await admin(`/audit/export?key_id=${key.id}&${query}`);
      expect(bad.status, query).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
    }
  });
});

describe("control-plane log: tamper evidence", () => {
  it("verify, reports and the report verifier detect a changed row", async () => {
    await createKey({ name: "cp-tamper" });
    const res = await admin("/audit/reports", { method: "POST" });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const report = (await (await gatewayFetch(`${BASE}/reports/${id}.json`)).json()) as AuditReport;
    const trusted = (await publishedKeys()).map((k) => k.verifier_key);
    expect(report.key_id).toBe(CONTROL_PLANE_LOG_ID);
    expect(report.origin).toBe(`keyforge.dev/audit/${CONTROL_PLANE_LOG_ID}`);
    expect((await verifyReport(report, trusted, { reportId: id })).ok).toBe(true);
    expect((await (await admin("/audit/verify", { method: "POST" })).json()) as { valid: boolean }).toMatchObject({ valid: true });

    // The report as the public page checks it: one entry's actor changed.
    const forged = structuredClone(report);
    forged.entries[0]!.entry = forged.entries[0]!.entry.replace('"actor":"root"', '"actor":"eve!"');
    const checked = await verifyReport(forged, trusted, { reportId: id });
    expect(checked.ok).toBe(false);

    // The stored row: the chain names it, and no report can be issued over it.
    const seq = report.range.from_seq;
    await runInDurableObject(cpLog(), (_i: ControlPlaneLog, state) => {
      state.storage.sql.exec(`UPDATE audit_entries SET entry = replace(entry, '"actor":"root"', '"actor":"eve!"') WHERE seq = ?`, seq);
    });
    const verified = (await (await admin("/audit/verify", { method: "POST" })).json()) as { valid: boolean; first_invalid_seq: number };
    expect(verified).toMatchObject({ valid: false, first_invalid_seq: seq });
    const refused = await admin("/audit/reports", { method: "POST", json: { from_seq: seq, to_seq: seq } });
    expect(refused.status).toBe(409);
  });
});

describe("key rotation", () => {
  it("the previous token works until the grace ends, then 401 key_rotated; the new one works", async () => {
    const key = await createKey({ name: "rotate-grace" });
    expect((await ask(key.key, "before rotation")).status).toBe(200);
    const t0 = testNow();
    const res = await admin(`/keys/${key.id}/rotate`, { method: "POST", json: { grace_seconds: 60 } });
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as { key: string; previous_key_valid_until: string };
    expect(rotated.key).not.toBe(key.key);
    const until = Date.parse(rotated.previous_key_valid_until);
    expect((await ask(rotated.key, "new")).status).toBe(200);
    await setClock(key.id, until - 1);
    expect((await ask(key.key, "just before")).status).toBe(200);
    await setClock(key.id, until);
    const late = await ask(key.key, "just after");
    expect(late.status).toBe(401);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe("key_rotated");
    expect((await ask(rotated.key, "new after grace")).status).toBe(200);
    expect(until - t0).toBeGreaterThanOrEqual(59_000);
  });

  it("grace 0 ends the previous token at once; default is 24 h; audited in both logs", async () => {
    const key = await createKey({ name: "rotate-now" });
    expect((await ask(key.key, "activate")).status).toBe(200);
    const start = await head();
    const res = await admin(`/keys/${key.id}/rotate`, { method: "POST", json: { grace_seconds: 0 } });
    const rotated = (await res.json()) as { key: string };
    const old = await ask(key.key, "old");
    expect(old.status).toBe(401);
    expect(((await old.json()) as { error: { code: string } }).error.code).toBe("key_rotated");
    expect((await ask(rotated.key, "new")).status).toBe(200);
    const [entry] = await entriesAfter(start);
    expect(entry).toMatchObject({ action: "key.rotate", target: `key:${key.id}` });
    expect(entry!.change!.last4).toBeDefined();
    const keyLog = (await (await admin(`/keys/${key.id}/audit?limit=500`)).json()) as { data: Entry[] };
    expect(keyLog.data.some((e) => e.kind === "admin" && e.action === "key.rotate" && e.key_id === key.id)).toBe(true);
    expect((await (await admin(`/keys/${key.id}/audit/verify`, { method: "POST" })).json()) as { valid: boolean }).toMatchObject({ valid: true });

    const other = await createKey({ name: "rotate-default" });
    const def = (await (await admin(`/keys/${other.id}/rotate`, { method: "POST" })).json()) as { previous_key_valid_until: string };
    expect(Date.parse(def.previous_key_valid_until) - Date.now()).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect((await ask(other.key, "old within default grace")).status).toBe(200);
  });

  it("refuses a revoked key and a bad grace", async () => {
    const key = await createKey({ name: "rotate-bad" });
    expect((await admin(`/keys/${key.id}/rotate`, { method: "POST", json: { grace_seconds: -1 } })).status).toBe(400);
    expect((await admin(`/keys/${key.id}/revoke`, { method: "POST" })).status).toBe(200);
    expect((await admin(`/keys/${key.id}/rotate`, { method: "POST" })).status).toBe(400);
  });
});

describe("a key's own log: its policy history from before first use", () => {
  const keyLog = async (id: string) => ((await (await admin(`/keys/${id}/audit?limit=500`)).json()) as { data: Entry[] }).data;
  const cpEntriesOf = async (start: number, id: string) => (await entriesAfter(start)).filter((e) => e.target === `key:${id}`);
  /** The control-plane entry as the key's copy must show it: same fields, its seq as ref_seq. */
  const copyOf = (e: Entry & { ts?: number }, keyId: string) => ({
    kind: "admin",
    key_id: keyId,
    ts: e.ts,
    request_id: e.request_id,
    actor: e.actor,
    action: e.action,
    target: e.target,
    change: e.change,
    ref_seq: e.seq,
  });

  it("the first request copies key.create and the changes before it; later changes come by push; each once; it verifies", async () => {
    const start = await head();
    const key = await createKey({ name: "cp-history", rpm: 10 });
    expect((await admin(`/keys/${key.id}`, { method: "PATCH", json: { rpm: 20 } })).status).toBe(200);
    const alice = await createAdminToken(`hist-${crypto.randomUUID().slice(0, 8)}`, "admin");
    const rotated = (await (await admin(`/keys/${key.id}/rotate`, { method: "POST", json: { grace_seconds: 60 }, headers: bearer(alice.token) })).json()) as {
      key: string;
    };
    const before = await cpEntriesOf(start, key.id);
    expect(before.map((e) => e.action)).toEqual(["key.create", "key.patch", "key.rotate"]);

    const first = await ask(rotated.key, "history first use");
    expect(first.status).toBe(200);
    const log = await keyLog(key.id);
    expect(log.slice(0, 3)).toEqual(before.map((e) => expect.objectContaining(copyOf(e, key.id))));
    expect(log[0]!.change).toMatchObject({ name: { before: null, after: "cp-history" }, rpm: { before: null, after: 10 } });
    expect(log[2]!.actor).toMatch(/^hist-/);
    expect(log[3]).toMatchObject({ seq: 4, request_id: first.headers.get("x-request-id") });
    expect(log[3]!.kind).toBeUndefined();

    // After first use: the push brings the change, with its control-plane seq, and nothing is copied again.
    const mark = await head();
    expect((await admin(`/keys/${key.id}`, { method: "PATCH", json: { rpm: 30 } })).status).toBe(200);
    expect((await ask(rotated.key, "history second")).status).toBe(200);
    const [later] = await cpEntriesOf(mark, key.id);
    const after = await keyLog(key.id);
    const refs = after.filter((e) => e.kind === "admin").map((e) => e.ref_seq);
    expect(refs).toEqual([...before.map((e) => e.seq), later!.seq]);
    // Stamped when the KeyGuard applied it, so only its time may differ from the control-plane entry.
    expect(after.find((e) => e.ref_seq === later!.seq)).toMatchObject({ ...copyOf(later!, key.id), ts: expect.any(Number) });

    expect((await (await admin(`/keys/${key.id}/audit/verify`, { method: "POST" })).json()) as { valid: boolean }).toMatchObject({ valid: true });
    const made = await admin(`/keys/${key.id}/audit/reports`, { method: "POST", json: {} });
    expect(made.status).toBe(201);
    const { id } = (await made.json()) as { id: string };
    const text = await (await gatewayFetch(`${BASE}/reports/${id}.json`)).text();
    const report = JSON.parse(text) as AuditReport;
    expect(report.range.from_seq).toBe(1);
    expect(report.entries[0]!.entry).toContain('"action":"key.create"');
    const trusted = (await publishedKeys()).map((k) => k.verifier_key);
    // The public page's check and keyforge-verify's logic, on the same bytes.
    expect((await verifyReportText(text, trusted, { reportId: id })).ok).toBe(true);
    const io = { readText: () => Promise.resolve(text), out: () => undefined, err: () => undefined };
    expect(await runVerifyCli(["report.json", ...trusted.flatMap((k) => ["--key", k])], io)).toBe(0);
  });

  it("a key refused at its first request: revoked → create, revoke; expired → create, key.expire", async () => {
    const revoked = await createKey({ name: "cp-history-revoked" });
    expect((await admin(`/keys/${revoked.id}/revoke`, { method: "POST" })).status).toBe(200);
    expect((await ask(revoked.key, "revoked first")).status).toBe(401);
    expect((await keyLog(revoked.id)).map((e) => [e.seq, e.action])).toEqual([
      [1, "key.create"],
      [2, "key.revoke"],
    ]);

    const expiresAt = testNow() + 60_000;
    const expired = await createKey({ name: "cp-history-expired", expires_at: new Date(expiresAt).toISOString() });
    await setClock(expired.id, expiresAt + 1);
    const refused = await ask(expired.key, "expired first");
    expect(refused.status).toBe(401);
    const log = await keyLog(expired.id);
    expect(log.map((e) => [e.seq, e.action, e.actor])).toEqual([
      [1, "key.create", "root"],
      [2, "key.expire", "system"],
    ]);
    expect(log[1]!.request_id).toBe(refused.headers.get("x-request-id"));
  });

  it("when the control-plane log cannot be reached at first use, the request goes ahead and the next read copies the history", async () => {
    const key = await createKey({ name: "cp-history-late" });
    await runInDurableObject(guardOf(key.id), (instance: KeyGuard) => {
      const self = instance as unknown as { env: Cloudflare.Env };
      const unreachable = {
        getByName: () => {
          throw new Error("control-plane log unreachable (test)");
        },
      };
      self.env = { ...self.env, CONTROL_PLANE_LOG: unreachable as unknown as Cloudflare.Env["CONTROL_PLANE_LOG"] };
    });
    const res = await ask(key.key, "history unreachable");
    expect(res.status).toBe(200);
    await waitForEntries(key.id, 1);
    expect((await sqlRows<{ entry: string }>(key.id, "select entry from audit_entries")).map((r) => JSON.parse(r.entry).action ?? "request")).toEqual([
      "request",
    ]);
    await runInDurableObject(guardOf(key.id), (instance: KeyGuard) => {
      (instance as unknown as { env: Cloudflare.Env }).env = env;
    });
    const log = await keyLog(key.id);
    expect(log.map((e) => e.action ?? e.request_id)).toEqual([res.headers.get("x-request-id"), "key.create"]);
    expect(log[1]).toMatchObject({ seq: 2, ref_seq: expect.any(Number), actor: "root" });
    expect((await keyLog(key.id)).length).toBe(2);
  });

  it("a reload of the record after the copy (a restart before the request) copies nothing twice and loses nothing", async () => {
    const key = await createKey({ name: "cp-history-reload" });
    expect((await admin(`/keys/${key.id}`, { method: "PATCH", json: { rpm: 40 } })).status).toBe(200);
    // First use without a request entry: /v1/models loads the record and copies the history.
    expect((await gatewayFetch(`${BASE}/v1/models`, { headers: bearer(key.key) })).status).toBe(200);
    expect((await keyLog(key.id)).map((e) => e.action)).toEqual(["key.create", "key.patch"]);
    // The in-memory record is gone, so the next request loads it from D1 and fetches the history again.
    await runInDurableObject(guardOf(key.id), (instance: KeyGuard) => {
      (instance as unknown as { record: null }).record = null;
    });
    const res = await ask(key.key, "after reload");
    expect(res.status).toBe(200);
    const log = await keyLog(key.id);
    expect(log.map((e) => e.action ?? e.request_id)).toEqual(["key.create", "key.patch", res.headers.get("x-request-id")]);
    expect((await (await admin(`/keys/${key.id}/audit/verify`, { method: "POST" })).json()) as { valid: boolean }).toMatchObject({ valid: true });
  });
});
