/**
 * SSRF guard for admin-supplied upstream base URLs (custom OpenAI-compatible providers). The gateway
 * attaches provider keys to requests sent there, so the URL must name a public HTTPS host by DNS
 * name: no IP literal in any spelling, no internal or special-use name, no credentials, no query.
 *
 * IP literals are recognised after WHATWG URL parsing, which already folds every IPv4 spelling
 * (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`, percent-encoded digits) into dotted-quad form and
 * compresses IPv6, so one check covers them all. Non-ASCII input is refused before parsing, which
 * shuts out full-width digits and homoglyphs (international names go in as punycode).
 *
 * Limit: a public DNS name can still resolve to a private address. Workers' outbound fetch cannot
 * reach private networks, so this guard is defence in depth, plus a blocklist of the well-known
 * wildcard-DNS services (`127.0.0.1.nip.io`) that exist to do exactly that.
 */

export type UpstreamUrlCheck = { ok: true; url: string } | { ok: false; reason: string };

export interface UpstreamUrlOptions {
  /** Local dev and tests only (`ALLOW_INSECURE_UPSTREAMS=on`): permits http: and loopback hosts. */
  allowInsecure: boolean;
}

const MAX_URL_LENGTH = 2048;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Special-use and internal suffixes (RFC 6761, 6762, 8375, cloud metadata names). */
const BLOCKED_SUFFIXES = ["localhost", "local", "internal", "localdomain", "lan", "intranet", "corp", "home.arpa", "arpa", "test", "invalid", "onion"];
/** Public wildcard-DNS services that resolve names with an embedded IP to that IP. */
const REBINDING_SERVICES = ["nip.io", "sslip.io", "xip.io", "traefik.me", "localtest.me", "lvh.me", "vcap.me", "lacolhost.com"];

const fail = (reason: string): UpstreamUrlCheck => ({ ok: false, reason });

const hasSuffix = (host: string, suffix: string) => host === suffix || host.endsWith(`.${suffix}`);

function isLoopbackHost(host: string): boolean {
  return host === "[::1]" || (IPV4.test(host) && host.startsWith("127.")) || hasSuffix(host, "localhost");
}

/** Checks on the raw text, before the parser gets a chance to normalise anything away. */
function checkRaw(input: string): string | null {
  if (input.length === 0 || input.length > MAX_URL_LENGTH) return `must be 1 to ${MAX_URL_LENGTH} characters`;
  if (/[^\x21-\x7e]/.test(input)) return "must be printable ASCII without spaces (use punycode for international names)";
  if (input.includes("\\")) return "must not contain backslashes";
  if (input.includes("?") || input.includes("#")) return "must not have a query or fragment";
  const match = /^https?:\/\/([^/]*)/i.exec(input);
  if (!match) return "must be an absolute https:// URL";
  if (match[1]!.includes("@")) return "must not contain credentials (userinfo)";
  return null;
}

function checkHost(hostname: string, allowInsecure: boolean): string | null {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (allowInsecure && isLoopbackHost(host)) return null;
  if (host.startsWith("[") || IPV4.test(host)) return "must use a DNS host name, not an IP address";
  if (BLOCKED_SUFFIXES.some((s) => hasSuffix(host, s))) return "must not be a local, internal or special-use host name";
  if (REBINDING_SERVICES.some((s) => hasSuffix(host, s))) return "must not use a wildcard-DNS service that maps names to IP addresses";
  if (host.length > 253) return "host name is too long";
  const labels = host.split(".");
  if (labels.length < 2) return "host name must be fully qualified (e.g. api.example.com)";
  if (!labels.every((l) => LABEL.test(l))) return "host name is not a valid DNS name";
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return "host name must not end in a numeric label";
  return null;
}

export function checkUpstreamBaseUrl(input: string, opts: UpstreamUrlOptions): UpstreamUrlCheck {
  if (typeof input !== "string") return fail("must be a string");
  const rawProblem = checkRaw(input);
  if (rawProblem) return fail(rawProblem);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return fail("is not a valid URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && opts.allowInsecure)) return fail("must use https://");
  if (url.username !== "" || url.password !== "") return fail("must not contain credentials (userinfo)");
  if (url.search !== "" || url.hash !== "") return fail("must not have a query or fragment");
  const hostProblem = checkHost(url.hostname, opts.allowInsecure);
  if (hostProblem) return fail(hostProblem);
  const hostname = url.hostname.toLowerCase().replace(/\.$/, "");
  const port = url.port === "" ? "" : `:${url.port}`;
  const path = url.pathname.replace(/\/+$/, "");
  return { ok: true, url: `${url.protocol}//${hostname}${port}${path}` };
}
