import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchChromium, LAPTOP, screenshots } from "./support/browser";
import { signIn, textOf, WAIT } from "./support/dashboard-ui";
import { buildDashboard, startGateway, type Gateway } from "./support/gateway";

/**
 * The Control plane and Admin tokens pages end to end (issue 15): headless Chromium on the built
 * dashboard served by `wrangler dev`. An admin action by a named token shows on the Control plane
 * page with that actor; Verify and Share a report work; an admin token is created in the UI (shown
 * once), signs in read-only as an auditor, and is revoked. KEYFORGE_E2E=off skips it.
 */

describe.skipIf(process.env.KEYFORGE_E2E === "off")("control plane and admin tokens pages (Chromium + wrangler dev)", () => {
  let gateway: Gateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const api = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
  const root = (path: string, init: RequestInit = {}) => api(`/admin/v1${path}`, gateway.adminToken, init);

  beforeAll(async () => {
    buildDashboard();
    gateway = await startGateway();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: LAPTOP });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gateway.url });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
  }, 180_000);

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => console.error(`--- wrangler dev (last lines) ---\n${gateway?.logs().split("\n").slice(-60).join("\n")}`));
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  it("shows an admin action with its actor, verifies the log and shares a public report", async () => {
    const ops = (await (await root("/admin-tokens", { method: "POST", body: JSON.stringify({ name: "e2e-ops", role: "admin" }) })).json()) as { token: string };
    const created = await api("/admin/v1/keys", ops.token, { method: "POST", body: JSON.stringify({ name: "cp-e2e-key", rpm: 10 }) });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; key: string };

    await signIn(page, gateway.url, gateway.adminToken);
    await page.getByRole("link", { name: "Control plane" }).click();
    const row = page.getByTestId("control-plane-row").filter({ hasText: `key:${key.id}` });
    await row.waitFor(WAIT);
    expect(await textOf(row.getByTestId("entry-actor"))).toBe("e2e-ops");
    expect(await textOf(row)).toMatch(/key\.create.*rpm: — → 10/);

    await page.getByTestId("verify-control-plane").click();
    const verified = page.getByTestId("verify-result");
    await verified.waitFor(WAIT);
    expect(await verified.getAttribute("data-valid")).toBe("true");
    expect(await textOf(verified)).toContain("Chain verified");

    await page.getByTestId("share-control-plane").click();
    await page.getByTestId("share-form").getByRole("button", { name: "Create report" }).click();
    const link = page.getByTestId("report-url");
    await link.waitFor(WAIT);
    const url = await link.inputValue();
    expect(url).toMatch(new RegExp(`^${gateway.url}/reports/rpt_[0-9A-Za-z]+$`));
    expect((await fetch(`${url}.json`)).status).toBe(200);
    await screenshots(page, "control-plane");

    // The key's own policy history, once it has a log (first request), from its row.
    const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "mock/echo", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chat.status).toBe(200);
    expect((await root(`/keys/${key.id}`, { method: "PATCH", body: JSON.stringify({ rpm: 20 }) })).status).toBe(200);
    await page.getByRole("link", { name: "Virtual keys" }).click();
    await page.getByRole("link", { name: "Policy history of cp-e2e-key" }).click();
    const change = page.getByTestId("history-row").first();
    await change.waitFor(WAIT);
    expect(await textOf(change)).toMatch(/root.*key\.patch.*rpm: 10 → 20/);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it("creates an admin token (shown once), which signs in read-only as an auditor, and revokes it", async () => {
    await page.getByRole("link", { name: "Admin tokens" }).click();
    await page.getByTestId("create-admin-token").click();
    const form = page.getByTestId("admin-token-form");
    await form.getByLabel("Name").fill("e2e-auditor");
    await form.getByLabel("Role").selectOption("auditor");
    await form.getByRole("button", { name: "Create token" }).click();
    const created = page.getByTestId("admin-token-created");
    await created.waitFor(WAIT);
    expect(await textOf(created)).toContain("It will not be shown again");
    const token = await created.getByTestId("new-admin-token").inputValue();
    expect(token).toMatch(/^kfa_[0-9A-Za-z]{48}$/);
    await created.getByRole("button", { name: "I have stored the token" }).click();
    const row = page.getByTestId("admin-token-row").filter({ hasText: "e2e-auditor" });
    await row.waitFor(WAIT);
    expect(await textOf(row)).toMatch(/auditor.*active/);
    expect(await page.content()).not.toContain(token);
    await screenshots(page, "admin-tokens");

    // Signed in with it (another tab): reads work, write buttons are not offered.
    const auditorPage = await context.newPage();
    auditorPage.on("pageerror", (error) => pageErrors.push(error.message));
    await signIn(auditorPage, gateway.url, token);
    await auditorPage.getByTestId("read-only-badge").waitFor(WAIT);
    await auditorPage.getByTestId("key-row").first().waitFor(WAIT);
    expect(await auditorPage.getByTestId("create-key").isVisible()).toBe(false);
    expect(await auditorPage.getByRole("button", { name: "Revoke cp-e2e-key" }).isVisible()).toBe(false);
    await auditorPage.getByRole("link", { name: "Admin tokens" }).click();
    await auditorPage.getByTestId("admin-token-row").first().waitFor(WAIT);
    expect(await auditorPage.getByTestId("create-admin-token").isVisible()).toBe(false);
    // The budgets and webhooks pages render their write buttons too, hidden for an auditor.
    for (const [link, testId] of [
      ["Budgets", "create-budget"],
      ["Webhooks", "add-webhook"],
    ] as const) {
      await auditorPage.getByRole("link", { name: link }).click();
      await auditorPage.getByRole("heading", { name: link }).waitFor(WAIT);
      expect(await auditorPage.getByTestId(testId).count()).toBe(1);
      expect(await auditorPage.getByTestId(testId).isVisible()).toBe(false);
    }
    await auditorPage.close();

    await row.getByRole("button", { name: "Revoke admin token e2e-auditor" }).click();
    await page.getByTestId("confirm-revoke-admin-token").getByRole("button", { name: "Revoke token" }).click();
    await expect.poll(() => textOf(row), WAIT).toContain("revoked");
    expect((await api("/admin/v1/keys", token)).status).toBe(401);

    // Both writes are in the log with their actor.
    await page.getByRole("link", { name: "Control plane" }).click();
    const revoked = page.getByTestId("control-plane-row").filter({ hasText: "admin_token.revoke" }).first();
    await revoked.waitFor(WAIT);
    expect(await textOf(revoked.getByTestId("entry-actor"))).toBe("root");
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
