import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { direct } from "../support/fuzz";
import { BASE } from "../support/gateway";
import { TEST_SECRETS } from "../support/test-secrets";

/**
 * The SSRF guard at the front door: `POST /admin/v1/providers` in production mode (the test runtime
 * sets ALLOW_INSECURE_UPSTREAMS=on, so these go through app.fetch with it unset) refuses every
 * class of dangerous base URL, in many spellings, and stores nothing. The pure guard is
 * property-tested in test/unit/security; redirects (never followed) are in test/faults-upstream.test.ts.
 */

const PRODUCTION = { ALLOW_INSECURE_UPSTREAMS: undefined };
const DEV = { ALLOW_INSECURE_UPSTREAMS: "on" };

const REFUSED: Record<string, string[]> = {
  "plain http": ["http://api.example.com/v1", "HTTP://api.example.com", "http://localhost:11434/v1"],
  "IPv4 literals, every spelling": [
    "https://127.0.0.1",
    "https://2130706433",
    "https://0x7f000001",
    "https://0x7f.1",
    "https://0177.0.0.1",
    "https://127.1",
    "https://%31%32%37.0.0.1",
    "https://169.254.169.254/latest",
    "https://10.0.0.7:8000/v1",
    "https://192.168.1.1",
    "https://0.0.0.0",
    "https://8.8.8.8",
  ],
  "IPv6 literals": [
    "https://[::1]",
    "https://[::ffff:127.0.0.1]",
    "https://[0:0:0:0:0:ffff:7f00:1]",
    "https://[fd00::1]",
    "https://[fe80::1%25eth0]",
    "https://[2001:db8::1]",
  ],
  "internal and special-use names": [
    "https://localhost",
    "https://api.localhost",
    "https://metadata.google.internal",
    "https://printer.local",
    "https://router.home.arpa",
    "https://intranet",
    "https://build.corp",
    "https://api.test",
    "https://x.onion",
    "https://localhost.",
    "https://LOCALHOST",
  ],
  "wildcard DNS that maps to an IP": ["https://127.0.0.1.nip.io", "https://10-0-0-1.sslip.io", "https://app.localtest.me", "https://lvh.me"],
  userinfo: ["https://user:pw@api.example.com", "https://user@api.example.com", "https://api.example.com@169.254.169.254", "https://:@api.example.com"],
  "query, fragment, backslash, odd schemes": [
    "https://api.example.com/v1?key=x",
    "https://api.example.com/v1#x",
    "https:\\\\169.254.169.254",
    "https://api.example.com\\@evil.example",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "ftp://api.example.com",
    "//api.example.com",
    "https://",
  ],
  "non-ASCII and whitespace": [
    "https://аpi.example.com",
    "https://１２７.0.0.1",
    " https://api.example.com",
    "https://api.example.com /v1",
    "https://api.exa\u00admple.com",
  ],
};

let counter = 0;

async function addProvider(baseUrl: string, overrides: Partial<Cloudflare.Env>) {
  const name = `ssrf-${counter++}`;
  const { res, text } = await direct(
    new Request(`${BASE}/admin/v1/providers`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name, type: "openai-compatible", base_url: baseUrl }),
    }),
    overrides,
  );
  return { name, status: res.status, body: JSON.parse(text) as { error?: { code: string; message: string }; base_url?: string } };
}

async function stored(name: string): Promise<boolean> {
  return (await env.DB.prepare("select 1 from providers where name = ?").bind(name).first()) !== null;
}

describe("SSRF: POST /admin/v1/providers in production mode", () => {
  const cases = Object.entries(REFUSED).flatMap(([kind, urls]) => urls.map((url) => [kind, url] as const));

  it(`refuses ${cases.length} dangerous base URLs in ${Object.keys(REFUSED).length} classes, storing none`, async () => {
    for (const [kind, url] of cases) {
      const res = await addProvider(url, PRODUCTION);
      expect(res.status, `${kind}: ${JSON.stringify(url)} → ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error).toMatchObject({ code: "invalid_request", message: expect.stringContaining("base_url") });
      expect(await stored(res.name)).toBe(false);
    }
    console.log(`[ssrf] ${cases.length} base URLs in ${Object.keys(REFUSED).length} classes refused at POST /admin/v1/providers`);
  });

  it("accepts a public https host (punycode included), normalised", async () => {
    for (const [url, normalised] of [
      ["https://API.Example.com/v1/", "https://api.example.com/v1"],
      ["https://xn--80ak6aa92e.com:8443/openai/v1", "https://xn--80ak6aa92e.com:8443/openai/v1"],
    ] as const) {
      const res = await addProvider(url, PRODUCTION);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.base_url).toBe(normalised);
      expect(await stored(res.name)).toBe(true);
    }
  });

  it("dev mode (ALLOW_INSECURE_UPSTREAMS=on) opens loopback http only: private ranges and userinfo stay refused", async () => {
    expect((await addProvider("http://127.0.0.1:11434/v1", DEV)).status).toBe(201);
    expect((await addProvider("http://localhost:8000/v1", DEV)).status).toBe(201);
    for (const url of ["http://10.0.0.7:8000/v1", "http://169.254.169.254", "http://user:pw@127.0.0.1:8000", "https://metadata.google.internal"]) {
      expect((await addProvider(url, DEV)).status, url).toBe(400);
    }
  });
});
