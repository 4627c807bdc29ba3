import type { Budget, BudgetDetail, WindowLimit } from "../api/budgets-api";
import { button, h, render } from "../lib/dom";
import { userIsBusyIn } from "../ui/busy";
import { openDialog } from "../ui/dialog";
import { flagInvalid, inputField } from "../ui/fields";
import { limitsEditor } from "../ui/limits-editor";
import { pageHeader } from "../ui/page-header";
import { every } from "../ui/poller";
import { empty, errorBox, loading } from "../ui/states";
import { cell, dataTable, rowHeader } from "../ui/table";
import { toast } from "../ui/toast";
import type { Page, PageContext } from "./page";

/** Shared budgets: list, create / edit limits, and one budget's usage per window and per member key. */

const REFRESH_MS = 10_000;
const usd = (n: number) => `$${n.toFixed(n === 0 || n >= 1 ? 2 : 6)}`;

function limitText(limits: WindowLimit[]): string {
  if (limits.length === 0) return "No limits";
  return limits
    .map((l) => {
      const parts = [l.usd == null ? null : usd(l.usd), l.tokens == null ? null : `${l.tokens} tokens`, l.requests == null ? null : `${l.requests} requests`];
      return `${l.window}: ${parts.filter(Boolean).join(", ")}`;
    })
    .join(" · ");
}

function detailView(detail: BudgetDetail): HTMLElement {
  const windows = dataTable({
    testId: "budget-windows",
    caption: "Usage per window",
    head: ["Window", "Spend", "Tokens", "Requests", "In flight", "Limit", "Resets"],
    rows: detail.usage.map((w) =>
      h(
        "tr",
        { attrs: { "data-testid": "budget-window-row" } },
        rowHeader("Window", w.window),
        cell("Spend", usd(w.spend_usd)),
        cell("Tokens", String(w.tokens)),
        cell("Requests", String(w.requests)),
        cell("In flight", `${w.reserved_requests} (${usd(w.reserved_usd)})`),
        cell("Limit", w.limit ? limitText([{ ...w.limit, window: w.window }]) : "—"),
        cell("Resets", new Date(w.period_end).toLocaleString()),
      ),
    ),
  });
  const members =
    detail.members.length === 0
      ? empty("No member keys yet.", "Set a key's budget in its form to make it draw on this budget.")
      : dataTable({
          testId: "budget-members",
          caption: "Member keys",
          head: ["Key", "Today", "This month"],
          rows: detail.members.map((m) => {
            const of = (window: string) => m.usage.find((u) => u.window === window);
            const show = (window: string) => {
              const u = of(window);
              return u ? `${usd(u.spend_usd)} · ${u.requests} requests` : "—";
            };
            return h(
              "tr",
              { attrs: { "data-testid": "budget-member-row" } },
              rowHeader("Key", m.name, " ", h("code", {}, m.key_id)),
              cell("Today", show("1d")),
              cell("This month", show("month")),
            );
          }),
        });
  return h("div", { class: "content" }, h("h3", {}, "Usage per window"), windows, h("h3", {}, "Member keys"), members);
}

export function budgetsPage({ api }: PageContext): Page {
  const box = h("div", { class: "content", attrs: { "aria-live": "polite" } }, loading("Loading budgets…"));

  const load = async () => {
    try {
      const budgets = await api.listBudgets();
      render(
        box,
        budgets.length === 0
          ? empty("No budgets yet.", "A budget caps a team of keys together, per hour, day, week or month.")
          : dataTable({
              testId: "budgets-table",
              caption: "Shared budgets",
              head: ["Name", "Limits", ""],
              rows: budgets.map((b) =>
                h(
                  "tr",
                  { attrs: { "data-testid": "budget-row" } },
                  rowHeader("Name", b.name),
                  cell("Limits", limitText(b.limits)),
                  cell(
                    "",
                    button("Details", () => showDetail(b)),
                    " ",
                    button("Edit", () => openForm(b), { attrs: { "data-write": true } }),
                  ),
                ),
              ),
            }),
      );
    } catch (error) {
      render(box, errorBox(error, "Could not load budgets"));
    }
  };

  const showDetail = (budget: Budget) => {
    const content = h("div", { class: "content" }, loading("Loading usage…"));
    const refresh = async () => {
      try {
        render(content, detailView(await api.getBudget(budget.id)));
      } catch (error) {
        render(content, errorBox(error, "Could not load the budget"));
      }
    };
    openDialog({ title: `Budget ${budget.name}`, testId: "budget-detail" }, (handle) => [
      content,
      h(
        "div",
        { class: "dialog-actions" },
        button("Refresh", () => void refresh()),
        button("Close", handle.close, { class: "primary" }),
      ),
    ]);
    void refresh();
  };

  const openForm = (budget?: Budget) => {
    const name = inputField({ label: "Name", name: "name", required: true, value: budget?.name ?? "" });
    const limits = limitsEditor(budget?.limits ?? []);
    const status = h("div", { class: "form-status" });
    openDialog({ title: budget ? `Edit budget ${budget.name}` : "New budget", testId: "budget-form" }, (handle) => {
      const submit = h("button", { class: "primary", attrs: { type: "submit" } }, budget ? "Save budget" : "Create budget");
      const form = h(
        "form",
        { attrs: { novalidate: true } },
        name.wrap,
        limits.el,
        status,
        h("div", { class: "dialog-actions" }, button("Cancel", handle.close), submit),
      );
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const label = name.input.value.trim();
        if (label === "") return flagInvalid(name.input, "Give the budget a name.");
        const entered = limits.read();
        if (!entered) return;
        submit.disabled = true;
        render(status);
        const saved = budget ? api.updateBudget(budget.id, { name: label, limits: entered }) : api.createBudget({ name: label, limits: entered });
        saved.then(
          () => {
            handle.close();
            toast(budget ? "Budget saved." : "Budget created.");
            void load();
          },
          (error: unknown) => {
            render(status, errorBox(error, "Budget not saved"));
            submit.disabled = false;
          },
        );
      });
      queueMicrotask(() => name.input.focus());
      return [form];
    });
  };

  void load();
  const stopPoll = every(REFRESH_MS, () => {
    if (!userIsBusyIn(box)) void load();
  });

  const el = h(
    "section",
    { class: "page" },
    pageHeader(
      "Budgets",
      "Shared budgets cap a team of keys together, exactly, per hour, day, ISO week or month (calendar UTC windows).",
      button("Refresh", () => void load()),
      button("New budget", () => openForm(), { class: "primary", attrs: { "data-testid": "create-budget", "data-write": true } }),
    ),
    box,
  );
  return { el, dispose: stopPoll };
}
