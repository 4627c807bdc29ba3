import * as z from "zod/mini";
import type { ApiClient } from "./client";
import { listOf } from "./schemas";

/** The shared-budget routes (/admin/v1/budgets) and their response shapes. */

export const WINDOWS = ["1h", "1d", "7d", "month"] as const;
export type BudgetWindow = (typeof WINDOWS)[number];

export const windowLimitSchema = z.object({
  window: z.string(),
  usd: z.nullable(z.number()),
  tokens: z.nullable(z.number()),
  requests: z.nullable(z.number()),
});

const windowUsageSchema = z.object({
  window: z.string(),
  period_end: z.string(),
  tokens: z.number(),
  spend_usd: z.number(),
  requests: z.number(),
  reserved_usd: z.number(),
  reserved_requests: z.number(),
  limit: z.nullable(z.object({ usd: z.nullable(z.number()), tokens: z.nullable(z.number()), requests: z.nullable(z.number()) })),
});

export const budgetSchema = z.object({
  id: z.string(),
  name: z.string(),
  limits: z.array(windowLimitSchema),
  version: z.number(),
  created_at: z.string(),
});

const budgetDetailSchema = z.extend(budgetSchema, {
  usage: z.array(windowUsageSchema),
  members: z.array(
    z.object({
      key_id: z.string(),
      name: z.string(),
      usage: z.array(z.object({ window: z.string(), tokens: z.number(), spend_usd: z.number(), requests: z.number() })),
    }),
  ),
});

export type WindowLimit = z.infer<typeof windowLimitSchema>;
export type WindowLimitInput = { window: BudgetWindow; usd?: number; tokens?: number; requests?: number };
export type Budget = z.infer<typeof budgetSchema>;
export type BudgetDetail = z.infer<typeof budgetDetailSchema>;

const seg = encodeURIComponent;

export function budgetsApi(client: ApiClient) {
  return {
    listBudgets: async () => (await client.request(listOf(budgetSchema), "GET", "/admin/v1/budgets")).data,
    getBudget: (id: string) => client.request(budgetDetailSchema, "GET", `/admin/v1/budgets/${seg(id)}`),
    createBudget: (input: { name: string; limits: WindowLimitInput[] }) => client.request(budgetSchema, "POST", "/admin/v1/budgets", input),
    updateBudget: (id: string, input: { name?: string; limits?: WindowLimitInput[] }) =>
      client.request(budgetDetailSchema, "PATCH", `/admin/v1/budgets/${seg(id)}`, input),
  };
}
