import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, inject } from "vitest";
import type { KeyGuard } from "../../durable-objects/key-guard";

/**
 * Every test file ends with no alarm pending and no driven clock left behind: an alarm a test
 * scheduled (rollups, checkpoints, reservation expiry) must not fire after its file, and nothing may
 * keep the runtime busy once the last test is done.
 */
// A fuzz file leaves an object per forged key id, and at a larger FUZZ_SCALE the pool makes each call
// slower as they accumulate (test/support/fuzz.ts › scaledTimeout): ~0.4 s for 183 of them at scale 1.
const timeoutMs = 30_000 * Math.max(1, inject("fuzzScale")) ** 2;

afterAll(async () => {
  const ids = await listDurableObjectIds(env.KEY_GUARD);
  for (const id of ids) {
    await runInDurableObject(env.KEY_GUARD.get(id), async (instance: KeyGuard, state) => {
      instance.now = () => Date.now();
      await state.storage.deleteAlarm();
    });
  }
}, timeoutMs);
