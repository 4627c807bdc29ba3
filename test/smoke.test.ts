import { exports } from "cloudflare:workers";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";

it("runs the worker, a DO and D1", async () => {
  const res = await exports.default.fetch(new Request("http://x/"));
  expect(await res.text()).toBe("pong");
  const row = await env.DB.prepare("select count(*) as n from virtual_keys").first<{ n: number }>();
  expect(row?.n).toBe(0);
  const up = await fetch(`${env.OPENAI_BASE_URL}/models`, { headers: { authorization: "Bearer sk-x" } });
  expect(up.status).toBe(200);
});
