import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleMockRequest } from "../src/providers/mock/mock-upstream";
import { BENCH_PROMPT } from "./workload";

/**
 * The mock OpenAI upstream every case talks to, run in its own process so its timers are not delayed
 * by the load client. The bytes come from KeyForge's built-in mock (`handleMockRequest`: the exact
 * OpenAI wire format, usage chunk and `[DONE]` included); they are rendered once at start-up and then
 * served from plain node:http with fixed timing: `latencyMs` before the headers, then one SSE frame
 * every `gapMs`. Web streams per request would cost more CPU than the gateways being measured.
 */

interface Canned {
  buffered: Buffer;
  frames: Buffer[];
}

async function render(stream: boolean): Promise<Response> {
  const body = {
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: BENCH_PROMPT }],
    stream,
    stream_options: stream ? { include_usage: true } : undefined,
  };
  return handleMockRequest(new Request("http://mock/v1/chat/completions", { method: "POST", body: JSON.stringify(body) }));
}

async function canned(): Promise<Canned> {
  const buffered = Buffer.from(await (await render(false)).text());
  const frames: Buffer[] = [];
  const reader = (await render(true)).body!.getReader();
  // The mock enqueues exactly one SSE frame per pull.
  for (let r = await reader.read(); !r.done; r = await reader.read()) frames.push(Buffer.from(r.value));
  return { buffered, frames };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendFrames(res: ServerResponse, frames: Buffer[], gapMs: number): void {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    const frame = frames[i++];
    if (!frame) return void res.end();
    res.write(frame);
    setTimeout(next, gapMs);
  };
  setTimeout(next, gapMs);
}

export async function startUpstream(port: number, latencyMs: number, gapMs: number): Promise<string> {
  const { buffered, frames } = await canned();
  const server = createServer((req, res) => {
    readBody(req)
      .then((text) => {
        if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
          res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"Unknown route"}}');
          return;
        }
        const stream = (JSON.parse(text) as { stream?: boolean }).stream === true;
        setTimeout(() => {
          if (stream) return sendFrames(res, frames, gapMs);
          res.writeHead(200, { "content-type": "application/json", "content-length": buffered.byteLength }).end(buffered);
        }, latencyMs);
      })
      .catch(() => res.writeHead(400).end());
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// Run as a child process: `node bench/tmp/upstream.mjs <latencyMs> <gapMs>` prints `READY <url>`.
if (process.argv[1]?.endsWith("upstream.mjs")) {
  const [latency = "20", gap = "2"] = process.argv.slice(2);
  const url = await startUpstream(0, Number(latency), Number(gap));
  process.stdout.write(`READY ${url}\n`);
  process.on("SIGTERM", () => process.exit(0));
  // If the bench dies without stopping us (SIGKILL), we are re-parented: go too.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && process.exit(0), 1_000).unref();
}
