import { toHex, utf8 } from "../lib/bytes";

const keyCache = new Map<string, Promise<CryptoKey>>();

function pepperKey(pepper: string): Promise<CryptoKey> {
  let key = keyCache.get(pepper);
  if (!key) {
    key = crypto.subtle.importKey("raw", utf8(pepper), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keyCache.set(pepper, key);
  }
  return key;
}

/**
 * The keyed hash stored for a virtual-key secret: hex HMAC-SHA256(pepper, id || ":" || secret).
 * Binding the id means a hash copied to another key's row does not verify there.
 */
export async function hashKeySecret(pepper: string, id: string, secret: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await pepperKey(pepper), utf8(`${id}:${secret}`));
  return toHex(mac);
}
