import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchChromium, LAPTOP, screenshots } from "./support/browser";
import { createKeyInUi, keyRow, providerKeyRow, refreshUntil, signIn, textOf, WAIT } from "./support/dashboard-ui";
import { buildDashboard, ROOT, startGateway, type Gateway } from "./support/gateway";
import { startLimitedUpstream } from "./support/limited-upstream";

/**
 * The admin dashboard end to end: headless Chromium drives the built dashboard served by a real
 * `wrangler dev` gateway, and the official openai SDK plays the agent. Screenshots of every page
 * (laptop and phone width) go to test-results/screenshots/. KEYFORGE_E2E=off skips the suite.
 */

const AGENT = "e2e-agent";

describe.skipIf(process.env.KEYFORGE_E2E === "off")("admin dashboard (Chromium + wrangler dev)", () => {
  let gateway: Gateway;
  let upstream: Awaited<ReturnType<typeof startLimitedUpstream>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let agentToken = "";
  let agentKeyId = "";
  const pageErrors: string[] = [];
  const shoot = (name: string) => screenshots(page, name);
  const agent = () => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: agentToken, maxRetries: 0 });
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}${path}`, { ...init, headers: { authorization: `Bearer ${gateway.adminToken}`, "content-type": "application/json" } });

  beforeAll(async () => {
    buildDashboard();
    upstream = await startLimitedUpstream();
    gateway = await startGateway({ ALLOW_INSECURE_UPSTREAMS: "on" });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: LAPTOP });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gateway.url });
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
  });

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => console.error(`--- wrangler dev (last lines) ---\n${gateway?.logs().split("\n").slice(-60).join("\n")}`));
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await upstream?.close();
  });

  it("serves the dashboard with a strict CSP, and a wrong admin token shows the error and no data", async () => {
    const response = await page.goto(gateway.url);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'self'");
    await page.getByLabel("Admin token").waitFor();
    await shoot("sign-in");

    await page.getByLabel("Admin token").fill("kf_admin_not-the-right-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByTestId("error");
    await alert.waitFor();
    expect(await textOf(alert)).toContain("A valid admin token is required");
    expect(await textOf(alert.getByTestId("request-id"))).toMatch(/\S{8,}/);
    expect(await page.getByTestId("keys-table").count()).toBe(0);
    expect(await page.evaluate(() => window.sessionStorage.length)).toBe(0);
    expect(page.url()).not.toContain("not-the-right-token");
    await shoot("sign-in-error");
  });

  it("signs in, creates a key whose token is shown once, and the key's usage moves with SDK traffic", async () => {
    await signIn(page, gateway.url, gateway.adminToken);
    await page.getByText("No virtual keys yet.").waitFor();
    expect(page.url()).not.toContain(gateway.adminToken);
    await shoot("keys-empty");

    agentToken = await createKeyInUi(page, { name: AGENT, quota: "100000", cap: "5", rpm: "600" }, (name) => shoot(name));
    await shoot("key-created");
    await page.getByRole("button", { name: "Copy key" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(agentToken);
    await page.getByRole("button", { name: "I have stored the key" }).click();
    const row = keyRow(page, AGENT);
    await row.waitFor();
    agentKeyId = (await row.getAttribute("data-key-id")) ?? "";
    expect(await textOf(row.getByTestId("key-status"))).toBe("active");
    expect(await textOf(row.getByTestId("key-tokens"))).toBe("0 / 100,000 · 0%");

    const buffered = await agent().chat.completions.create({ model: "mock/echo", messages: [{ role: "user", content: "Hello from the e2e test" }] });
    expect(buffered.choices[0]?.message.content).toBeTruthy();
    const stream = await agent().chat.completions.create({ model: "mock/echo", stream: true, messages: [{ role: "user", content: "Stream it" }] });
    let streamed = "";
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
    expect(streamed.length).toBeGreaterThan(0);

    const tokens = await refreshUntil(page, row.getByTestId("key-tokens"), (text) => !text.startsWith("0 /"));
    expect(tokens).toMatch(/^[\d,]+ \/ 100,000 · \d+%$/);
    expect(await textOf(row.getByTestId("key-spend"))).toMatch(/^\$[\d.,]+ \/ \$5\.00 · \d+%$/);
    await shoot("keys");

    await row.getByRole("link", { name: `Usage of ${AGENT}` }).click();
    const chart = page.getByTestId("chart-tokens");
    await expect.poll(async () => Number((await chart.count()) > 0 ? await chart.getAttribute("data-total") : 0), WAIT).toBeGreaterThan(0);
    expect(await textOf(page.getByTestId("usage-totals"))).toMatch(/^2 requests · [\d,]+ tokens · \$/);
    expect(await page.locator("[data-testid=chart-requests] rect").count()).toBeGreaterThan(0);
    await shoot("usage");
  });

  it("edits the policy, works from the keyboard, searches and sorts, and renders hostile key names as text", async () => {
    await page.getByRole("link", { name: "Virtual keys" }).click();
    const row = keyRow(page, AGENT);
    await row.getByRole("button", { name: `Edit policy of ${AGENT}` }).click();
    const form = page.getByTestId("key-form");
    await form.getByLabel("Requests per minute").fill("120");
    await form.getByRole("button", { name: "Save policy" }).click();
    await expect.poll(() => textOf(row.getByTestId("key-rate")), WAIT).toBe("RPM 120");

    const hostile = `<img src=x onerror="window.__xss=1">`;
    expect((await admin("/admin/v1/keys", { method: "POST", body: JSON.stringify({ name: hostile }) })).status).toBe(201);
    await refreshUntil(page, page.getByTestId("keys-count"), (text) => text === "2 of 2 keys");
    expect(await keyRow(page, hostile).count()).toBe(1);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();

    // Keyboard: a dialog takes focus on open, Escape closes it, focus returns to the opener.
    await page.getByTestId("create-key").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("key-form").waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("name");
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByTestId("key-form").count(), WAIT).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("create-key");

    await page.getByLabel("Search").fill(AGENT);
    expect(await textOf(page.getByTestId("keys-count"))).toBe("1 of 2 keys");
    await page.getByLabel("Search").fill("");
    await page.getByRole("button", { name: "Name", exact: true }).click();
    expect(await page.locator("th[aria-sort=ascending]").innerText()).toContain("Name");
  });

  it("audit: verifies the chain, shares a report a stranger sees verified in the browser and the CLI verifies offline", async () => {
    await page.goto(`${gateway.url}/#/audit/${agentKeyId}`);
    await expect.poll(() => page.getByTestId("audit-row").count(), WAIT).toBeGreaterThanOrEqual(2);
    await page.getByTestId("verify-chain").click();
    await expect.poll(() => page.getByTestId("verify-result").getAttribute("data-valid"), WAIT).toBe("true");
    await page.getByTestId("share-report").click();
    await page.getByTestId("share-form").getByRole("button", { name: "Create report" }).click();
    const url = new URL(await page.getByTestId("report-url").inputValue(), gateway.url).href;
    await shoot("audit");

    // A stranger: a fresh browser context with no admin session, only the link.
    const stranger = await browser.newContext({ viewport: LAPTOP });
    const report = await stranger.newPage();
    expect((await report.goto(url))?.status()).toBe(200);
    await expect.poll(() => report.getByTestId("verdict").getAttribute("data-ok"), WAIT).toBe("true");
    const checks = await report.getByTestId("check").allInnerTexts();
    expect(checks.length).toBeGreaterThanOrEqual(5);
    expect(await report.locator("[data-testid=check][data-ok=false]").count()).toBe(0);
    await screenshots(report, "public-report");

    // One flipped byte anywhere in the report: the page rejects it.
    const json = await (await fetch(`${url}.json`)).text();
    const tampered = flipByte(json, Math.floor(json.length / 2));
    await report.route(`${url}.json`, (route) => route.fulfill({ status: 200, contentType: "application/json", body: tampered }));
    await report.reload();
    await expect.poll(() => report.getByTestId("verdict").getAttribute("data-ok"), WAIT).toBe("false");
    await screenshots(report, "public-report-tampered");
    await stranger.close();

    // The same report, offline, with the published verifier key: the CLI accepts it and rejects the flip.
    const keys = (await (await fetch(`${gateway.url}/.well-known/keyforge/audit-keys`)).json()) as { keys: Array<{ verifier_key: string }> };
    const dir = mkdtempSync(join(tmpdir(), "keyforge-report-"));
    try {
      writeFileSync(join(dir, "report.json"), json);
      writeFileSync(join(dir, "tampered.json"), tampered);
      const verify = (file: string) =>
        spawnSync(process.execPath, [join(ROOT, "bin/keyforge-verify.mjs"), join(dir, file), ...keys.keys.flatMap((k) => ["--key", k.verifier_key])], {
          encoding: "utf8",
        });
      const good = verify("report.json");
      expect(good.status, good.stdout + good.stderr).toBe(0);
      expect(verify("tampered.json").status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("provider keys: adds keys that are never shown again, shows cooldown and disabled states, enables and deletes", async () => {
    await page.getByRole("link", { name: "Provider keys" }).click();
    await page.getByText("No provider keys yet.").waitFor();
    await page.getByTestId("add-provider").click();
    const providerForm = page.getByTestId("provider-form");
    await providerForm.getByLabel("Name").fill("e2e-upstream");
    await providerForm.getByLabel("Base URL").fill(upstream.url);
    await providerForm.getByRole("button", { name: "Add provider" }).click();
    await page.getByTestId("provider-row").filter({ hasText: "e2e-upstream" }).waitFor();

    for (const [name, secret] of [
      ["limited", "sk-e2e-limited-0001"],
      ["revoked", "sk-e2e-revoked-0002"],
    ] as const) {
      await page.getByTestId("add-provider-key").click();
      const form = page.getByTestId("provider-key-form");
      await form.getByLabel("Provider").selectOption("e2e-upstream");
      await form.getByLabel("API key").fill(secret);
      await form.getByLabel("Name").fill(name);
      await form.getByRole("button", { name: "Add key" }).click();
      await providerKeyRow(page, name).waitFor();
    }
    expect(await page.content()).not.toContain("sk-e2e-");
    expect(await textOf(page.getByTestId("toasts"))).toContain("will not be shown again");

    // Traffic through the pool (a key without a spend cap: the test upstream's model has no price):
    // the 429 key cools down, the 401 key is disabled.
    const created = (await (await admin("/admin/v1/keys", { method: "POST", body: JSON.stringify({ name: "pool-tester" }) })).json()) as { key: string };
    const poolAgent = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: created.key, maxRetries: 0 });
    const statuses = async () => {
      const body = (await (await admin("/admin/v1/provider-keys")).json()) as { data: Array<{ name: string; status: string }> };
      return body.data
        .map((k) => `${k.name}:${k.status}`)
        .sort()
        .join(",");
    };
    const target = "limited:cooling_down,revoked:disabled";
    for (let i = 0; i < 3 && (await statuses()) !== target; i++) {
      await poolAgent.chat.completions.create({ model: "e2e-upstream/e2e-model", messages: [{ role: "user", content: "hi" }] }).catch(() => null);
    }
    await expect.poll(statuses, WAIT).toBe(target);

    const limited = providerKeyRow(page, "limited");
    const revoked = providerKeyRow(page, "revoked");
    await refreshUntil(page, revoked.getByTestId("provider-key-status"), (text) => text === "disabled");
    await expect.poll(() => textOf(limited.getByTestId("provider-key-status")), WAIT).toBe("cooling down");
    expect(await textOf(limited.getByTestId("cooldown"))).toMatch(/^ready in (9|10)m \d\ds$/);
    await shoot("provider-keys");

    await revoked.getByRole("button", { name: /^Enable / }).click();
    await expect.poll(() => textOf(revoked.getByTestId("provider-key-status")), WAIT).toBe("healthy");
    await revoked.getByRole("button", { name: /^Disable / }).click();
    await expect.poll(() => textOf(revoked.getByTestId("provider-key-status")), WAIT).toBe("disabled");
    await revoked.getByRole("button", { name: /^Delete / }).click();
    await page.getByTestId("confirm-delete-provider-key").getByRole("button", { name: "Delete key" }).click();
    await expect.poll(() => revoked.count(), WAIT).toBe(0);
  });

  it("revokes the key in the UI, and the agent's next SDK call fails with 401 key_revoked", async () => {
    await page.getByRole("link", { name: "Virtual keys" }).click();
    const row = keyRow(page, AGENT);
    await row.getByRole("button", { name: `Revoke ${AGENT}` }).click();
    await page.getByTestId("confirm-revoke").waitFor();
    await shoot("revoke-confirm");
    await page.getByTestId("confirm-revoke").getByRole("button", { name: "Revoke key" }).click();
    await expect.poll(() => textOf(row.getByTestId("key-status")), WAIT).toBe("revoked");

    const error = await agent()
      .chat.completions.create({ model: "mock/echo", messages: [{ role: "user", content: "still there?" }] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("key_revoked");
    expect(pageErrors).toEqual([]);
  });
});

/** The report with one character changed to another printable one, keeping it the same length. */
function flipByte(text: string, at: number): string {
  const code = text.charCodeAt(at);
  const replacement = code === 0x30 ? "1" : code === 0x22 ? "'" : "0";
  return text.slice(0, at) + replacement + text.slice(at + 1);
}
