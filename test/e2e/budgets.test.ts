import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, LAPTOP, screenshots } from "./support/browser";
import { signIn, textOf, WAIT } from "./support/dashboard-ui";
import { buildDashboard, startGateway, type Gateway } from "./support/gateway";

/**
 * The budgets page end to end (issue 16): headless Chromium on the built dashboard served by
 * `wrangler dev`. A budget is created in the UI, a member key spends through the agent API, and the
 * budget's detail shows the spend per window and per member key. KEYFORGE_E2E=off skips it.
 */

describe.skipIf(process.env.KEYFORGE_E2E === "off")("budgets page (Chromium + wrangler dev)", () => {
  let gateway: Gateway;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}/admin/v1${path}`, { ...init, headers: { authorization: `Bearer ${gateway.adminToken}`, "content-type": "application/json" } });

  beforeAll(async () => {
    buildDashboard();
    gateway = await startGateway();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: LAPTOP })).newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it("creates a budget with limits, and shows a member key's spend per window", async () => {
    await signIn(page, gateway.url, gateway.adminToken);
    await page.getByRole("link", { name: "Budgets" }).click();
    await page.getByTestId("create-budget").click();
    const form = page.getByTestId("budget-form");
    await form.getByLabel("Name").fill("e2e-team");
    await form.getByLabel("Day USD").fill("5");
    await form.getByLabel("Hour Requests").fill("100");
    await form.getByRole("button", { name: "Create budget" }).click();
    const row = page.getByTestId("budget-row").filter({ has: page.getByText("e2e-team", { exact: true }) });
    await row.waitFor(WAIT);
    expect(await textOf(row)).toContain("1d: $5.00");

    // A member key (joined through the admin API) spends through the agent API.
    const budgets = (await (await admin("/budgets")).json()) as { data: { id: string; name: string }[] };
    const budgetId = budgets.data.find((b) => b.name === "e2e-team")!.id;
    const key = (await (await admin("/keys", { method: "POST", body: JSON.stringify({ name: "e2e-member", budget_id: budgetId }) })).json()) as { key: string };
    const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "mock/echo", max_tokens: 20, messages: [{ role: "user", content: "spend a little" }] }),
    });
    expect(chat.status).toBe(200);

    await row.getByRole("button", { name: "Details" }).click();
    const detail = page.getByTestId("budget-detail");
    await expect
      .poll(async () => {
        await detail.getByRole("button", { name: "Refresh" }).click();
        return textOf(detail);
      }, WAIT)
      .toMatch(/e2e-member.*1 requests/);
    const day = detail.getByTestId("budget-window-row").filter({ hasText: "1d" });
    expect(await textOf(day)).toContain("1d: $5.00");
    await screenshots(page, "budget-detail");
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it("shows usage by end user and by tag on the usage page", async () => {
    const key = (await (await admin("/keys", { method: "POST", body: JSON.stringify({ name: "e2e-attributed" }) })).json()) as { key: string };
    const send = (user: string, tags: string) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json", "x-keyforge-tags": tags },
        body: JSON.stringify({ model: "mock/echo", max_tokens: 20, user, messages: [{ role: "user", content: `attributed to ${user}` }] }),
      });
    for (const [user, tags] of [
      ["e2e-alice", "e2e-tag-a"],
      ["e2e-alice", "e2e-tag-a,e2e-tag-b"],
      ["e2e-bob", "e2e-tag-b"],
    ]) {
      expect((await send(user!, tags!)).status).toBe(200);
    }

    // The first test leaves the budget's detail dialog open.
    const detail = page.getByTestId("budget-detail");
    if (await detail.isVisible()) await detail.getByRole("button", { name: "Close", exact: true }).click();
    await page.getByRole("link", { name: "Usage", exact: true }).click();
    const groupBy = page.getByLabel("Group by");
    const requests = page.getByTestId("chart-requests");
    // Each series' total requests, as the legend shows them (refreshes every few seconds as rollups land).
    const legendValue = async (name: string) => {
      const item = requests.locator(".legend li").filter({ has: page.getByText(name, { exact: true }) });
      return (await item.count()) > 0 ? textOf(item.locator(".legend-value")) : "";
    };
    await groupBy.selectOption("user");
    await expect.poll(async () => [await legendValue("e2e-alice"), await legendValue("e2e-bob")], WAIT).toEqual(["2", "1"]);
    await screenshots(page, "usage-by-user");
    await groupBy.selectOption("tag");
    // A request with two tags counts under both.
    await expect.poll(async () => [await legendValue("e2e-tag-a"), await legendValue("e2e-tag-b")], WAIT).toEqual(["2", "2"]);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
