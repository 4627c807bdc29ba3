/**
 * Shared state of the mock upstreams, driven over HTTP by tests running inside workerd:
 *   POST /_mock/reset                         forget recorded requests and scripts
 *   POST /_mock/script {key | match, status, times?, headers?, body?, delayMs?, cutAfterFrames?, stallAfterFrames?, stallMs?, rawBody?, bodyBytes?}
 *        the next `times` (default: unlimited) requests made with provider key `key` (or whose
 *        body contains `match`) get this answer
 *   GET  /_mock/requests?key=                 the requests received (path, key, body, aborted)
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface Script {
  /** Applies to requests made with this provider key… */
  key?: string;
  /** …or to requests whose JSON body contains this text (lets parallel tests share a key). */
  match?: string;
  status: number;
  times?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Delay before answering headers (timeouts). */
  delayMs?: number;
  /** For streams: cut the connection after this many SSE frames. */
  cutAfterFrames?: number;
  /**
   * For streams: after this many SSE frames send nothing more for `stallMs` (default 60 s) or until
   * the gateway goes away, then carry on. The frames themselves are unchanged (exact wire format).
   */
  stallAfterFrames?: number;
  stallMs?: number;
  /** Reply with this raw text (malformed upstream). */
  rawBody?: string;
  /** Reply with a body this many bytes long, streamed in 64 KiB chunks (a huge or endless body). */
  bodyBytes?: number;
}

export interface Recorded {
  provider: string;
  path: string;
  key: string | null;
  body: unknown;
  /** The body exactly as received, and the provider-specific headers (anthropic-*), where a mock keeps them. */
  raw?: string;
  headers?: Record<string, string>;
  at: number;
  /**
   * The gateway went away before the whole answer was sent (its connection closed, or the body
   * was cancelled): true means the upstream call was really aborted. False once it completes.
   */
  aborted?: boolean;
}

export class MockControl {
  recorded: Recorded[] = [];
  scripts: Script[] = [];
  /** The request being answered, so `record` (called by the upstream handlers) can be tied to its response. */
  private readonly current = new AsyncLocalStorage<{ entry?: Recorded; script?: Script }>();

  record(entry: Recorded): void {
    const slot = this.current.getStore();
    if (slot) slot.entry = entry;
    this.recorded.push(entry);
    if (this.recorded.length > 5000) this.recorded.splice(0, 1000);
  }

  /** The script that applies to this request now, consuming one use. */
  take(key: string | null, body?: unknown): Script | null {
    const text = body === undefined ? "" : JSON.stringify(body);
    const index = this.scripts.findIndex((s) => (s.match !== undefined ? text.includes(s.match) : s.key === key));
    if (index < 0) return null;
    const script = this.scripts[index]!;
    const slot = this.current.getStore();
    if (slot) slot.script = script;
    if (script.times !== undefined) {
      script.times -= 1;
      if (script.times <= 0) this.scripts.splice(index, 1);
    }
    return script;
  }

  /**
   * Answers a provider request with `produce` and watches the answer go out: the recorded entry gets
   * `aborted: true` if the connection closes, or the body is cancelled, before the body has ended.
   * A body that the mock itself breaks (cutStream) counts as ended: that is the upstream failing.
   */
  async track(request: Request, produce: () => Promise<Response>): Promise<Response> {
    const slot: { entry?: Recorded; script?: Script } = {};
    const response = await this.current.run(slot, produce);
    const entry = slot.entry;
    if (!entry || !response.body) return response;
    entry.aborted = false;
    let ended = false;
    let gone!: () => void;
    const goneAway = new Promise<void>((resolve) => (gone = resolve));
    const abandon = () => {
      if (!ended) entry.aborted = true;
      gone();
    };
    request.signal.addEventListener("abort", abandon, { once: true });
    const reader = response.body.getReader();
    const stall = slot.script?.stallAfterFrames === undefined ? null : { frames: slot.script.stallAfterFrames, ms: slot.script.stallMs ?? 60_000, seen: 0 };
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            ended = true;
            controller.close();
          } else if (stall && stall.seen < stall.frames) {
            // Send exactly the frames before the stall point, pause, then the rest of this chunk.
            const { at, seen } = frameBoundary(value, stall.frames - stall.seen);
            stall.seen += seen;
            controller.enqueue(value.subarray(0, at));
            if (stall.seen < stall.frames) return;
            await Promise.race([new Promise((r) => setTimeout(r, stall.ms)), goneAway]);
            if (at < value.byteLength) controller.enqueue(value.subarray(at));
          } else controller.enqueue(value);
        } catch (error) {
          ended = true;
          controller.error(error);
        }
      },
      cancel(reason) {
        abandon();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  async handle(request: Request): Promise<Response | null> {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/_mock/")) return null;
    const route = url.pathname.slice("/_mock/".length);
    if (route === "reset" && request.method === "POST") {
      this.recorded = [];
      this.scripts = [];
      return Response.json({ ok: true });
    }
    if (route === "script" && request.method === "POST") {
      const script = (await request.json()) as Script;
      this.scripts = this.scripts.filter((s) => s.key !== script.key || s.match !== script.match);
      this.scripts.push(script);
      return Response.json({ ok: true });
    }
    if (route === "requests" && request.method === "GET") {
      const key = url.searchParams.get("key");
      return Response.json(key === null ? this.recorded : this.recorded.filter((r) => r.key === key));
    }
    return Response.json({ error: "unknown control route" }, { status: 404 });
  }
}

/** Answers a script's failure, if any, in the provider's format. */
export async function scriptedResponse(script: Script): Promise<Response | null> {
  if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
  if (script.bodyBytes !== undefined) {
    return new Response(filler(script.bodyBytes), { status: script.status, headers: { "content-type": "application/json", ...script.headers } });
  }
  if (script.rawBody !== undefined) {
    return new Response(script.rawBody, { status: script.status, headers: { "content-type": "application/json", ...script.headers } });
  }
  if (script.status === 200) return null;
  return new Response(JSON.stringify(script.body ?? {}), {
    status: script.status,
    headers: { "content-type": "application/json", ...script.headers },
  });
}

/**
 * `{"error":{"message":"xxx…` for `bytes` bytes, at about 64 KiB per millisecond: paced, because
 * serve.ts writes without waiting for the socket to drain, so only pacing keeps the body in flight
 * long enough for a test to see whether the gateway stopped reading it.
 */
function filler(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((r) => setTimeout(r, 1));
      if (sent === 0) {
        sent = 22;
        return controller.enqueue(new TextEncoder().encode('{"error":{"message":"'));
      }
      if (sent >= bytes) return controller.close();
      const n = Math.min(chunk.byteLength, bytes - sent);
      sent += n;
      controller.enqueue(chunk.subarray(0, n));
    },
  });
}

/**
 * Where the `frames`-th SSE frame of `bytes` ends (a blank line: LF LF, or CRLF CRLF as Gemini
 * sends), or the chunk's end if it holds fewer; `seen` counts the frames ended before `at`.
 */
function frameBoundary(bytes: Uint8Array, frames: number): { at: number; seen: number } {
  let seen = 0;
  for (let i = 1; i < bytes.byteLength; i++) {
    const blank = bytes[i] === 10 && (bytes[i - 1] === 10 || (bytes[i - 1] === 13 && bytes[i - 2] === 10));
    if (blank && ++seen === frames) return { at: i + 1, seen };
  }
  return { at: bytes.byteLength, seen };
}

/** Cuts a streamed body after `frames` SSE frames, like a reset connection. */
export function cutStream(body: ReadableStream<Uint8Array>, frames: number): ReadableStream<Uint8Array> {
  let seen = 0;
  const decoder = new TextDecoder();
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      controller.enqueue(value);
      // Gemini separates frames with CRLF blank lines, the others with LF.
      seen += (decoder.decode(value, { stream: true }).match(/\r?\n\r?\n/g) ?? []).length;
      if (seen >= frames) {
        // Without a pause the reset overtakes the frames just written and the client sees none of them.
        await new Promise((r) => setTimeout(r, 20));
        controller.error(new Error("mock upstream: connection reset"));
      }
    },
  });
}
