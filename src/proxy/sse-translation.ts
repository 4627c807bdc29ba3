import { createParser, type EventSourceMessage } from "eventsource-parser";
import { MID_STREAM_ERROR_FRAME } from "../providers/openai-frames";
import type { StreamTranslator } from "../providers/types";

/**
 * Upstream bytes → OpenAI SSE frames, through a provider's StreamTranslator. Bytes may be split
 * anywhere (inside a UTF-8 sequence, a line, a CRLF); the output does not depend on where.
 * Any failure (a translator throwing, or `fail()` on a broken connection) ends the output with one
 * terminal error frame; after that nothing more is emitted.
 */
export class SseTranslation {
  private readonly decoder = new TextDecoder();
  private readonly parser;
  private pending: string[] = [];
  failed = false;
  private ended = false;

  constructor(private readonly translator: StreamTranslator) {
    this.parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        this.pending.push(...this.translator.push({ event: message.event, data: message.data }));
      },
    });
  }

  /** Feed upstream bytes; returns the frames now complete. */
  feed(bytes: Uint8Array): string[] {
    if (this.ended) return [];
    try {
      this.parser.feed(this.decoder.decode(bytes, { stream: true }));
      return this.drain();
    } catch {
      return this.fail();
    }
  }

  /** Upstream ended cleanly: flush the parser and the translator. */
  end(): string[] {
    if (this.ended) return [];
    try {
      const rest = this.decoder.decode();
      // A final event without its blank line still counts (some servers end the body right after it).
      this.parser.feed(rest.endsWith("\n") ? `${rest}\n` : `${rest}\n\n`);
      this.parser.reset({ consume: true });
      const frames = [...this.drain(), ...this.translator.end()];
      this.ended = true;
      return frames;
    } catch {
      return this.fail();
    }
  }

  /** The upstream failed (or sent something untranslatable): frames already complete, then the error frame. */
  fail(errorFrame = this.translator.errorFrame?.("upstream_error") ?? MID_STREAM_ERROR_FRAME): string[] {
    if (this.ended) return [];
    this.ended = true;
    this.failed = true;
    return [...this.drain(), errorFrame];
  }

  private drain(): string[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
