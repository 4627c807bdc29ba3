import type { Context } from "hono";
import type { AppEnv } from "../env";
import type { KeyRecord } from "../keys/types";
import { emitInBackground } from "./emit";

/** `key.revoked` / `key.rotated` from an admin route, after the response (waitUntil). */
export function emitKeyEvent(c: Context<AppEnv>, type: "key.revoked" | "key.rotated", record: KeyRecord, extra: Record<string, unknown> = {}): void {
  const data = { key_id: record.id, name: record.name, version: record.version, ...extra };
  emitInBackground(c.env, (p) => c.executionCtx.waitUntil(p), type, data);
}
