import { DONE_FRAME, STREAM_TIMEOUT_ERROR_FRAME } from "../providers/openai-frames";
import type { StreamTranslator, Usage } from "../providers/types";
import { SseTranslation } from "./sse-translation";

/** How a streamed response ended, for metering and the audit entry. */
export interface StreamOutcome {
  /** 200 complete, 502 upstream failed mid-stream, 504 upstream idle too long, 499 client went away. */
  status: number;
  usage: Usage | null;
  /** Bytes of OpenAI frames sent, for estimating usage when the provider reported none. */
  outputBytes: number;
}

export interface StreamLimits {
  /** Longest wait for the next upstream chunk (from the first one on) before the stream is ended as timed out. */
  idleTimeoutMs: number;
  /**
   * Aborts when the client goes away (the incoming request's signal, `enable_request_signal`).
   * Over a real connection the runtime otherwise cancels the response body only when a write to it
   * fails, and while the upstream stalls nothing is written: the disconnect would go unnoticed.
   */
  clientGone?: AbortSignal;
  /**
   * A closing SSE comment for a complete stream, from the final usage and the bytes sent before it
   * (not counted in `outputBytes`); it goes just before a final `data: [DONE]`, else last.
   */
  trailer?: (usage: Usage | null, outputBytes: number) => string;
}

const encoder = new TextEncoder();
/**
 * While the upstream is silent, an SSE comment goes to the client this often (SSE clients, the
 * openai SDKs included, ignore comment lines). A write to a closed connection fails, so a client
 * that left is noticed within about this long even where the request signal does not fire.
 */
export const KEEPALIVE_MS = 500;
const KEEPALIVE = encoder.encode(": keep-alive\n\n");

/**
 * Pipes the upstream SSE body to the client through the translator, chunk by chunk as it arrives
 * (never buffered whole). `done` resolves exactly once, however the stream ends; every ending but
 * a complete one also aborts the upstream call, so the provider connection never outlives it.
 */
export function translateStream(
  upstream: ReadableStream<Uint8Array>,
  translator: StreamTranslator,
  abort: AbortController,
  limits: StreamLimits,
): { body: ReadableStream<Uint8Array>; done: Promise<StreamOutcome> } {
  const translation = new SseTranslation(translator);
  const reader = upstream.getReader();
  let outputBytes = 0;
  let resolveDone!: (outcome: StreamOutcome) => void;
  const done = new Promise<StreamOutcome>((resolve) => (resolveDone = resolve));
  let finished = false;
  // The idle and keep-alive timer's state (below); declared before `finish`, which clears the timer.
  let readingSince = -1; // when the pending read began; -1 when none is pending
  let quietSince = 0; // the pending read's start or the last keep-alive
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  let keepAliveTo: ReadableStreamDefaultController<Uint8Array> | undefined;
  const finish = (status: number) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    limits.clientGone?.removeEventListener("abort", clientLeft);
    resolveDone({ status, usage: translator.usage(), outputBytes });
  };
  const enqueue = (controller: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    if (text === "") return;
    const bytes = encoder.encode(text);
    outputBytes += bytes.byteLength;
    controller.enqueue(bytes);
  };
  let trailerSent = false;
  /** The closing comment, once, never on a failed stream; its bytes are not output (they do not meter). */
  const sendTrailer = (controller: ReadableStreamDefaultController<Uint8Array>, bytesAfter = 0) => {
    if (trailerSent || !limits.trailer || translation.failed) return;
    trailerSent = true;
    // Metered as settle will meter it: with the [DONE] that follows counted (matters only for an estimate).
    controller.enqueue(encoder.encode(limits.trailer(translator.usage(), outputBytes + bytesAfter)));
  };
  /** Frames out; the trailer goes just before a `data: [DONE]` (clients may stop reading there), else after the last frames. */
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, frames: string[], last = false) => {
    const done = limits.trailer ? frames.indexOf(DONE_FRAME) : -1;
    if (done >= 0) {
      const rest = frames.slice(done).join("");
      enqueue(controller, frames.slice(0, done).join(""));
      sendTrailer(controller, encoder.encode(rest).byteLength);
      enqueue(controller, rest);
    } else {
      enqueue(controller, frames.join(""));
      if (last) sendTrailer(controller);
    }
    return frames.length > 0;
  };
  // The client went away: stop the upstream too, and settle what was used so far.
  const stop = (status: number) => {
    abort.abort();
    finish(status);
    return reader.cancel().catch(() => undefined);
  };
  function clientLeft() {
    void stop(499);
  }
  if (limits.clientGone?.aborted) clientLeft();
  else limits.clientGone?.addEventListener("abort", clientLeft, { once: true });

  /*
   * The idle timeout and the keep-alives: one timer per stream, not two per chunk. It wakes when the
   * next keep-alive or the idle deadline of the pending read is due and re-arms itself from there; a
   * read that begins only moves those instants, so chunks arriving faster than KEEPALIVE_MS cost no
   * timer at all. Idle: the upstream call is aborted and the pending read cancelled, so the read
   * ends (done or rejected) and `pull` sees `timedOut`.
   */
  const tick = () => {
    timer = undefined;
    if (finished || readingSince < 0) return; // the next read re-arms
    const now = Date.now();
    if (now - readingSince >= limits.idleTimeoutMs) {
      timedOut = true;
      abort.abort();
      void reader.cancel().catch(() => undefined);
      return;
    }
    if (now - quietSince >= KEEPALIVE_MS) {
      quietSince = now;
      try {
        keepAliveTo?.enqueue(KEEPALIVE);
      } catch {
        // The body was cancelled meanwhile: cancel() settles.
      }
    }
    timer = setTimeout(tick, Math.max(1, Math.min(quietSince + KEEPALIVE_MS, readingSince + limits.idleTimeoutMs) - now));
  };
  /** The next upstream chunk; while it is awaited the timer above keeps the client's connection alive. */
  const nextChunk = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    keepAliveTo = controller;
    readingSince = quietSince = Date.now();
    timer ??= setTimeout(tick, Math.min(KEEPALIVE_MS, limits.idleTimeoutMs));
    try {
      return await reader.read();
    } finally {
      readingSince = -1;
    }
  };
  /** The idle timeout fired: the terminal timeout frame, then the call ends as 504. */
  const timeOut = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    try {
      send(controller, translation.fail(translator.errorFrame?.("upstream_timeout") ?? STREAM_TIMEOUT_ERROR_FRAME));
      controller.close();
    } catch {
      // The body was cancelled meanwhile: it is settled as 504 all the same (the timeout came first).
    }
    return stop(504);
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const next = await nextChunk(controller);
          if (finished) {
            // Ended meanwhile (the client left): nothing more goes out.
            controller.close();
            return;
          }
          if (timedOut) return await timeOut(controller);
          if (next.done) {
            send(controller, translation.end(), true);
            controller.close();
            return finish(translation.failed ? 502 : 200);
          }
          const sent = send(controller, translation.feed(next.value));
          if (translation.failed) {
            controller.close();
            abort.abort();
            return finish(502);
          }
          if (sent) return;
        }
      } catch {
        // The idle timeout aborted the read.
        if (timedOut && !finished) return timeOut(controller);
        // The upstream connection broke: end with an error frame, keep the usage seen so far.
        if (!finished) {
          send(controller, translation.fail());
          controller.close();
        }
        finish(502);
      }
    },
    async cancel() {
      await stop(499);
    },
  });
  return { body, done };
}
