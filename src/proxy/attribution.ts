import { GatewayError } from "../errors";
import { toHex } from "../lib/bytes";

/**
 * Attribution (issue 16): who a request was for and what it was part of, recorded on the key's
 * audit entry and on its usage rollups. Both come from the caller, so both are bounded here, once,
 * before the KeyGuard sees them: an agent cannot make one audit entry large, and the KeyGuard caps
 * how many distinct values one key adds to the rollups per hour (ATTRIBUTION_VALUES_PER_HOUR).
 * Neither ever takes part in policy matching (models, limits): only per-user limits read the user.
 */

export const TAGS_HEADER = "x-keyforge-tags";
/** At most this many tags per request, each 1–64 characters of [A-Za-z0-9._:/-]. */
export const MAX_TAGS = 8;
export const MAX_TAG_LENGTH = 64;
const TAG = /^[A-Za-z0-9._:/-]{1,64}$/;
/** A longer end-user id (or one with control characters) is kept as a readable prefix plus a hash of the whole. */
export const MAX_USER_LENGTH = 128;
const USER_PREFIX = 96;

export interface Attribution {
  /** The end-user id (OpenAI `user` / `safety_identifier`, Anthropic `metadata.user_id`), bounded; null when none. */
  user: string | null;
  /** Distinct tags in the order first given; empty when none. */
  tags: string[];
}

/** The `x-keyforge-tags` header: comma-separated tags; a malformed one is a 400 naming the header. */
export function parseTags(header: string | undefined | null): string[] {
  if (header === undefined || header === null || header.trim() === "") return [];
  const tags = [...new Set(header.split(",").map((t) => t.trim()))];
  const bad = (why: string) => new GatewayError("invalid_request", `Invalid '${TAGS_HEADER}' header: ${why}`, { param: TAGS_HEADER });
  if (tags.length > MAX_TAGS) throw bad(`at most ${MAX_TAGS} tags.`);
  for (const tag of tags) {
    if (!TAG.test(tag)) throw bad(`each tag must be 1-${MAX_TAG_LENGTH} characters of letters, digits and . _ : / - (comma-separated).`);
  }
  return tags;
}

/**
 * The end-user id as recorded. Never refused (Claude Code's `metadata.user_id` is ~160 characters):
 * one that is too long, or holds control characters, becomes its first 96 printable characters,
 * `~` and 16 hex digits of its SHA-256, so distinct ids stay distinct and the record stays bounded.
 */
export async function boundUser(raw: unknown): Promise<string | null> {
  if (typeof raw !== "string" || raw === "") return null;
  const printable = raw.replace(/[\p{Cc}\p{Cs}]/gu, "");
  if (printable === raw && raw.length <= MAX_USER_LENGTH) return raw;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(raw)));
  return `${printable.slice(0, USER_PREFIX)}~${toHex(digest).slice(0, 16)}`;
}

/** The first end-user id field a request carries (OpenAI `user`, then `safety_identifier`). */
export function openAiUser(request: { user?: unknown; safety_identifier?: unknown }): unknown {
  return typeof request.user === "string" && request.user !== "" ? request.user : request.safety_identifier;
}
