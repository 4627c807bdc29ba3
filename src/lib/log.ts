/**
 * Structured logging with redaction. Request and response bodies are never logged; every string
 * that reaches a log line passes through `redact`, which removes registered secrets (admin token,
 * decrypted provider keys) and anything shaped like a credential.
 */

const registered = new Set<string>();

/** Secrets shorter than this are not registered: replacing them would shred ordinary text. */
const MIN_SECRET_LENGTH = 8;

export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= MIN_SECRET_LENGTH) registered.add(secret);
}

const PATTERNS: RegExp[] = [
  /vk_[0-9A-Za-z]{8,}/g, // virtual keys
  /kfa_[0-9A-Za-z]{8,}/g, // named admin tokens
  /\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, // OpenAI / Anthropic style provider keys
  /\bAIza[0-9A-Za-z_-]{20,}/g, // Google API keys
  /whsec_[A-Za-z0-9+/=]{8,}/g, // webhook signing secrets
  /(bearer\s+)[^\s"',;]+/gi, // any bearer credential
  /((?:x-api-key|x-goog-api-key|authorization|api[_-]?key)["']?\s*[:=]\s*["']?)[^\s"',;]+/gi,
];

export const REDACTED = "[REDACTED]";

export function redactString(text: string): string {
  let out = text;
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const pattern of PATTERNS) {
    out = out.replace(pattern, (match, prefix: unknown) => (typeof prefix === "string" && match.startsWith(prefix) ? `${prefix}${REDACTED}` : REDACTED));
  }
  return out;
}

const SECRET_FIELD = /^(authorization|x-api-key|x-goog-api-key|api[_-]?key|key|token|secret|password|cookie)$/i;

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactString(value);
  if (value === null || typeof value !== "object" || depth > 8) return depth > 8 ? "[…]" : value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactString(k), SECRET_FIELD.test(k) ? REDACTED : redact(v, depth + 1)]));
}

function emit(level: "error" | "warn" | "info", message: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, message: redactString(message), ...(redact(fields) as Record<string, unknown>) });
  if (level === "error") console.error(line);
  else console.warn(line);
}

export const logError = (message: string, fields: Record<string, unknown> = {}) => emit("error", message, fields);
export const logWarn = (message: string, fields: Record<string, unknown> = {}) => emit("warn", message, fields);
