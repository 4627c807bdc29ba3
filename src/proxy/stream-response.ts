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
 * The runtime's native pipe where there is one (workerd's IdentityTransformStream: the client side is
 * read by the runtime itself, so a chunk written costs no JavaScript call on that side); a standard
 * identity TransformStream elsewhere (Node, where the unit tests and `npm run bench:pump` run).
 */
const NativePipe = (globalThis as { IdentityTransformStream?: new () => TransformStream<Uint8Array, Uint8Array> }).IdentityTransformStream;
function bytePipe(): TransformStream<Uint8Array, Uint8Array> {
  return NativePipe ? new NativePipe() : new TransformStream<Uint8Array, Uint8Array>();
}

/**
 * Pipes the upstream SSE body to the client through the translator, chunk by chunk as it arrives
 * (never buffered whole). `done` resolves exactly once, however the stream ends; every ending but
 * a complete one also aborts the upstream call, so the provider connection never outlives it.
 *
 * A push loop, not a pull source: each upstream chunk wakes it once, it writes what the chunk
 * completes into the native pipe and reads on without waiting for the client to take it (one write
 * outstanding at most, so a slow client still holds the upstream back).
 */
export function translateStream(
  upstream: ReadableStream<Uint8Array>,
  translator: StreamTranslator,
  abort: AbortController,
  limits: StreamLimits,
): { body: ReadableStream<Uint8Array>; done: Promise<StreamOutcome> } {
  const translation = new SseTranslation(translator);
  const reader = upstream.getReader();
  const { readable, writable } = bytePipe();
  const writer = writable.getWriter();
  let outputBytes = 0;
  let resolveDone!: (outcome: StreamOutcome) => void;
  const done = new Promise<StreamOutcome>((resolve) => (resolveDone = resolve));
  let finished = false;
  // The idle and keep-alive timer's state (below); declared before `finish`, which clears the timer.
  let readingSince = -1; // when the pending read began; -1 when none is pending
  let quietSince = 0; // the pending read's start or the last keep-alive
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  /** The client's side is gone (cancelled, or a write failed): nothing more can be sent. */
  let clientClosed = false;
  /** The last write not yet taken by the client; the next one waits for it (backpressure). */
  let lastWrite: Promise<void> = Promise.resolve();
  const finish = (status: number) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    limits.clientGone?.removeEventListener("abort", clientLeft);
    resolveDone({ status, usage: translator.usage(), outputBytes });
  };
  const write = (bytes: Uint8Array) => {
    if (clientClosed) return;
    // A write fails only once the client's side is gone: the same as the client leaving (the pipe
    // may report a cancelled reader only to the next write, not through `writer.closed`).
    lastWrite = writer.write(bytes).catch(() => {
      if (!finished) clientLeft();
      clientClosed = true;
    });
  };
  const enqueue = (text: string) => {
    if (text === "") return;
    const bytes = encoder.encode(text);
    outputBytes += bytes.byteLength;
    write(bytes);
  };
  let trailerSent = false;
  /** The closing comment, once, never on a failed stream; its bytes are not output (they do not meter). */
  const sendTrailer = (bytesAfter = 0) => {
    if (trailerSent || !limits.trailer || translation.failed) return;
    trailerSent = true;
    // Metered as settle will meter it: with the [DONE] that follows counted (matters only for an estimate).
    write(encoder.encode(limits.trailer(translator.usage(), outputBytes + bytesAfter)));
  };
  /** Frames out; the trailer goes just before a `data: [DONE]` (clients may stop reading there), else after the last frames. */
  const send = (frames: string[], last = false) => {
    const done = limits.trailer ? frames.indexOf(DONE_FRAME) : -1;
    if (done >= 0) {
      const rest = frames.slice(done).join("");
      enqueue(frames.slice(0, done).join(""));
      sendTrailer(encoder.encode(rest).byteLength);
      enqueue(rest);
    } else {
      enqueue(frames.join(""));
      if (last) sendTrailer();
    }
  };
  /** The client's side ends after what was written (resolves once the client has taken it; at once when it is gone). */
  const close = async () => {
    if (clientClosed) return;
    await writer.close().catch(() => undefined);
  };
  // The client went away: stop the upstream too, and settle what was used so far.
  const stop = (status: number) => {
    abort.abort();
    finish(status);
    return reader.cancel().catch(() => undefined);
  };
  function clientLeft() {
    clientClosed = true;
    void stop(499);
  }
  if (limits.clientGone?.aborted) clientLeft();
  else limits.clientGone?.addEventListener("abort", clientLeft, { once: true });
  // The client cancelled its side (it disconnected): the same as the request signal firing.
  writer.closed.catch(() => {
    if (!finished) clientLeft();
    clientClosed = true;
  });

  /*
   * The idle timeout and the keep-alives: one timer per stream, not two per chunk. It wakes when the
   * next keep-alive or the idle deadline of the pending read is due and re-arms itself from there; a
   * read that begins only moves those instants, so chunks arriving faster than KEEPALIVE_MS cost no
   * timer at all. Idle: the upstream call is aborted and the pending read cancelled, so the read
   * ends (done or rejected) and the loop sees `timedOut`.
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
      write(KEEPALIVE);
    }
    timer = setTimeout(tick, Math.max(1, Math.min(quietSince + KEEPALIVE_MS, readingSince + limits.idleTimeoutMs) - now));
  };
  /** The idle timeout fired: the terminal timeout frame, then the call ends as 504 (settled whether or not the client reads it). */
  const timeOut = async () => {
    send(translation.fail(translator.errorFrame?.("upstream_timeout") ?? STREAM_TIMEOUT_ERROR_FRAME));
    await stop(504);
    await close();
  };

  const pump = async () => {
    try {
      for (;;) {
        // The next upstream chunk; while it is awaited the timer above keeps the client's connection alive.
        readingSince = quietSince = Date.now();
        timer ??= setTimeout(tick, Math.min(KEEPALIVE_MS, limits.idleTimeoutMs));
        const next = await reader.read();
        readingSince = -1;
        // Ended meanwhile (the client left): nothing more goes out.
        if (finished) return await close();
        if (timedOut) return await timeOut();
        if (next.done) {
          send(translation.end(), true);
          // Settled now, with every byte written counted: not when (or if) the client takes the last of them.
          finish(translation.failed ? 502 : 200);
          return await close();
        }
        // The client has not taken the previous write yet: wait for it before writing more.
        await lastWrite;
        send(translation.feed(next.value));
        if (translation.failed) {
          abort.abort();
          finish(502);
          return await close();
        }
      }
    } catch {
      readingSince = -1;
      // The idle timeout aborted the read.
      if (timedOut && !finished) return timeOut();
      // The upstream connection broke: end with an error frame, keep the usage seen so far.
      if (finished) return;
      send(translation.fail());
      finish(502);
      await close();
    }
  };
  void pump();
  return { body: readable, done };
}
