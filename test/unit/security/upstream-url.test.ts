import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkUpstreamBaseUrl } from "../../../src/security/upstream-url";

const strict = { allowInsecure: false };
const insecure = { allowInsecure: true };

// ---------- IPv4: private / loopback / special addresses in every spelling the URL parser folds ----------

/** [network, prefix length]: loopback, RFC 1918, link-local (metadata), CGNAT, "this network", multicast, broadcast. */
const PRIVATE_V4: Array<[number, number]> = [
  [0x7f000000, 8],
  [0x0a000000, 8],
  [0xac100000, 12],
  [0xc0a80000, 16],
  [0xa9fe0000, 16],
  [0x64400000, 10],
  [0x00000000, 8],
  [0xe0000000, 4],
  [0xffffffff, 32],
];

const privateV4 = fc
  .tuple(fc.constantFrom(...PRIVATE_V4), fc.nat({ max: 0xffffffff }))
  .map(([[net, len], host]) => (len === 32 ? net : (net | (host & (2 ** (32 - len) - 1))) >>> 0));
const publicV4 = fc.nat({ max: 0xffffffff }).filter((ip) => PRIVATE_V4.every(([net, len]) => ip >>> (32 - len) !== net >>> (32 - len)));

const dotted = (ip: number) => [24, 16, 8, 0].map((s) => (ip >>> s) & 0xff).join(".");

/** One number in decimal, octal (leading 0) or hex (0x / 0X, any case), with optional extra zeros. */
const encodeNumber = (n: number) =>
  fc.tuple(fc.constantFrom("dec", "oct", "hex"), fc.nat({ max: 3 }), fc.boolean()).map(([base, zeros, upper]) => {
    if (base === "dec") return String(n);
    if (base === "oct") return "0".repeat(zeros + 1) + n.toString(8);
    const digits = "0".repeat(zeros) + n.toString(16);
    return (upper ? "0X" : "0x") + (upper ? digits.toUpperCase() : digits);
  });

/** Splits into 4, 3, 2 or 1 parts (`a.b.c.d`, `a.b.c16`, `a.b24`, `u32`), each part spelled its own way. */
const encodeV4 = (ip: number) =>
  fc.tuple(fc.constantFrom(4, 3, 2, 1), fc.boolean(), fc.boolean()).chain(([parts, trailingDot, percent]) => {
    const b = [24, 16, 8, 0].map((s) => (ip >>> s) & 0xff);
    const numbers = parts === 4 ? b : parts === 3 ? [b[0]!, b[1]!, (b[2]! << 8) | b[3]!] : parts === 2 ? [b[0]!, (ip & 0xffffff) >>> 0] : [ip];
    return fc.tuple(...numbers.map(encodeNumber)).map((spelled) => {
      let host = spelled.join(".") + (trailingDot ? "." : "");
      // Percent-encoded digits are decoded by the parser before the IPv4 check.
      if (percent) host = host.replace(/[0-9]/, (d) => `%3${d}`);
      return host;
    });
  });

const urlAround = (host: string) =>
  fc
    .tuple(
      fc.constantFrom("https", "http", "HTTPS"),
      fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      fc.constantFrom("", "/", "/v1", "/a/b/"),
    )
    .map(([scheme, port, path]) => `${scheme}://${host}${port === undefined ? "" : `:${port}`}${path}`);

// ---------- IPv6 ----------

/** Eight 16-bit groups under a private / special prefix. */
const privateV6: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([0, 0, 0, 0, 0, 0, 0, 1]), // ::1
  fc.constant<number[]>([0, 0, 0, 0, 0, 0, 0, 0]), // ::
  privateV4.map((v4) => [0, 0, 0, 0, 0, 0xffff, v4 >>> 16, v4 & 0xffff]), // ::ffff:a.b.c.d
  privateV4.map((v4) => [0x64, 0xff9b, 0, 0, 0, 0, v4 >>> 16, v4 & 0xffff]), // NAT64
  privateV4.map((v4) => [0x2002, v4 >>> 16, v4 & 0xffff, 0, 0, 0, 0, 1]), // 6to4
  fc
    .tuple(fc.constantFrom(0xfe80, 0xfebf, 0xfc00, 0xfdff, 0xfec0, 0xff02), fc.array(fc.nat({ max: 0xffff }), { minLength: 7, maxLength: 7 }))
    .map(([first, rest]) => [first, ...rest]),
);

/** Full, zero-padded, upper/lower case, `::`-compressed, or with a dotted IPv4 tail. */
const encodeV6 = (groups: number[]) =>
  fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.nat({ max: 7 }), fc.nat({ max: 8 })).map(([pad, upper, v4tail, start, len]) => {
    let parts = groups.map((g) => g.toString(16).padStart(pad ? 4 : 1, "0"));
    if (upper) parts = parts.map((p) => p.toUpperCase());
    if (v4tail) parts = [...parts.slice(0, 6), `${groups[6]! >>> 8}.${groups[6]! & 0xff}.${groups[7]! >>> 8}.${groups[7]! & 0xff}`];
    const run = parts.slice(start, start + len);
    if (len > 0 && run.length === len && run.every((p) => /^0+$/.test(p))) {
      return `[${parts.slice(0, start).join(":")}::${parts.slice(start + len).join(":")}]`;
    }
    return `[${parts.join(":")}]`;
  });

describe("checkUpstreamBaseUrl: IP literals", () => {
  it("rejects every generated spelling of a private, loopback or special IPv4 address", () => {
    fc.assert(
      fc.property(
        privateV4.chain((ip) => fc.tuple(fc.constant(ip), encodeV4(ip).chain(urlAround))),
        ([ip, url]) => {
          // The generator is only meaningful if the URL parser reads the spelling as this address.
          expect(new URL(url).hostname).toBe(dotted(ip));
          expect(checkUpstreamBaseUrl(url, strict).ok).toBe(false);
          const loopback = ip >>> 24 === 127;
          expect(checkUpstreamBaseUrl(url, insecure).ok).toBe(loopback);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("rejects public IPv4 literals too: upstreams are named by DNS", () => {
    fc.assert(
      fc.property(publicV4.chain(encodeV4).chain(urlAround), (url) => {
        expect(checkUpstreamBaseUrl(url, strict).ok).toBe(false);
        expect(checkUpstreamBaseUrl(url, insecure).ok).toBe(false);
      }),
    );
  });

  it("rejects every generated spelling of a private, loopback or special IPv6 address", () => {
    fc.assert(
      fc.property(
        privateV6.chain((g) => fc.tuple(fc.constant(g), encodeV6(g).chain(urlAround))),
        ([groups, url]) => {
          expect(checkUpstreamBaseUrl(url, strict).ok).toBe(false);
          const isLoopback = groups.join(",") === "0,0,0,0,0,0,0,1";
          expect(checkUpstreamBaseUrl(url, insecure).ok).toBe(isLoopback);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each([
    "https://127.0.0.1",
    "https://2130706433",
    "https://0x7f.1",
    "https://0177.0.0.1",
    "https://127.1",
    "https://0x7f000001",
    "https://169.254.169.254/latest",
    "https://[::1]",
    "https://[::ffff:127.0.0.1]",
    "https://[::ffff:7f00:1]",
    "https://[0:0:0:0:0:0:0:1]",
    "https://[fe80::1%25eth0]",
    "https://8.8.8.8",
    "https://%31%32%37.0.0.1",
  ])("rejects %s", (url) => {
    expect(checkUpstreamBaseUrl(url, strict).ok).toBe(false);
  });
});

describe("checkUpstreamBaseUrl: host names", () => {
  // `xn--` labels must be valid punycode (the URL parser refuses e.g. `xn--a`), so none are generated.
  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$/).filter((l) => !l.startsWith("xn--"));
  const publicHost = fc
    .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom("com", "net", "org", "io", "ai", "dev", "co", "uk"))
    .map(([labels, tld]) => [...labels, tld].join("."))
    .filter((h) => !/(^|\.)(nip\.io|sslip\.io|xip\.io|localtest\.me|lvh\.me|vcap\.me|traefik\.me|lacolhost\.com)$/.test(h));

  it("accepts generated public host names over https and normalises them", () => {
    const path = fc.array(
      fc.stringMatching(/^[a-zA-Z0-9._~-]{1,8}$/).filter((s) => s !== "." && s !== ".."),
      { maxLength: 3 },
    );
    fc.assert(
      fc.property(
        publicHost,
        fc.boolean(),
        fc.option(
          fc.integer({ min: 1, max: 65535 }).filter((p) => p !== 443),
          { nil: undefined },
        ),
        path,
        fc.boolean(),
        (host, upper, port, segments, slash) => {
          const pathText = segments.map((s) => `/${s}`).join("") + (slash ? "/" : "");
          const input = `https://${upper ? host.toUpperCase() : host}${port === undefined ? "" : `:${port}`}${pathText}`;
          const result = checkUpstreamBaseUrl(input, strict);
          expect(result).toEqual({ ok: true, url: `https://${host}${port === undefined ? "" : `:${port}`}${segments.map((s) => `/${s}`).join("")}` });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects anything with userinfo, secure or not", () => {
    const part = fc.stringMatching(/^[A-Za-z0-9%._~!$&'()*+,;=-]{0,12}$/);
    const host = fc.oneof(publicHost, fc.constantFrom("127.0.0.1", "localhost", "[::1]"));
    fc.assert(
      fc.property(part, fc.option(part, { nil: undefined }), host, fc.constantFrom("https", "http"), (user, pass, h, scheme) => {
        const url = `${scheme}://${user}${pass === undefined ? "" : `:${pass}`}@${h}/v1`;
        expect(checkUpstreamBaseUrl(url, strict).ok).toBe(false);
        expect(checkUpstreamBaseUrl(url, insecure).ok).toBe(false);
      }),
    );
  });

  it.each([
    "https://localhost",
    "https://LOCALHOST.",
    "https://api.localhost",
    "https://metadata.google.internal/computeMetadata/v1",
    "https://foo.internal",
    "https://printer.local",
    "https://intranet",
    "https://127.0.0.1.nip.io",
    "https://x.home.arpa",
    "https://api.example.com/v1?x=1",
    "https://api.example.com/v1#frag",
    "https://api.example.com/v1?",
    "ftp://api.example.com",
    "http://api.example.com",
    "https://api.exa mple.com",
    "https://api.exämple.com",
    "https:/api.example.com",
    "//api.example.com",
    "https://api_x.example.com",
    "https://-a.example.com",
    "https://api.example.com\\@evil.com",
    "",
    "not a url",
  ])("rejects %s", (url) => {
    expect(checkUpstreamBaseUrl(url, strict).ok).toBe(false);
  });

  it("normalises scheme and host case, default port and trailing slashes", () => {
    expect(checkUpstreamBaseUrl("HTTPS://API.Example.COM:443/v1//", strict)).toEqual({ ok: true, url: "https://api.example.com/v1" });
    expect(checkUpstreamBaseUrl("https://api.example.com.", strict)).toEqual({ ok: true, url: "https://api.example.com" });
    expect(checkUpstreamBaseUrl("https://xn--mnchen-3ya.de/v1", strict)).toEqual({ ok: true, url: "https://xn--mnchen-3ya.de/v1" });
  });

  it("allows http and loopback only when insecure upstreams are allowed", () => {
    expect(checkUpstreamBaseUrl("http://api.example.com/v1", insecure)).toEqual({ ok: true, url: "http://api.example.com/v1" });
    expect(checkUpstreamBaseUrl("http://127.0.0.1:8787/v1/", insecure)).toEqual({ ok: true, url: "http://127.0.0.1:8787/v1" });
    expect(checkUpstreamBaseUrl("http://localhost:9000", insecure)).toEqual({ ok: true, url: "http://localhost:9000" });
    expect(checkUpstreamBaseUrl("http://[::1]:9000/v1", insecure)).toEqual({ ok: true, url: "http://[::1]:9000/v1" });
    expect(checkUpstreamBaseUrl("http://127.0.0.1:8787/v1", strict).ok).toBe(false);
    // Insecure mode opens loopback, not the rest of the private ranges.
    expect(checkUpstreamBaseUrl("http://10.0.0.1/v1", insecure).ok).toBe(false);
    expect(checkUpstreamBaseUrl("http://169.254.169.254/", insecure).ok).toBe(false);
    expect(checkUpstreamBaseUrl("http://metadata.google.internal/", insecure).ok).toBe(false);
  });
});
