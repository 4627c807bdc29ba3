import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleMockRequest } from "../src/providers/mock/mock-upstream";
import { anthropicUpstream } from "../test/mocks/anthropic-upstream";
import { MockControl } from "../test/mocks/control";
import { openAiResponses } from "../test/mocks/openai-responses";
import { type Endpoint, requestBody } from "./workload";

/**
 * The mock upstream every case talks to, run in its own process so its timers are not delayed by
 * the load client. It serves the three wire formats the bench sends:
 *   POST …/chat/completions   OpenAI Chat Completions (KeyForge's built-in mock, `handleMockRequest`:
 *                             usage chunk and `[DONE]` included)
 *   POST …/v1/messages        Anthropic Messages (test/mocks/anthropic-upstream.ts: message_start,
 *                             pings, content_block_*, message_delta with usage, message_stop)
 *   POST …/responses          OpenAI Responses (test/mocks/openai-responses.ts: response.created …
 *                             response.completed, sequence_number on every event)
 * The bytes (and headers) come from those exact-format mocks, rendered once at start-up for the
 * bench's own requests (bench/workload.ts), then served from plain node:http with fixed timing:
 * `latencyMs` before the headers, then one SSE frame every `gapMs`. Web streams per request would
 * cost more CPU than the gateways being measured.
 */

interface Canned {
  buffered: Buffer;
  frames: Buffer[];
  /** The mock's own response headers (content type, Anthropic's request-id and rate-limit headers). */
  headers: { buffered: Record<string, string>; streamed: Record<string, string> };
}

const ANTHROPIC_HEADERS = { "content-type": "application/json", "x-api-key": "sk-ant-bench-dummy", "anthropic-version": "2023-06-01" };

function render(endpoint: Endpoint, stream: boolean): Promise<Response> | Response {
  const body = requestBody(endpoint, stream);
  switch (endpoint) {
    case "chat":
      return handleMockRequest(new Request("http://mock/v1/chat/completions", { method: "POST", body }));
    case "messages":
      return anthropicUpstream(new Request("http://mock/v1/messages", { method: "POST", headers: ANTHROPIC_HEADERS, body }), new MockControl(), "/v1/messages");
    case "responses":
      return openAiResponses(JSON.parse(body) as Record<string, unknown>, "sk-bench-dummy", new MockControl());
  }
}

function headersOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== "content-length") out[name] = value;
  });
  return out;
}

async function canned(endpoint: Endpoint): Promise<Canned> {
  const one = await render(endpoint, false);
  const buffered = Buffer.from(await one.text());
  const streamed = await render(endpoint, true);
  if (!one.ok || !streamed.ok) throw new Error(`the ${endpoint} mock refused the bench request: HTTP ${one.status} ${buffered.toString()}`);
  const frames: Buffer[] = [];
  const reader = streamed.body!.getReader();
  // Each mock enqueues exactly one SSE frame per pull.
  for (let r = await reader.read(); !r.done; r = await reader.read()) frames.push(Buffer.from(r.value));
  return { buffered, frames, headers: { buffered: headersOf(one), streamed: headersOf(streamed) } };
}

/** Which canned answer a path gets (the gateways add their own prefixes: /v1, /anthropic/v1). */
function endpointOf(url: string | undefined): Endpoint | null {
  const path = url?.split("?")[0] ?? "";
  if (path.endsWith("/chat/completions")) return "chat";
  if (path.endsWith("/v1/messages")) return "messages";
  if (path.endsWith("/responses")) return "responses";
  return null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendFrames(res: ServerResponse, canned: Canned, gapMs: number): void {
  const frames = canned.frames;
  res.writeHead(200, canned.headers.streamed);
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

export interface Upstream {
  url: string;
  /** SSE frames per streamed answer, by endpoint (for the report). */
  frames: Record<Endpoint, number>;
}

export async function startUpstream(port: number, latencyMs: number, gapMs: number): Promise<Upstream> {
  const answers: Record<Endpoint, Canned> = { chat: await canned("chat"), messages: await canned("messages"), responses: await canned("responses") };
  const server = createServer((req, res) => {
    readBody(req)
      .then((text) => {
        const endpoint = endpointOf(req.url);
        if (req.method !== "POST" || endpoint === null) {
          res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"Unknown route"}}');
          return;
        }
        const answer = answers[endpoint];
        const stream = (JSON.parse(text) as { stream?: boolean }).stream === true;
        setTimeout(() => {
          if (stream) return sendFrames(res, answer, gapMs);
          res.writeHead(200, { ...answer.headers.buffered, "content-length": answer.buffered.byteLength }).end(answer.buffered);
        }, latencyMs);
      })
      .catch(() => res.writeHead(400).end());
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    frames: { chat: answers.chat.frames.length, messages: answers.messages.frames.length, responses: answers.responses.frames.length },
  };
}

// Run as a child process: `node upstream.mjs <latencyMs> <gapMs>` prints `READY <url> <frames as JSON>`.
if (process.argv[1]?.endsWith("upstream.mjs")) {
  const [latency = "20", gap = "2"] = process.argv.slice(2);
  const { url, frames } = await startUpstream(0, Number(latency), Number(gap));
  process.stdout.write(`READY ${url} ${JSON.stringify(frames)}\n`);
  process.on("SIGTERM", () => process.exit(0));
  // If the bench dies without stopping us (SIGKILL), we are re-parented: go too.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && process.exit(0), 1_000).unref();
}
