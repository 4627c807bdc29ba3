import * as z from "zod/mini";
import type { ApiClient } from "./client";
import { auditPageSchema, listOf, reportLinkSchema, verifyResultSchema } from "./schemas";

/** The control-plane log (/admin/v1/audit) and named admin tokens (/admin/v1/admin-tokens). */

export const adminTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  last4: z.string(),
  created_by: z.string(),
  created_at: z.number(),
  revoked_at: z.nullable(z.number()),
});

export const createdAdminTokenSchema = z.extend(adminTokenSchema, { token: z.string() });

export type AdminToken = z.infer<typeof adminTokenSchema>;
export type CreatedAdminToken = z.infer<typeof createdAdminTokenSchema>;
export type AdminRole = "admin" | "auditor";

const seg = encodeURIComponent;

export function controlPlaneApi(client: ApiClient) {
  return {
    controlPlanePage: (after: number | null, limit: number) => {
      const params = new URLSearchParams({ limit: String(limit) });
      if (after !== null) params.set("after", String(after));
      return client.request(auditPageSchema, "GET", `/admin/v1/audit?${params.toString()}`);
    },
    verifyControlPlane: () => client.request(verifyResultSchema, "POST", "/admin/v1/audit/verify", {}),
    shareControlPlaneReport: (range: { from_seq?: number; to_seq?: number }) => client.request(reportLinkSchema, "POST", "/admin/v1/audit/reports", range),

    listAdminTokens: async () => (await client.request(listOf(adminTokenSchema), "GET", "/admin/v1/admin-tokens")).data,
    createAdminToken: (input: { name: string; role: AdminRole }) => client.request(createdAdminTokenSchema, "POST", "/admin/v1/admin-tokens", input),
    revokeAdminToken: (id: string) => client.request(adminTokenSchema, "POST", `/admin/v1/admin-tokens/${seg(id)}/revoke`),
  };
}
