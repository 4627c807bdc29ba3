import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serve, type Served } from "../mocks/serve";
import { mockUpstreams } from "../mocks/upstreams";
import { startGateway, type Gateway } from "./support/gateway";

/**
 * A client that hangs up while the upstream stalls, over a real TCP connection to `wrangler dev`
 * (in the workerd test pool the client's cancel reaches the stream directly, which hides the
 * problem): the gateway must notice at once, settle the reservation and close its upstream call,
 * not wait until the upstream sends again or the reservation's TTL.
 */

const STALL_MS = 30_000;

describe.skipIf(process.env.KEYFORGE_E2E === "off")("stream: client disconnect during an upstream stall (wrangler dev)", () => {
  let upstream: Served;
  let gateway: Gateway;
  const admin = async (path: string, init: { method?: string; json?: unknown } = {}) =>
    fetch(`${gateway.url}/admin/v1${path}`, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${gateway.adminToken}`, "content-type": "application/json" },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });

  beforeAll(async () => {
    upstream = await serve(mockUpstreams());
    gateway = await startGateway({
      ALLOW_INSECURE_UPSTREAMS: "on",
      OPENAI_BASE_URL: `${upstream.url}/openai/v1`,
      OPENAI_API_KEY: "sk-e2e-stall-0123456789",
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  it("settles as 499 and aborts the upstream within about a second, while the upstream is still stalled", async () => {
    const m = `stall-${crypto.randomUUID()}`;
    await fetch(`${upstream.url}/_mock/script`, {
      method: "POST",
      body: JSON.stringify({ match: m, status: 200, stallAfterFrames: 2, stallMs: STALL_MS, times: 1 }),
    });
    const created = (await (await admin("/keys", { method: "POST", json: { name: "stall", spend_cap_usd: 1 } })).json()) as { id: string; key: string };

    // A raw HTTP client: read the first bytes of the stream, then destroy the socket.
    const body = JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: `${m} one two three four` }] });
    const url = new URL(`${gateway.url}/v1/chat/completions`);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(url, { method: "POST", headers: { authorization: `Bearer ${created.key}`, "content-type": "application/json" } }, (res) => {
        expect(res.statusCode).toBe(200);
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", () => undefined);
      req.setTimeout(10_000, () => reject(new Error("no stream data")));
      req.end(body);
    });
    const disconnected = Date.now();

    let reserved = -1;
    let took = -1;
    while (Date.now() - disconnected < 10_000) {
      const key = (await (await admin(`/keys/${created.id}`)).json()) as { usage: { reserved_usd: number; requests: number } };
      reserved = key.usage.reserved_usd;
      if (reserved === 0) {
        took = Date.now() - disconnected;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`[stall] wrangler dev: reservation released ${took} ms after the client disconnected (upstream stalled ${STALL_MS} ms)`);
    expect(reserved).toBe(0);
    expect(took).toBeLessThan(3000);

    const audit = (await (await admin(`/keys/${created.id}/audit`)).json()) as { data: Array<{ status: number | string; kind?: string }> };
    // Request entries only: the key's log opens with its copied policy history (entries with a `kind`).
    expect(audit.data.filter((e) => e.kind === undefined).map((e) => e.status)).toEqual([499]);
    const calls = (await (await fetch(`${upstream.url}/_mock/requests`)).json()) as Array<{ body: unknown; aborted?: boolean }>;
    expect(calls.find((c) => JSON.stringify(c.body).includes(m))?.aborted).toBe(true);
  }, 60_000);
});
