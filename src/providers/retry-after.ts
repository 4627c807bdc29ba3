/**
 * When may a rate-limited provider key be used again? Reads every hint the providers send
 * (reference §1.7, §2.6, §3.5) and returns milliseconds from `now`, or null when there is none.
 */

const GO_DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/** Go-style duration (`1s`, `6m0s`, `12ms`, `1h2m3s`, `1.5s`) → milliseconds; null if not one. */
export function parseGoDuration(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const m = GO_DURATION.exec(trimmed);
  if (!m) return null;
  const [h, min, s, ms] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v))) as number[];
  return Math.ceil(h! * 3_600_000 + min! * 60_000 + s! * 1000 + ms!);
}

/** `retry-after`: delta-seconds or an HTTP date. */
function parseRetryAfter(value: string, now: number): number | null {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function positive(values: Array<number | null>): number | null {
  const found = values.filter((v): v is number => v !== null && Number.isFinite(v) && v >= 0);
  return found.length === 0 ? null : Math.max(...found);
}

/**
 * Header hints in order of precision: `retry-after-ms`, `retry-after`, then the provider's reset
 * headers. For reset headers only the exhausted buckets count (remaining 0); if none says so,
 * the latest reset wins, so the key is not retried while any bucket may still be empty.
 */
export function retryAfterMsFromHeaders(headers: Headers, now: number): number | null {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const ra = headers.get("retry-after");
  if (ra !== null) {
    const parsed = parseRetryAfter(ra, now);
    if (parsed !== null) return parsed;
  }
  return positive([resetHint(headers, now, "x-ratelimit-", parseGoDuration), anthropicHint(headers, now)]);
}

function resetHint(headers: Headers, _now: number, prefix: string, parse: (v: string) => number | null): number | null {
  const buckets = ["requests", "tokens"];
  const exhausted: Array<number | null> = [];
  const all: Array<number | null> = [];
  for (const bucket of buckets) {
    const reset = headers.get(`${prefix}reset-${bucket}`);
    if (reset === null) continue;
    const value = parse(reset);
    all.push(value);
    if (headers.get(`${prefix}remaining-${bucket}`)?.trim() === "0") exhausted.push(value);
  }
  return positive(exhausted) ?? positive(all);
}

function anthropicHint(headers: Headers, now: number): number | null {
  const exhausted: Array<number | null> = [];
  const all: Array<number | null> = [];
  for (const bucket of ["requests", "tokens", "input-tokens", "output-tokens"]) {
    const reset = headers.get(`anthropic-ratelimit-${bucket}-reset`);
    if (reset === null) continue;
    const at = Date.parse(reset);
    const value = Number.isNaN(at) ? null : Math.max(0, at - now);
    all.push(value);
    if (headers.get(`anthropic-ratelimit-${bucket}-remaining`)?.trim() === "0") exhausted.push(value);
  }
  return positive(exhausted) ?? positive(all);
}
