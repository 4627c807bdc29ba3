import type { StreamTranslator, Usage } from "../providers/types";
import { SseTranslation } from "./sse-translation";

/** How a streamed response ended, for metering and the audit entry. */
export interface StreamOutcome {
  /** 200 complete, 502 upstream failed mid-stream, 499 client went away. */
  status: number;
  usage: Usage | null;
  /** Bytes of OpenAI frames sent, for estimating usage when the provider reported none. */
  outputBytes: number;
}

const encoder = new TextEncoder();

/** The terminal frame the openai SDK turns into an APIError; no upstream text in it. */
export const MID_STREAM_ERROR_FRAME = `data: ${JSON.stringify({
  error: { message: "The provider failed mid-stream.", type: "api_error", param: null, code: "upstream_error" },
})}\n\n`;

/**
 * Pipes the upstream SSE body to the client through the translator, chunk by chunk as it arrives
 * (never buffered whole). `done` resolves exactly once, however the stream ends.
 */
export function translateStream(
  upstream: ReadableStream<Uint8Array>,
  translator: StreamTranslator,
  abort: AbortController,
): { body: ReadableStream<Uint8Array>; done: Promise<StreamOutcome> } {
  const translation = new SseTranslation(translator);
  const reader = upstream.getReader();
  let outputBytes = 0;
  let resolveDone!: (outcome: StreamOutcome) => void;
  const done = new Promise<StreamOutcome>((resolve) => (resolveDone = resolve));
  let finished = false;
  const finish = (status: number) => {
    if (finished) return;
    finished = true;
    resolveDone({ status, usage: translator.usage(), outputBytes });
  };
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, frames: string[]) => {
    if (frames.length === 0) return false;
    const bytes = encoder.encode(frames.join(""));
    outputBytes += bytes.byteLength;
    controller.enqueue(bytes);
    return true;
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const { done: ended, value } = await reader.read();
          if (ended) {
            send(controller, translation.end());
            controller.close();
            return finish(200);
          }
          if (send(controller, translation.feed(value))) return;
        }
      } catch {
        // Upstream reset or sent something unparseable: end with an error frame, keep the usage seen.
        if (!finished) {
          send(controller, [MID_STREAM_ERROR_FRAME]);
          controller.close();
        }
        finish(502);
      }
    },
    async cancel() {
      // The client went away: stop the upstream too, and settle what was used so far.
      abort.abort();
      finish(499);
      await reader.cancel().catch(() => undefined);
    },
  });
  return { body, done };
}
