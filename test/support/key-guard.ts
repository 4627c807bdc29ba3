import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { KeyGuard } from "../../durable-objects/key-guard";
import { KeyGuardStore } from "../../durable-objects/key-guard-store";
import { hashKeySecret } from "../../src/keys/secret-hash";
import type { AdmitRequest } from "../../src/keys/types";
import { TEST_SECRETS } from "./test-secrets";

/** Direct access to a key's KeyGuard for tests that need its clock or storage. */

export function guardOf(id: string): DurableObjectStub<KeyGuard> {
  return env.KEY_GUARD.getByName(id);
}

export function setClock(id: string, now: number): Promise<void> {
  return runInDurableObject(guardOf(id), (instance: KeyGuard) => {
    instance.now = () => now;
  });
}

export function sqlRows<T>(id: string, query: string): Promise<T[]> {
  return runInDurableObject(guardOf(id), (_instance: KeyGuard, state) => {
    // A KeyGuard creates its tables with its first record; before that it is an empty store, read as one.
    const store = new KeyGuardStore(state.storage.sql);
    if (!store.exists()) store.migrate();
    return state.storage.sql.exec(query).toArray() as T[];
  });
}

export async function admitRequest(key: { id: string; key: string }, requestId: string, overrides: Partial<AdmitRequest> = {}): Promise<AdmitRequest> {
  const secret = key.key.slice(19, 51);
  return {
    keyId: key.id,
    requestId,
    secretHash: await hashKeySecret(TEST_SECRETS.KEY_PEPPER, key.id, secret),
    model: "mock/echo",
    provider: "mock",
    modelNames: ["mock/echo", "echo"],
    promptTokens: 10,
    maxTokens: 90,
    modelMaxTokens: null,
    price: { input: 1_000_000, cachedInput: 100_000, cacheWrite: 1_000_000, output: 2_000_000 },
    stream: false,
    ...overrides,
  };
}
