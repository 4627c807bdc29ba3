/**
 * The admin token lives in sessionStorage only: it is gone when the tab closes, never put in a
 * URL (so it cannot leak through history, referrers or logs) and never in localStorage.
 */
const KEY = "keyforge.adminToken";

export function readToken(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  window.sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  try {
    window.sessionStorage.removeItem(KEY);
  } catch {
    // storage unavailable: nothing to forget
  }
}
