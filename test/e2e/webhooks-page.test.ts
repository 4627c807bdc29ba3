import type { Browser, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type Served } from "../mocks/serve";
import { launchChromium, LAPTOP, screenshots } from "./support/browser";
import { signIn, textOf, WAIT } from "./support/dashboard-ui";
import { buildDashboard, startGateway, type Gateway } from "./support/gateway";

/**
 * The webhooks page end to end (issue 16): headless Chromium on the built dashboard served by
 * `wrangler dev`, and a loopback receiver (ALLOW_INSECURE_UPSTREAMS=on, as in local dev). A webhook
 * is added in the UI (secret shown once), a key is revoked, the delivery shows as delivered, and the
 * receiver's copy verifies with the secret the UI showed. KEYFORGE_E2E=off skips it.
 */

describe.skipIf(process.env.KEYFORGE_E2E === "off")("webhooks page (Chromium + wrangler dev)", () => {
  let gateway: Gateway;
  let receiver: Served;
  let browser: Browser;
  let page: Page;
  const deliveries: Array<{ raw: string; headers: Record<string, string> }> = [];
  const pageErrors: string[] = [];
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}/admin/v1${path}`, { ...init, headers: { authorization: `Bearer ${gateway.adminToken}`, "content-type": "application/json" } });

  beforeAll(async () => {
    buildDashboard();
    receiver = await serve(async (request) => {
      deliveries.push({ raw: await request.text(), headers: Object.fromEntries(request.headers) });
      return new Response(null, { status: 204 });
    });
    gateway = await startGateway({ ALLOW_INSECURE_UPSTREAMS: "on" });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: LAPTOP })).newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await receiver?.close();
  });

  it("adds a webhook (secret once), shows its deliveries, disables and deletes it", async () => {
    await signIn(page, gateway.url, gateway.adminToken);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByTestId("add-webhook").click();
    const form = page.getByTestId("webhook-form");
    await form.getByLabel("Endpoint URL").fill(`${receiver.url}/hooks/e2e`);
    await form.getByRole("button", { name: "Add webhook" }).click();

    const created = page.getByTestId("webhook-created");
    const secret = await created.getByTestId("webhook-secret").inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    await created.getByRole("button", { name: "I have stored the secret" }).click();
    const row = page.getByTestId("webhook-row").filter({ hasText: "/hooks/e2e" });
    await row.waitFor(WAIT);
    expect(await textOf(row)).toContain("enabled");
    expect(await page.content()).not.toContain(secret);

    const key = (await (await admin("/keys", { method: "POST", body: JSON.stringify({ name: "e2e-revoked" }) })).json()) as { id: string };
    expect((await admin(`/keys/${key.id}/revoke`, { method: "POST" })).status).toBe(200);

    await row.getByRole("button", { name: "Deliveries" }).click();
    const dialog = page.getByTestId("webhook-deliveries");
    await expect
      .poll(async () => {
        await dialog.getByRole("button", { name: "Refresh" }).click();
        return textOf(dialog);
      }, WAIT)
      .toMatch(/key\.revoked\s*delivered\s*1\s*204/);
    await screenshots(page, "webhook-deliveries");
    const revoked = deliveries.find((d) => d.raw.includes(key.id))!;
    expect(new Webhook(secret).verify(revoked.raw, revoked.headers)).toMatchObject({ type: "key.revoked", data: { key_id: key.id } });
    await dialog.getByRole("button", { name: "Close", exact: true }).click();

    await row.getByRole("button", { name: /^Disable/ }).click();
    await expect.poll(() => textOf(row), WAIT).toContain("disabled");
    await row.getByRole("button", { name: /^Delete/ }).click();
    await page.getByTestId("confirm-delete-webhook").getByRole("button", { name: "Delete webhook" }).click();
    await expect.poll(() => page.getByTestId("webhook-row").count(), WAIT).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
