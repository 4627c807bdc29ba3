import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { StreamTranslator } from "../providers/types";

/**
 * Upstream bytes → OpenAI SSE frames, through a provider's StreamTranslator. Bytes may be split
 * anywhere (inside a UTF-8 sequence, a line, a CRLF); the output does not depend on where.
 */
export class SseTranslation {
  private readonly decoder = new TextDecoder();
  private readonly parser;
  private pending: string[] = [];

  constructor(private readonly translator: StreamTranslator) {
    this.parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        this.pending.push(...this.translator.push({ event: message.event, data: message.data }));
      },
    });
  }

  /** Feed upstream bytes; returns the frames now complete. */
  feed(bytes: Uint8Array): string[] {
    this.parser.feed(this.decoder.decode(bytes, { stream: true }));
    return this.drain();
  }

  /** Upstream ended cleanly: flush the parser and the translator. */
  end(): string[] {
    const rest = this.decoder.decode();
    // A final event without its blank line still counts (some servers end the body right after it).
    this.parser.feed(rest.endsWith("\n") ? `${rest}\n` : `${rest}\n\n`);
    this.parser.reset({ consume: true });
    return [...this.drain(), ...this.translator.end()];
  }

  private drain(): string[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
