import { Hono } from "hono";
import * as z from "zod";
import { budgetMembers, deleteUnusedBudget, insertBudget, listBudgets, loadBudget, updateBudget } from "../../budgets/catalogue";
import { BUDGET_ID, limitsInput, limitView } from "../../budgets/limits-input";
import type { BudgetRecord, BudgetUsage } from "../../budgets/types";
import type { AppEnv, Env } from "../../env";
import { GatewayError } from "../../errors";
import { randomBase62 } from "../../keys/token";
import { readBody } from "../../lib/request-body";

/**
 * Shared budgets: window limits enforced together across every key that joins one (`budget_id` on
 * the key). D1 holds the catalogue; the budget's BudgetGuard holds its ledgers and reservations and
 * gets every change pushed (it keeps the newest version, so pushes may arrive in any order).
 */
export const budgetsRoutes = new Hono<AppEnv>();

const name = z.string().trim().min(1).max(128);
export const createBudgetSchema = z.strictObject({ name, limits: limitsInput });
export const patchBudgetSchema = z
  .strictObject({ name: name.optional(), limits: limitsInput.optional() })
  .refine((v) => v.name !== undefined || v.limits !== undefined, "at least one field is required");

const guard = (env: Env, id: string) => env.BUDGET_GUARD.getByName(id);
const notFound = (id: string) => new GatewayError("not_found", `No budget with id '${id}'.`);

function budgetView(record: BudgetRecord) {
  return {
    id: record.id,
    object: "budget" as const,
    name: record.name,
    limits: record.limits.map(limitView),
    version: record.version,
    created_at: new Date(record.createdAt).toISOString(),
    updated_at: new Date(record.updatedAt).toISOString(),
  };
}

/** The budget with its usage per window and per member key (members from D1, their shares from the BudgetGuard). */
async function detailView(env: Env, record: BudgetRecord, usage: BudgetUsage) {
  const members = await budgetMembers(env.DB, record.id);
  return {
    ...budgetView(record),
    usage: usage.windows,
    members: members.map((m) => ({ key_id: m.id, name: m.name, usage: usage.members[m.id] ?? [] })),
  };
}

budgetsRoutes.post("/", async (c) => {
  const input = await readBody(c, createBudgetSchema);
  const now = Date.now();
  const record: BudgetRecord = { id: `bud_${randomBase62(16)}`, name: input.name, limits: input.limits, version: 1, createdAt: now, updatedAt: now };
  await insertBudget(c.env.DB, record);
  // A BudgetGuard that misses this push loads the budget from D1 at its first reservation.
  await guard(c.env, record.id).configure(record);
  return c.json(budgetView(record), 201, { etag: `"${record.version}"` });
});

budgetsRoutes.get("/", async (c) => {
  const records = await listBudgets(c.env.DB);
  return c.json({ object: "list", data: records.map(budgetView) });
});

budgetsRoutes.get("/:id", async (c) => {
  const id = c.req.param("id");
  const record = BUDGET_ID.test(id) ? await loadBudget(c.env.DB, id) : null;
  if (!record) throw notFound(id);
  const usage = await guard(c.env, id).configure(record);
  return c.json(await detailView(c.env, record, usage), 200, { etag: `"${record.version}"` });
});

budgetsRoutes.patch("/:id", async (c) => {
  const id = c.req.param("id");
  if (!BUDGET_ID.test(id)) throw notFound(id);
  const raw = c.req.header("if-match")?.trim();
  const match = raw === undefined || raw === "*" ? null : /^(?:"(\d{1,15})"|(\d{1,15}))$/.exec(raw);
  if (raw !== undefined && raw !== "*" && !match) {
    throw new GatewayError("invalid_request", `If-Match must be one version of the budget, e.g. If-Match: "3" (its ETag).`, { param: "If-Match" });
  }
  const expected = match ? Number(match[1] ?? match[2]) : null;
  const input = await readBody(c, patchBudgetSchema);
  const changes = { ...(input.name === undefined ? {} : { name: input.name }), ...(input.limits === undefined ? {} : { limits: input.limits }) };
  const record = await updateBudget(c.env.DB, id, changes, expected, Date.now());
  if (!record) {
    const current = await loadBudget(c.env.DB, id);
    if (!current) throw notFound(id);
    throw new GatewayError("conflict", `The budget was changed meanwhile: its version is ${current.version}, not ${expected}.`, { param: "If-Match" });
  }
  const usage = await guard(c.env, id).configure(record);
  return c.json(await detailView(c.env, record, usage), 200, { etag: `"${record.version}"` });
});

/**
 * Deletes a budget that no key draws on any more; 409 while member keys remain (detach them first
 * with PATCH /admin/v1/keys/:id {"budget_id": null}), so a delete never silently removes a cap
 * that keys are spending under. Recorded in the control-plane log like every admin write.
 */
budgetsRoutes.delete("/:id", async (c) => {
  const id = c.req.param("id");
  if (!BUDGET_ID.test(id)) throw notFound(id);
  const outcome = await deleteUnusedBudget(c.env.DB, id);
  if (outcome === "not_found") throw notFound(id);
  if (outcome === "in_use") {
    const members = await budgetMembers(c.env.DB, id);
    throw new GatewayError(
      "conflict",
      `The budget still has ${members.length} member key(s); detach them first (PATCH /admin/v1/keys/:id with budget_id null).`,
    );
  }
  await guard(c.env, id).retire();
  return c.json({ id, object: "budget", deleted: true });
});
