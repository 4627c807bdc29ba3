/**
 * URLs that come from the API (report links) are only ever used as http(s) links: a
 * `javascript:` or `data:` URL in an href would run code in the dashboard's origin.
 */
export function safeHttpUrl(value: string, base = window.location.href): string | null {
  try {
    const url = new URL(value, base);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}
