/**
 * Shared state of the mock upstreams, driven over HTTP by tests running inside workerd:
 *   POST /_mock/reset                         forget recorded requests and scripts
 *   POST /_mock/script {key | match, status, times?, headers?, body?, delayMs?, cutAfterFrames?, rawBody?}
 *        the next `times` (default: unlimited) requests made with provider key `key` (or whose
 *        body contains `match`) get this answer
 *   GET  /_mock/requests?key=                 the requests received (path, key, body)
 */

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
  /** Reply with this raw text (malformed upstream). */
  rawBody?: string;
}

export interface Recorded {
  provider: string;
  path: string;
  key: string | null;
  body: unknown;
  at: number;
}

export class MockControl {
  recorded: Recorded[] = [];
  scripts: Script[] = [];

  record(entry: Recorded): void {
    this.recorded.push(entry);
    if (this.recorded.length > 5000) this.recorded.splice(0, 1000);
  }

  /** The script that applies to this request now, consuming one use. */
  take(key: string | null, body?: unknown): Script | null {
    const text = body === undefined ? "" : JSON.stringify(body);
    const index = this.scripts.findIndex((s) => (s.match !== undefined ? text.includes(s.match) : s.key === key));
    if (index < 0) return null;
    const script = this.scripts[index]!;
    if (script.times !== undefined) {
      script.times -= 1;
      if (script.times <= 0) this.scripts.splice(index, 1);
    }
    return script;
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
  if (script.rawBody !== undefined) {
    return new Response(script.rawBody, { status: script.status, headers: { "content-type": "application/json", ...script.headers } });
  }
  if (script.status === 200) return null;
  return new Response(JSON.stringify(script.body ?? {}), {
    status: script.status,
    headers: { "content-type": "application/json", ...script.headers },
  });
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
