#!/usr/bin/env node
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * `npm run deploy`: create the D1 database (first time), apply migrations remotely, build the dashboard,
 * `wrangler deploy`, then put any missing secrets (generated). Needs `wrangler login`
 * (or CLOUDFLARE_API_TOKEN) first. Generated secrets are printed once; store the admin token.
 */

const PLACEHOLDER = "00000000-0000-0000-0000-000000000000";
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

function wrangler(args, input) {
  const result = spawnSync("npx", ["wrangler", ...args], {
    env,
    input,
    encoding: "utf8",
    stdio: input === undefined ? ["inherit", "pipe", "inherit"] : ["pipe", "pipe", "inherit"],
  });
  if (result.status !== 0) {
    console.error(result.stdout);
    process.exit(result.status ?? 1);
  }
  return result.stdout;
}

// 1. D1: create once and record the id in wrangler.toml.
const toml = readFileSync("wrangler.toml", "utf8");
if (toml.includes(PLACEHOLDER)) {
  const out = wrangler(["d1", "create", "keyforge"]);
  const id = /database_id\s*=\s*"([0-9a-f-]{36})"/.exec(out)?.[1] ?? /"database_id":\s*"([0-9a-f-]{36})"/.exec(out)?.[1];
  if (!id) {
    console.error("Could not read the new database id from `wrangler d1 create`:\n" + out);
    process.exit(1);
  }
  writeFileSync("wrangler.toml", toml.replace(PLACEHOLDER, id));
  console.log(`Created D1 database keyforge (${id}) and wrote its id to wrangler.toml.`);
}

// 2. Migrations, remotely.
wrangler(["d1", "migrations", "apply", "DB", "--remote"]);

// 3. Dashboard (static assets) and the Worker.
const build = spawnSync("npm", ["run", "-s", "build:dashboard"], { stdio: "inherit", env });
if (build.status !== 0) process.exit(build.status ?? 1);
const deploy = spawnSync("npx", ["wrangler", "deploy"], { stdio: "inherit", env });
if (deploy.status !== 0) process.exit(deploy.status ?? 1);

// 4. Secrets that are not set yet get fresh random values (the Worker fails closed until then).
const existing = new Set(JSON.parse(wrangler(["secret", "list", "--format", "json"])).map((s) => s.name));
const generated = {
  ADMIN_TOKEN: () => `kf_admin_${randomBytes(24).toString("base64url")}`,
  KEY_PEPPER: () => randomBytes(32).toString("base64url"),
  VAULT_KEKS: () => `v1:${randomBytes(32).toString("base64")}`,
  AUDIT_HMAC_SECRET: () => randomBytes(32).toString("base64url"),
  AUDIT_SIGNING_KEYS: () => `keyforge-${new Date().toISOString().slice(0, 10)}:${randomBytes(32).toString("base64")}`,
};
const missing = Object.fromEntries(
  Object.entries(generated)
    .filter(([name]) => !existing.has(name))
    .map(([name, make]) => [name, make()]),
);
if (Object.keys(missing).length > 0) {
  const dir = mkdtempSync(join(tmpdir(), "keyforge-"));
  const file = join(dir, "secrets.json");
  writeFileSync(file, JSON.stringify(missing), { mode: 0o600 });
  try {
    wrangler(["secret", "bulk", file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (missing.ADMIN_TOKEN) console.log(`\nADMIN_TOKEN (shown once, store it now): ${missing.ADMIN_TOKEN}\n`);
}
