#!/usr/bin/env node
import { spawn, spawnSync } from "node:child_process";
import { ensureDevVars } from "./dev-vars.mjs";

/**
 * `npm run dev`: secrets into .dev.vars (first run), local D1 migrations, the dashboard build, then
 * `wrangler dev` on 127.0.0.1:8787 with local D1 and Durable Objects. Prints a copy-paste example.
 */

const HOST = "127.0.0.1";
const PORT = process.env.PORT ?? "8787";
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const vars = ensureDevVars();

function run(command, args) {
  const result = spawnSync(command, args, { stdio: "inherit", env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"]);
if (process.env.KEYFORGE_SKIP_DASHBOARD !== "1") run("npm", ["run", "-s", "build:dashboard"]);

const wrangler = spawn("npx", ["wrangler", "dev", "--ip", HOST, "--port", PORT, "--show-interactive-dev-session=false"], {
  stdio: ["ignore", "inherit", "inherit"],
  env,
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code) => process.exit(code ?? 0));

const base = `http://${HOST}:${PORT}`;
async function waitUntilUp() {
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

if (await waitUntilUp()) {
  const admin = vars.ADMIN_TOKEN;
  console.log(`
KeyForge is running at ${base}   (dashboard: ${base}/)
Admin token: ${admin}

1. Create a virtual key:
   curl -s ${base}/admin/v1/keys -H "Authorization: Bearer ${admin}" \\
     -H "Content-Type: application/json" -d '{"name":"my-agent","spend_cap_usd":5}'

2. Use it with the openai SDK (only baseURL changes), e.g. in Node:
   import OpenAI from "openai";
   const client = new OpenAI({ baseURL: "${base}/v1", apiKey: "vk_..." });
   const stream = await client.chat.completions.create({
     model: "mock/echo", stream: true, messages: [{ role: "user", content: "Hello KeyForge" }],
   });
   for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? "");

   or with curl:
   curl -N ${base}/v1/chat/completions -H "Authorization: Bearer vk_..." \\
     -H "Content-Type: application/json" -d '{"model":"mock/echo","stream":true,"messages":[{"role":"user","content":"Hello"}]}'
`);
}
