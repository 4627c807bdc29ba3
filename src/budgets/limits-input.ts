import * as z from "zod";
import { usdToMicros } from "../pricing/price";
import { WINDOWS, type WindowLimit } from "../policy/windows";

/** Admin input for window limits (keys and budgets): `[{window, usd?, tokens?, requests?}]`, one entry per window. */

const windowLimitInput = z
  .strictObject({
    window: z.enum(WINDOWS),
    usd: z.number().nonnegative().max(1e9).nullable().optional(),
    tokens: z.number().int().nonnegative().max(1e15).nullable().optional(),
    requests: z.number().int().positive().max(1e12).nullable().optional(),
  })
  .refine((l) => l.usd != null || l.tokens != null || l.requests != null, "a limit needs at least one of usd, tokens, requests");

export const limitsInput = z
  .array(windowLimitInput)
  .max(WINDOWS.length)
  .refine((ls) => new Set(ls.map((l) => l.window)).size === ls.length, "each window may appear once")
  .transform((ls): WindowLimit[] =>
    ls.map((l) => ({
      window: l.window,
      ...(l.tokens == null ? {} : { tokens: l.tokens }),
      ...(l.usd == null ? {} : { usdMicros: usdToMicros(l.usd) }),
      ...(l.requests == null ? {} : { requests: l.requests }),
    })),
  );

/** A limit as the admin API shows it (dollars, explicit nulls). */
export function limitView(l: WindowLimit) {
  return { window: l.window, usd: l.usdMicros == null ? null : l.usdMicros / 1_000_000, tokens: l.tokens ?? null, requests: l.requests ?? null };
}

/** Budget ids: `bud_` + 16 base62. */
export const BUDGET_ID = /^bud_[0-9A-Za-z]{16}$/;
