import * as z from "zod/mini";
import type { ApiClient } from "./client";
import {
  auditPageSchema,
  createdKeySchema,
  listOf,
  providerKeySchema,
  providerSchema,
  reportLinkSchema,
  usageResponseSchema,
  verifyResultSchema,
  virtualKeySchema,
} from "./schemas";
import { budgetsApi, type WindowLimitInput } from "./budgets-api";
import { controlPlaneApi } from "./control-plane-api";
import { webhooksApi } from "./webhooks-api";

/** The admin API, one function per route (design.md, "Admin API"). */

export interface KeyPolicyInput {
  name?: string;
  models?: string[];
  monthly_token_quota?: number | null;
  spend_cap_usd?: number | null;
  rpm?: number | null;
  tpm?: number | null;
  expires_at?: string | null;
  metadata?: Record<string, unknown>;
  /** Hour / day / week limits (the month is the two shorthands above); see budgets-api.ts. */
  limits?: WindowLimitInput[];
  budget_id?: string | null;
}

export interface UsageQuery {
  key_id?: string;
  from: string;
  to: string;
  granularity: "hour" | "day";
  /** model (default): per key and model; tag / user: per x-keyforge-tags tag or end-user id. */
  group_by?: "model" | "tag" | "user";
}

const seg = encodeURIComponent;
const deletedSchema = z.object({ id: z.string() });

export function adminApi(client: ApiClient) {
  return {
    listKeys: async () => (await client.request(listOf(virtualKeySchema), "GET", "/admin/v1/keys")).data,
    createKey: (input: KeyPolicyInput & { name: string }) => client.request(createdKeySchema, "POST", "/admin/v1/keys", input),
    updateKey: (id: string, input: KeyPolicyInput) => client.request(virtualKeySchema, "PATCH", `/admin/v1/keys/${seg(id)}`, input),
    revokeKey: (id: string) => client.request(virtualKeySchema, "POST", `/admin/v1/keys/${seg(id)}/revoke`),

    listProviderKeys: async () => (await client.request(listOf(providerKeySchema), "GET", "/admin/v1/provider-keys")).data,
    addProviderKey: (input: { provider: string; key: string; name?: string; scope?: string }) =>
      client.request(providerKeySchema, "POST", "/admin/v1/provider-keys", input),
    deleteProviderKey: (id: string) => client.request(deletedSchema, "DELETE", `/admin/v1/provider-keys/${seg(id)}`),
    setProviderKeyEnabled: (id: string, enabled: boolean) =>
      client.request(providerKeySchema, "POST", `/admin/v1/provider-keys/${seg(id)}/${enabled ? "enable" : "disable"}`),

    listProviders: async () => (await client.request(listOf(providerSchema), "GET", "/admin/v1/providers")).data,
    addProvider: (input: { name: string; type: "openai-compatible"; base_url: string }) => client.request(providerSchema, "POST", "/admin/v1/providers", input),

    usage: (query: UsageQuery) => {
      const params = new URLSearchParams({ from: query.from, to: query.to, granularity: query.granularity });
      if (query.key_id) params.set("key_id", query.key_id);
      if (query.group_by && query.group_by !== "model") params.set("group_by", query.group_by);
      return client.request(usageResponseSchema, "GET", `/admin/v1/usage?${params.toString()}`);
    },

    auditPage: (keyId: string, after: number | null, limit: number) => {
      const params = new URLSearchParams({ limit: String(limit) });
      if (after !== null) params.set("after", String(after));
      return client.request(auditPageSchema, "GET", `/admin/v1/keys/${seg(keyId)}/audit?${params.toString()}`);
    },
    verifyAudit: (keyId: string) => client.request(verifyResultSchema, "POST", `/admin/v1/keys/${seg(keyId)}/audit/verify`, {}),
    shareReport: (keyId: string, range: { from_seq?: number; to_seq?: number }) =>
      client.request(reportLinkSchema, "POST", `/admin/v1/keys/${seg(keyId)}/audit/reports`, range),

    ...controlPlaneApi(client),
    ...webhooksApi(client),
    ...budgetsApi(client),
  };
}

export type AdminApi = ReturnType<typeof adminApi>;
