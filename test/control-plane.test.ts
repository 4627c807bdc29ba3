import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { CONTROL_PLANE_LOG_ID, type ControlPlaneLog } from "../durable-objects/control-plane-log";
import { runVerifyCli } from "../src/audit/cli";
import { verifyExport } from "../src/audit/export";
import type { AuditReport } from "../src/audit/report";
import { verifyReport } from "../src/audit/report-verify";
import { isAuditRead } from "../src/middleware/control-plane";
import { publishedKeys } from "./support/audit";
import { testNow } from "./support/clock";
import { admin, BASE, chat, createKey, gatewayFetch } from "./support/gateway";
import { setClock } from "./support/key-guard";
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
