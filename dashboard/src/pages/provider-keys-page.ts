import type { Provider, ProviderKey } from "../api/schemas";
import { button, h, render } from "../lib/dom";
import { userIsBusyIn } from "../ui/busy";
import { confirmDialog } from "../ui/dialog";
import { pageHeader } from "../ui/page-header";
import { every } from "../ui/poller";
import { empty, errorBox, loading } from "../ui/states";
import { toast } from "../ui/toast";
import type { Page, PageContext } from "./page";
import { openProviderKeyForm } from "./provider-key-form";
import { providerKeysTable, tickCountdowns } from "./provider-keys-table";
import { openProviderForm, providersTable } from "./providers-section";

/** Provider keys (live pool status, cooldown countdowns) and custom providers. */

const REFRESH_MS = 10_000;

export function providerKeysPage({ api }: PageContext): Page {
  let providers: Provider[] = [];
  const keysBox = h("div", { class: "content", attrs: { "aria-live": "polite" } }, loading("Loading provider keys…"));
  const providersBox = h("div", { class: "content" }, loading("Loading providers…"));

  const loadKeys = async () => {
    try {
      const keys = await api.listProviderKeys();
      render(
        keysBox,
        keys.length === 0
          ? empty("No provider keys yet.", "Add a key to build a pool for a provider. With the mock provider (local dev) no key is needed.")
          : providerKeysTable(keys, { setEnabled, remove }),
      );
    } catch (error) {
      render(keysBox, errorBox(error, "Could not load provider keys"));
    }
  };
  const loadProviders = async () => {
    try {
      providers = await api.listProviders();
      render(providersBox, providersTable(providers));
    } catch (error) {
      render(providersBox, errorBox(error, "Could not load providers"));
    }
  };

  const setEnabled = async (key: ProviderKey, enabled: boolean) => {
    try {
      await api.setProviderKeyEnabled(key.id, enabled);
      toast(`${key.provider} key …${key.last4} ${enabled ? "enabled" : "disabled"}.`);
    } catch (error) {
      render(keysBox, errorBox(error, `Could not ${enabled ? "enable" : "disable"} the key`));
      return;
    }
    await loadKeys();
  };
  const remove = async (key: ProviderKey) => {
    const ok = await confirmDialog({
      title: `Delete ${key.provider} key …${key.last4}?`,
      message: "The key leaves the pool immediately and its ciphertext is deleted from the vault. This cannot be undone.",
      confirmLabel: "Delete key",
      danger: true,
      testId: "confirm-delete-provider-key",
    });
    if (!ok) return;
    try {
      await api.deleteProviderKey(key.id);
      toast(`${key.provider} key …${key.last4} deleted.`);
    } catch (error) {
      render(keysBox, errorBox(error, "Could not delete the key"));
      return;
    }
    await loadKeys();
  };

  const addKey = () =>
    openProviderKeyForm(api, providers, (added) => {
      toast(`Added ${added.provider} key …${added.last4}. The key itself will not be shown again.`);
      void loadKeys();
    });
  const addProvider = () =>
    openProviderForm(api, (added) => {
      toast(`Provider "${added.name}" added.`);
      void loadProviders();
    });

  void loadKeys();
  void loadProviders();
  const stopPoll = every(REFRESH_MS, () => {
    if (!userIsBusyIn(keysBox)) void loadKeys();
  });
  const ticker = window.setInterval(() => {
    if (tickCountdowns(keysBox)) void loadKeys();
  }, 1000);

  const el = h(
    "section",
    { class: "page" },
    pageHeader(
      "Provider keys",
      "Real provider keys, encrypted in the vault and pooled per provider. On a 429 the gateway moves to the next healthy key; the limited key cools down.",
      button("Refresh", () => void Promise.all([loadKeys(), loadProviders()])),
      button("Add provider key", addKey, { class: "primary", attrs: { "data-testid": "add-provider-key", "data-write": true } }),
    ),
    keysBox,
    h(
      "p",
      { class: "muted note" },
      "A disabled key stays out of rotation until you enable it; the gateway disables a key itself when its provider answers 401/403. Rate-limited keys cool down (with their whole scope) and come back by themselves.",
    ),
    h(
      "div",
      { class: "section-header" },
      h("h2", {}, "Providers"),
      button("Add custom provider", addProvider, { attrs: { "data-testid": "add-provider", "data-write": true } }),
    ),
    providersBox,
  );
  return {
    el,
    dispose: () => {
      stopPoll();
      window.clearInterval(ticker);
    },
  };
}
