import { describe, expect, it } from "vitest";
import { admin, chat, createKey, mockUpstream, sdk } from "./support/gateway";

/**
 * Model allow-lists are matched against the provider and model a request RESOLVES to, never against
 * the text the agent typed: a custom provider whose model ids contain a `/` (`relay/openai/gpt-4o-mini`)
 * must not pass for `openai/gpt-4o-mini`. A bare pattern (`gpt-*`) names the models its bare name
 * routes to (OpenAI here), not a model of that name on another provider. Custom provider names may
 * not shadow a built-in provider or alias.
 */

const say = (model: string) => ({ model, max_tokens: 8, messages: [{ role: "user", content: `allow-list ${model}` }] });

/** A custom provider (its own pool key) answering with the mock OpenAI upstream. */
async function relay(): Promise<string> {
  const name = `relay-${crypto.randomUUID().slice(0, 8)}`;
  const created = await admin("/providers", { method: "POST", json: { name, type: "openai-compatible", base_url: `${mockUpstream.url()}/openai/v1` } });
  expect(created.status).toBe(201);
  const key = await admin("/provider-keys", { method: "POST", json: { provider: name, key: `sk-relay-${crypto.randomUUID().replace(/-/g, "")}` } });
  expect(key.status).toBe(201);
  return name;
}

async function statusOf(apiKey: string, model: string): Promise<number | string> {
  const res = await chat(apiKey, say(model));
  const body = (await res.json()) as { error?: { code: string } };
  return res.status === 200 ? 200 : `${res.status} ${body.error?.code}`;
}

describe("allow-lists match the resolved provider and model", () => {
  it("a provider-qualified pattern does not pass for a custom provider's model of the same text", async () => {
    const name = await relay();
    const exact = await createKey({ models: ["openai/gpt-4o-mini"] });
    expect(await statusOf(exact.key, `${name}/openai/gpt-4o-mini`)).toBe("403 model_not_allowed");
    expect(await statusOf(exact.key, "gpt-4o-mini")).toBe(200);
    expect(await statusOf(exact.key, "openai/gpt-4o-mini")).toBe(200);
    expect(await statusOf(exact.key, "OpenAI/gpt-4o-mini")).toBe(200);

    const family = await createKey({ models: ["openai/*"] });
    expect(await statusOf(family.key, `${name}/openai/gpt-5-pro`)).toBe("403 model_not_allowed");
    expect(await statusOf(family.key, `${name}/openai/gpt-4o-mini`)).toBe("403 model_not_allowed");
    expect(await statusOf(family.key, "gpt-4o-mini")).toBe(200);
  }, 20_000);

  it("a bare pattern matches what its bare name routes to, not the same name on another provider", async () => {
    const name = await relay();
    const bare = await createKey({ models: ["gpt-*", "gpt-4o-mini"] });
    expect(await statusOf(bare.key, "gpt-4o-mini")).toBe(200);
    expect(await statusOf(bare.key, "openai/gpt-4o-mini")).toBe(200);
    expect(await statusOf(bare.key, `${name}/gpt-4o-mini`)).toBe("403 model_not_allowed");
    expect(await statusOf(bare.key, `${name}/openai/gpt-4o-mini`)).toBe("403 model_not_allowed");

    // Gemini answers to `google/` too, and its bare names route to it.
    const gemini = await createKey({ models: ["google/gemini-2.5-flash", "gemini-2.5-pro"] });
    expect(await statusOf(gemini.key, "gemini-2.5-flash")).toBe(200);
    expect(await statusOf(gemini.key, "gemini/gemini-2.5-flash")).toBe(200);
    expect(await statusOf(gemini.key, "google/gemini-2.5-pro")).toBe(200);
    expect(await statusOf(gemini.key, `${name}/gemini-2.5-pro`)).toBe("403 model_not_allowed");
  }, 20_000);

  it("the custom provider's own patterns still admit its models", async () => {
    const name = await relay();
    const own = await createKey({ models: [`${name}/*`] });
    expect(await statusOf(own.key, `${name}/openai/gpt-4o-mini`)).toBe(200);
    expect(await statusOf(own.key, "gpt-4o-mini")).toBe("403 model_not_allowed");
    const everything = await createKey({ models: ["*"] });
    expect(await statusOf(everything.key, `${name}/openai/gpt-4o-mini`)).toBe(200);
    expect(await statusOf(everything.key, "mock/echo")).toBe(200);
  }, 20_000);

  it("GET /v1/models lists a custom provider's model only for patterns that name that provider", async () => {
    const name = await relay();
    const price = { model: `${name}/openai/gpt-4o-mini`, input_usd_per_mtok: 0.15, output_usd_per_mtok: 0.6 };
    expect((await admin("/prices", { method: "POST", json: price })).status).toBe(201);
    const openai = (await sdk((await createKey({ models: ["openai/*"] })).key).models.list()).data.map((m) => m.id);
    expect(openai).toContain("openai/gpt-4o-mini");
    expect(openai).not.toContain(`${name}/openai/gpt-4o-mini`);
    const own = (await sdk((await createKey({ models: [`${name}/*`] })).key).models.list()).data.map((m) => m.id);
    expect(own).toEqual([`${name}/openai/gpt-4o-mini`]);
  }, 20_000);
});

describe("custom provider names cannot shadow a built-in provider", () => {
  it.each(["openai", "anthropic", "google", "gemini", "mock"])("POST /admin/v1/providers refuses '%s' with a 400 naming the field", async (name) => {
    const res = await admin("/providers", { method: "POST", json: { name, type: "openai-compatible", base_url: `${mockUpstream.url()}/openai/v1` } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.message).toMatch(/name/);
    expect(body.error.message).toMatch(/built-in provider/);
    const listed = (await (await admin("/providers")).json()) as { data: Array<{ name: string; builtin: boolean }> };
    expect(listed.data.filter((p) => p.name === name).every((p) => p.builtin)).toBe(true);
  });
});
