import type { KeyPolicyInput } from "../api/admin-api";
import type { VirtualKey } from "../api/schemas";
import { button, h, render } from "../lib/dom";
import { openDialog } from "../ui/dialog";
import { flagInvalid, inputField, textareaField } from "../ui/fields";
import { limitsEditor } from "../ui/limits-editor";
import { errorBox } from "../ui/states";

/**
 * Create / edit a key's policy in a dialog. An empty limit field means "no limit" (null). On edit
 * only the fields that changed are sent, so an untouched past expiry does not fail validation.
 */

export interface KeyFormOptions {
  title: string;
  submitLabel: string;
  initial?: VirtualKey;
  /** Resolves when saved (the dialog closes); rejects with the API error (shown in the dialog). */
  submit: (input: KeyPolicyInput & { name: string }, changed: KeyPolicyInput) => Promise<void>;
  /** After the dialog has closed and focus is back on the opener. */
  onClosed?: () => void;
}

const numberText = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));

/** ISO → the `YYYY-MM-DDTHH:MM` local time a datetime-local input shows. */
function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const local = new Date(d.getTime() - d.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function readNumber(input: HTMLInputElement, integer: boolean): number | null {
  if (input.value.trim() === "") return null;
  const n = Number(input.value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    flagInvalid(input, integer ? "Enter a whole number, or leave empty for no limit." : "Enter a number, or leave empty for no limit.");
    throw new Error("invalid");
  }
  return n;
}

export function openKeyForm(options: KeyFormOptions): void {
  const key = options.initial;
  const name = inputField({ label: "Name", name: "name", value: key?.name, required: true, placeholder: "billing-agent" });
  const models = inputField({
    label: "Allowed models",
    name: "models",
    value: key?.models.join(", "),
    placeholder: "gpt-*, anthropic/*, mock/echo",
    hint: "Comma-separated names or globs. Empty allows every model.",
  });
  const quota = inputField({
    label: "Monthly token quota",
    name: "monthly_token_quota",
    type: "number",
    min: 0,
    step: "1",
    inputmode: "numeric",
    value: numberText(key?.monthly_token_quota),
    hint: "Prompt + completion tokens per calendar month (UTC). Empty = no quota.",
  });
  const cap = inputField({
    label: "Spend cap (USD / month)",
    name: "spend_cap_usd",
    type: "number",
    min: 0,
    step: "0.01",
    inputmode: "decimal",
    value: numberText(key?.spend_cap_usd),
    hint: "Empty = no cap.",
  });
  const rpm = inputField({ label: "Requests per minute", name: "rpm", type: "number", min: 1, step: "1", inputmode: "numeric", value: numberText(key?.rpm) });
  const tpm = inputField({ label: "Tokens per minute", name: "tpm", type: "number", min: 1, step: "1", inputmode: "numeric", value: numberText(key?.tpm) });
  const expires = inputField({
    label: "Expires at (your local time)",
    name: "expires_at",
    type: "datetime-local",
    value: toLocalInput(key?.expires_at),
    hint: "Empty = never expires.",
  });
  const metadata = textareaField(
    "Metadata (JSON object)",
    "metadata",
    key && Object.keys(key.metadata).length > 0 ? JSON.stringify(key.metadata) : "",
    'Optional, e.g. {"team": "billing"}.',
  );
  const windows = limitsEditor(key?.limits ?? [], ["1h", "1d", "7d"]);
  const budget = inputField({
    label: "Shared budget id",
    name: "budget_id",
    value: key?.budget_id ?? "",
    placeholder: "bud_…",
    hint: "Optional: the key also draws on this budget (see Budgets).",
  });
  const status = h("div", { class: "form-status" });

  const read = (): KeyPolicyInput & { name: string } => {
    const trimmed = name.input.value.trim();
    if (trimmed === "") {
      flagInvalid(name.input, "A name is required.");
      throw new Error("invalid");
    }
    let meta: Record<string, unknown> = {};
    if (metadata.textarea.value.trim() !== "") {
      const parsed: unknown = (() => {
        try {
          return JSON.parse(metadata.textarea.value);
        } catch {
          return undefined;
        }
      })();
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        flagInvalid(metadata.textarea, "Metadata must be a JSON object.");
        throw new Error("invalid");
      }
      meta = parsed as Record<string, unknown>;
    }
    return {
      name: trimmed,
      models: models.input.value.split(/[\s,]+/).filter(Boolean),
      monthly_token_quota: readNumber(quota.input, true),
      spend_cap_usd: readNumber(cap.input, false),
      rpm: readNumber(rpm.input, true),
      tpm: readNumber(tpm.input, true),
      expires_at: expires.input.value === "" ? null : new Date(expires.input.value).toISOString(),
      metadata: meta,
      limits: (() => {
        const entered = windows.read();
        if (!entered) throw new Error("invalid");
        return entered;
      })(),
      budget_id: budget.input.value.trim() === "" ? null : budget.input.value.trim(),
    };
  };

  openDialog({ title: options.title, testId: "key-form", onClose: options.onClosed }, (handle) => {
    const submit = h("button", { class: "primary", attrs: { type: "submit" } }, options.submitLabel);
    const form = h(
      "form",
      { attrs: { novalidate: true } },
      name.wrap,
      models.wrap,
      h("div", { class: "field-grid" }, quota.wrap, cap.wrap, rpm.wrap, tpm.wrap),
      windows.el,
      budget.wrap,
      expires.wrap,
      metadata.wrap,
      status,
      h("div", { class: "dialog-actions" }, button("Cancel", handle.close), submit),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      let input: KeyPolicyInput & { name: string };
      try {
        input = read();
      } catch {
        return;
      }
      submit.disabled = true;
      render(status);
      options.submit(input, key ? changedFields(key, input) : input).then(handle.close, (error: unknown) => {
        render(status, errorBox(error, "Not saved"));
        submit.disabled = false;
      });
    });
    queueMicrotask(() => name.input.focus());
    return [form];
  });
}

function changedFields(key: VirtualKey, input: KeyPolicyInput & { name: string }): KeyPolicyInput {
  const changed: KeyPolicyInput = {};
  if (input.name !== key.name) changed.name = input.name;
  if (input.models?.join(",") !== key.models.join(",")) changed.models = input.models;
  if (input.monthly_token_quota !== key.monthly_token_quota) changed.monthly_token_quota = input.monthly_token_quota;
  if (input.spend_cap_usd !== key.spend_cap_usd) changed.spend_cap_usd = input.spend_cap_usd;
  if (input.rpm !== key.rpm) changed.rpm = input.rpm;
  if (input.tpm !== key.tpm) changed.tpm = input.tpm;
  if (toLocalInput(input.expires_at) !== toLocalInput(key.expires_at)) changed.expires_at = input.expires_at;
  if (JSON.stringify(input.metadata) !== JSON.stringify(key.metadata)) changed.metadata = input.metadata;
  const windowLimits = (key.limits ?? []).filter((l) => l.window !== "month");
  const sameLimits =
    JSON.stringify(input.limits) ===
    JSON.stringify(
      windowLimits.map((l) => ({
        window: l.window,
        ...(l.usd == null ? {} : { usd: l.usd }),
        ...(l.tokens == null ? {} : { tokens: l.tokens }),
        ...(l.requests == null ? {} : { requests: l.requests }),
      })),
    );
  if (!sameLimits) {
    // `limits` is the full set on the server: send the month shorthands with it so they are kept.
    changed.limits = input.limits;
    changed.monthly_token_quota = input.monthly_token_quota;
    changed.spend_cap_usd = input.spend_cap_usd;
  }
  if (input.budget_id !== (key.budget_id ?? null)) changed.budget_id = input.budget_id;
  return changed;
}
