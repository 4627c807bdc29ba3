import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { applyMigrations } from "./gateway";

declare module "vitest" {
  interface ProvidedContext {
    /** A persistence directory with only the D1 migrations applied (by wrangler), for gateways to copy. */
    migratedD1: string;
  }
}

/**
 * `wrangler d1 migrations apply --local` takes ~9 s (it boots its own runtime). Run it once per test
 * run, not once per gateway: each gateway starts from its own copy of this freshly migrated, empty
 * directory (support/gateway.ts), so no state passes between test files.
 */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "keyforge-e2e-migrated-"));
  applyMigrations(dir);
  project.provide("migratedD1", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
