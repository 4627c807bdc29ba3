/**
 * What the public report page needs from the gateway: the report JSON and the published verifier
 * keys. Both are public (no token); nothing else is fetched.
 */

export interface LoadedReport {
  id: string;
  report: unknown;
  /** The raw text: verified as is (a duplicated key is refused), and its size shown. */
  text: string;
  bytes: number;
  trustedKeys: string[];
}

/** `/reports/<id>` → `<id>`; ids are URL-safe tokens. */
export function reportIdFrom(pathname: string): string | null {
  return /^\/reports\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname)?.[1] ?? null;
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res.text();
}

export async function loadReport(id: string): Promise<LoadedReport> {
  const [text, keysText] = await Promise.all([fetchText(`/reports/${id}.json`), fetchText("/.well-known/keyforge/audit-keys")]);
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    report = text; // verifyReport names the schema failure
  }
  const keys = (JSON.parse(keysText) as { keys?: Array<{ verifier_key?: unknown }> }).keys ?? [];
  const trustedKeys = keys.map((k) => k.verifier_key).filter((k): k is string => typeof k === "string");
  return { id, report, text, bytes: new TextEncoder().encode(text).byteLength, trustedKeys };
}
