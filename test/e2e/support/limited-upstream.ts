import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { freePort } from "./ports";

/**
 * A tiny OpenAI-compatible upstream for the provider-key status test. Which answer a request gets
 * depends on the provider key it carries: `…-limited-…` → 429 with Retry-After (the key cools
 * down), `…-revoked-…` → 401 (the key is disabled), anything else → a normal completion.
 */
export const RETRY_AFTER_SECONDS = 600;

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const auth = req.headers.authorization ?? "";
  req.resume();
  req.on("end", () => {
    if (auth.includes("-limited-")) {
      reply(
        res,
        429,
        { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } },
        { "retry-after": String(RETRY_AFTER_SECONDS) },
      );
    } else if (auth.includes("-revoked-")) {
      reply(res, 401, { error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } });
    } else {
      reply(res, 200, {
        id: "chatcmpl-e2e",
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: "e2e-model",
        choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      });
    }
  });
}

export async function startLimitedUpstream(): Promise<{ url: string; close: () => Promise<void> }> {
  const port = await freePort();
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}/v1`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
