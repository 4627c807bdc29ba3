import { formatUsd, usdNumber } from "../pricing/price";
import type { StreamFailure, StreamTranslator, Usage } from "../providers/types";

/**
 * The charged cost in the answer (issue 18): `usage.cost` in USD, as OpenRouter does, in the usage
 * object of a buffered answer and of the stream event that carries the final usage, plus a closing
 * SSE comment (`: keyforge-cost-usd=…`) for clients that did not ask for usage. The number is the
 * same micro-dollars the key is charged (and x-keyforge-cost-usd shows), as a JSON number.
 *
 * Native passthrough bodies (Anthropic Messages, OpenAI Responses) carry signed or opaque content
 * (thinking signatures, encrypted reasoning) that must round-trip byte for byte, so the member is
 * spliced into the JSON text: every other byte stays as the provider sent it. An upstream `cost`
 * member in that usage object (an OpenAI-compatible relay's own) is replaced, never duplicated.
 */

/** Where the final usage travels in a stream: chat chunks, Responses terminal events, Messages' message_delta. */
export type UsageShape = "chat" | "responses" | "messages";

const WS = new Set([" ", "\t", "\n", "\r"]);

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text[i]!)) i++;
  return i;
}

function skipString(text: string, i: number): number {
  for (i += 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  throw new Error("unterminated string");
}

/** The index just after the JSON value starting at `i` (valid JSON assumed: the caller parsed it). */
function skipValue(text: string, i: number): number {
  const ch = text[i];
  if (ch === '"') return skipString(text, i);
  if (ch !== "{" && ch !== "[") {
    while (i < text.length && !WS.has(text[i]!) && text[i] !== "," && text[i] !== "}" && text[i] !== "]") i++;
    return i;
  }
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = skipString(text, i) - 1;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error("unterminated value");
}

interface Member {
  valueStart: number;
  valueEnd: number;
}

/** The members of the object at `start` (`{`): name → last occurrence (as JSON.parse keeps the last), and the last value's end. */
function members(text: string, start: number): { byName: Map<string, Member>; lastEnd: number | null } {
  const byName = new Map<string, Member>();
  let lastEnd: number | null = null;
  let i = skipWs(text, start + 1);
  while (i < text.length && text[i] !== "}") {
    const keyEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, keyEnd)) as string;
    const valueStart = skipWs(text, skipWs(text, keyEnd) + 1);
    const valueEnd = skipValue(text, valueStart);
    byName.set(name, { valueStart, valueEnd });
    lastEnd = valueEnd;
    i = skipWs(text, valueEnd);
    if (text[i] === ",") i = skipWs(text, i + 1);
  }
  return { byName, lastEnd };
}

/**
 * `text` with `"cost": <usd>` set in the object at `path` (an existing `cost` there replaced), or
 * null when there is no object at `path` (usage null or absent) or the text is not JSON.
 */
export function withUsageCost(text: string, path: readonly string[], usd: number): string | null {
  try {
    let at = skipWs(text, 0);
    for (const name of path) {
      if (text[at] !== "{") return null;
      const member = members(text, at).byName.get(name);
      if (!member) return null;
      at = member.valueStart;
    }
    if (text[at] !== "{") return null;
    const value = JSON.stringify(usd);
    const { byName, lastEnd } = members(text, at);
    const existing = byName.get("cost");
    if (existing) return text.slice(0, existing.valueStart) + value + text.slice(existing.valueEnd);
    if (lastEnd === null) return `${text.slice(0, at + 1)}"cost":${value}${text.slice(at + 1)}`;
    return `${text.slice(0, lastEnd)},"cost":${value}${text.slice(lastEnd)}`;
  } catch {
    return null;
  }
}

const TERMINAL_RESPONSES = /^event: response\.(completed|incomplete|failed)\n/;

/** The JSON path of the usage object in one SSE frame of the given shape, or null when the frame carries none. */
function usagePath(frame: string, shape: UsageShape): readonly string[] | null {
  switch (shape) {
    case "chat":
      return frame.startsWith("data: {") && frame.includes('"usage"') ? ["usage"] : null;
    case "responses":
      return TERMINAL_RESPONSES.test(frame) ? ["response", "usage"] : null;
    case "messages":
      return frame.startsWith("event: message_delta\n") ? ["usage"] : null;
  }
}

/** One frame with the cost set in its usage object; its other lines and bytes as they were. */
function frameWithCost(frame: string, path: readonly string[], usd: number): string {
  const lines = frame.replace(/\n\n$/, "").split("\n");
  const first = lines.findIndex((l) => l.startsWith("data: "));
  if (first < 0 || lines.slice(first).some((l) => !l.startsWith("data: "))) return frame;
  const payload = lines
    .slice(first)
    .map((l) => l.slice(6))
    .join("\n");
  const edited = withUsageCost(payload, path, usd);
  if (edited === null) return frame;
  const data = edited
    .split("\n")
    .map((l) => `data: ${l}`)
    .join("\n");
  return `${[...lines.slice(0, first), data].join("\n")}\n\n`;
}

/**
 * Wraps a stream translator: each frame carrying usage gets `cost` for the usage metered so far
 * (the final usage frame: exactly what settle charges, as both price `translator.usage()`).
 */
export function costingTranslator(inner: StreamTranslator, shape: UsageShape, costMicros: (usage: Usage) => number): StreamTranslator {
  const annotate = (frames: string[]) => {
    if (frames.length === 0) return frames;
    // Usage as of the end of this push (the same for each of its frames). None yet: nothing to annotate,
    // and no frame is scanned (most frames of a chat stream, where usage comes last).
    const usage = inner.usage();
    if (!usage) return frames;
    return frames.map((frame) => {
      const path = usagePath(frame, shape);
      return path ? frameWithCost(frame, path, usdNumber(costMicros(usage))) : frame;
    });
  };
  const wrapped: StreamTranslator = {
    push: (event) => annotate(inner.push(event)),
    end: () => annotate(inner.end()),
    usage: () => inner.usage(),
  };
  if (inner.errorFrame) wrapped.errorFrame = (code: StreamFailure) => inner.errorFrame!(code);
  return wrapped;
}

/** The closing SSE comment with the charged cost (SSE clients ignore comment lines). */
export function costComment(micros: number): string {
  return `: keyforge-cost-usd=${formatUsd(micros)}\n\n`;
}
