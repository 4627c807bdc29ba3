import { WINDOWS, type BudgetWindow, type WindowLimit, type WindowLimitInput } from "../api/budgets-api";
import { h, uid } from "../lib/dom";
import { flagInvalid } from "./fields";

/**
 * The window-limits editor (keys and budgets): one row per window (hour, day, ISO week, month, all
 * calendar UTC), each with optional USD, tokens and requests. Empty means no limit.
 */

const LABELS: Record<BudgetWindow, string> = { "1h": "Hour", "1d": "Day", "7d": "Week", month: "Month" };
const FIELDS = [
  { key: "usd", label: "USD", step: "0.000001" },
  { key: "tokens", label: "Tokens", step: "1" },
  { key: "requests", label: "Requests", step: "1" },
] as const;

export interface LimitsEditor {
  el: HTMLElement;
  /** The limits entered, or null after flagging an invalid input. */
  read: () => WindowLimitInput[] | null;
}

/** `windows`: which rows to offer (the key form leaves the month to its two shorthand fields). */
export function limitsEditor(initial: WindowLimit[] = [], windows: readonly BudgetWindow[] = WINDOWS): LimitsEditor {
  const inputs = new Map<string, HTMLInputElement>();
  const rows = windows.map((window) => {
    const current = initial.find((l) => l.window === window);
    const cells = FIELDS.map((field) => {
      const id = uid(`limit-${window}-${field.key}`);
      const value = current?.[field.key];
      const input = h("input", { attrs: { id, type: "number", min: 0, step: field.step, inputmode: field.key === "usd" ? "decimal" : "numeric" } });
      input.value = value == null ? "" : String(value);
      inputs.set(`${window}.${field.key}`, input);
      return h("td", {}, h("label", { class: "visually-hidden", attrs: { for: id } }, `${LABELS[window]} ${field.label}`), input);
    });
    return h("tr", {}, h("th", { attrs: { scope: "row" } }, LABELS[window]), ...cells);
  });
  const el = h(
    "fieldset",
    { class: "field", attrs: { "data-testid": "limits-editor" } },
    h("legend", {}, "Window limits (calendar UTC: hour, day, ISO week, month)"),
    h(
      "table",
      { class: "limits-table" },
      h("thead", {}, h("tr", {}, h("th", { attrs: { scope: "col" } }, "Window"), ...FIELDS.map((f) => h("th", { attrs: { scope: "col" } }, f.label)))),
      h("tbody", {}, ...rows),
    ),
  );

  const read = (): WindowLimitInput[] | null => {
    const out: WindowLimitInput[] = [];
    for (const window of windows) {
      const limit: WindowLimitInput = { window };
      for (const field of FIELDS) {
        const input = inputs.get(`${window}.${field.key}`)!;
        const raw = input.value.trim();
        if (raw === "") continue;
        const n = Number(raw);
        if (!Number.isFinite(n) || n < 0 || (field.key !== "usd" && !Number.isInteger(n))) {
          flagInvalid(input, field.key === "usd" ? "Enter an amount of 0 or more." : "Enter a whole number.");
          return null;
        }
        limit[field.key] = n;
      }
      if (limit.usd !== undefined || limit.tokens !== undefined || limit.requests !== undefined) out.push(limit);
    }
    return out;
  };
  return { el, read };
}
