#!/usr/bin/env node
/**
 * `npm run bench [-- --quick | --memory | --disk | --help]`: bundles the harness (bench/*.ts) for
 * Node and KeyForge (src/index.ts) for workerd with esbuild into node_modules/.cache/keyforge-bench/
 * (out of the way of git, tsc and eslint), then runs bench/main.ts from there. Node 20 cannot run
 * TypeScript, hence the build (~1 s).
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "node_modules", ".cache", "keyforge-bench");
mkdirSync(out, { recursive: true });

await Promise.all([
  build({
    entryPoints: { main: join(root, "bench/main.ts"), profile: join(root, "bench/profile.ts"), upstream: join(root, "bench/upstream.ts") },
    outdir: out,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  }),
  // What `wrangler deploy` would upload: one ES module, cloudflare:* left to the runtime, no minify.
  build({
    entryPoints: [join(root, "src/index.ts")],
    outfile: join(out, "keyforge.mjs"),
    bundle: true,
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    format: "esm",
    target: "es2022",
    external: ["cloudflare:*"],
    logLevel: "warning",
  }),
]);

process.chdir(root);
await import(join(out, process.argv.includes("--profile") ? "profile.mjs" : "main.mjs"));
