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
            return finish(translation.failed ? 502 : 200);
          }
          const sent = send(controller, translation.feed(value));
          if (translation.failed) {
            controller.close();
            abort.abort();
            return finish(502);
          }
          if (sent) return;
        }
      } catch {
        // The upstream connection broke: end with an error frame, keep the usage seen so far.
        if (!finished) {
          send(controller, translation.fail());
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
