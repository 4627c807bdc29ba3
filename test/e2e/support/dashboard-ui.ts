import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";

/** Steps a person takes in the dashboard, in words a reader of the test recognises. */

export const WAIT = { timeout: 20_000, interval: 250 };

export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export const keyRow = (page: Page, name: string): Locator => page.getByTestId("key-row").filter({ has: page.getByText(name, { exact: true }) });

export const providerKeyRow = (page: Page, name: string): Locator =>
  page.getByTestId("provider-key-row").filter({ has: page.getByText(name, { exact: true }) });

export async function textOf(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
}

/** Creates a key through the dialog and returns the token shown once. */
export async function createKeyInUi(
  page: Page,
  fields: { name: string; quota: string; cap: string; rpm: string },
  shoot?: (name: string) => Promise<void>,
): Promise<string> {
  await page.getByTestId("create-key").click();
  const form = page.getByTestId("key-form");
  await form.getByLabel("Name").fill(fields.name);
  await form.getByLabel("Monthly token quota").fill(fields.quota);
  await form.getByLabel("Spend cap (USD / month)").fill(fields.cap);
  await form.getByLabel("Requests per minute").fill(fields.rpm);
  await shoot?.("key-create-form");
  await form.getByRole("button", { name: "Create key" }).click();
  const created = page.getByTestId("key-created");
  await created.waitFor();
  expect(await textOf(created)).toContain("It will not be shown again");
  const token = await created.getByTestId("new-key").inputValue();
  expect(token).toMatch(/^vk_[0-9A-Za-z]{54}$/);
  return token;
}

/** Clicks Refresh until the text of `locator` satisfies `check`. */
export async function refreshUntil(page: Page, locator: Locator, check: (text: string) => boolean): Promise<string> {
  let last = "";
  await expect
    .poll(async () => {
      await page.getByRole("button", { name: "Refresh" }).click();
      last = await textOf(locator);
      return check(last);
    }, WAIT)
    .toBe(true);
  return last;
}
