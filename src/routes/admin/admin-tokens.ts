import { Hono } from "hono";
import * as z from "zod";
import {
  ADMIN_ROLES,
  adminTokenView,
  forgetAdminToken,
  generateAdminToken,
  hashAdminSecret,
  insertAdminToken,
  listAdminTokens,
  loadAdminToken,
  nameTaken,
  revokeAdminToken,
  ROOT_ACTOR,
  type AdminTokenRow,
} from "../../admin/admin-tokens";
import { SYSTEM_ACTOR } from "../../../durable-objects/key-guard-history";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { readBody } from "../../lib/request-body";
import { recordChange, recordsOwnEntry } from "../../middleware/control-plane";

/**
 * Named admin tokens (mounted at /admin/v1/admin-tokens): create (the token is shown once), list
 * (no secrets), revoke. The name is the actor of every control-plane entry the token writes, so
 * names are unique for good (a revoked token's name stays taken) and "root" is ADMIN_TOKEN's.
 */
export const adminTokensRoutes = new Hono<AppEnv>();

export const createAdminTokenInput = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, "1 to 64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit")
    .refine((n) => n.toLowerCase() !== ROOT_ACTOR, `'${ROOT_ACTOR}' is the name of ADMIN_TOKEN`)
    .refine((n) => n.toLowerCase() !== SYSTEM_ACTOR, `'${SYSTEM_ACTOR}' is the actor of entries no admin made (a key's expiry)`),
  role: z.enum(ADMIN_ROLES as [string, ...string[]]),
});

const TOKEN_ID = /^[0-9A-Za-z]{16}$/;
const notFound = (id: string) => new GatewayError("not_found", `No admin token with id '${id}'.`);

adminTokensRoutes.post("/", recordsOwnEntry, async (c) => {
  const input = await readBody(c, createAdminTokenInput);
  if (await nameTaken(c.env.DB, input.name))
    throw new GatewayError("conflict", `An admin token named '${input.name}' exists (or existed): names are not reused.`);
  const { id, secret, token } = generateAdminToken();
  const row: AdminTokenRow = {
    id,
    name: input.name,
    role: input.role === "admin" ? "admin" : "auditor",
    secretHash: await hashAdminSecret(c.env.KEY_PEPPER, id, secret),
    last4: secret.slice(-4),
    createdBy: c.get("actor").name,
    createdAt: Date.now(),
    revokedAt: null,
  };
  await recordChange(c, {
    action: "admin_token.create",
    target: `admin_token:${id}`,
    change: { name: { before: null, after: row.name }, role: { before: null, after: row.role }, last4: { before: null, after: row.last4 } },
  });
  try {
    await insertAdminToken(c.env.DB, row);
  } catch {
    // Two creations with one name at once: the unique index lets one through.
    throw new GatewayError("conflict", `An admin token named '${input.name}' exists (or existed): names are not reused.`);
  }
  forgetAdminToken(id);
  return c.json({ ...adminTokenView(row), token }, 201);
});

adminTokensRoutes.get("/", async (c) => {
  return c.json({ object: "list", data: (await listAdminTokens(c.env.DB)).map(adminTokenView) });
});

adminTokensRoutes.post("/:id/revoke", recordsOwnEntry, async (c) => {
  const id = c.req.param("id");
  const current = TOKEN_ID.test(id) ? await loadAdminToken(c.env.DB, id) : null;
  if (!current) throw notFound(id);
  const now = Date.now();
  // Revoking a revoked token changes nothing: still one entry (the request happened), with no change.
  const change = current.revokedAt === null ? { revoked_at: { before: null, after: now } } : null;
  await recordChange(c, { action: "admin_token.revoke", target: `admin_token:${id}`, change });
  if (current.revokedAt !== null) return c.json(adminTokenView(current));
  const row = await revokeAdminToken(c.env.DB, id, now);
  if (!row) throw notFound(id);
  return c.json(adminTokenView(row));
});
