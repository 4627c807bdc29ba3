import "./styles.css";
import { adminApi } from "./api/admin-api";
import { ApiClient } from "./api/client";
import { appShell } from "./app-shell";
import { apiBase } from "./lib/api-base";
import { render } from "./lib/dom";
import { forgetToken, readToken, saveToken } from "./lib/session";
import { signInPage } from "./pages/sign-in";

/** Boot: the sign-in page until a token is accepted, then the app. A 401 later signs out. */

const root = document.getElementById("app");
if (!root) throw new Error("#app is missing from index.html");
let disposeShell: (() => void) | null = null;

function showSignIn(notice?: string): void {
  disposeShell?.();
  disposeShell = null;
  forgetToken();
  render(root!, signInPage(startApp, notice));
}

function startApp(token: string): void {
  saveToken(token);
  const client = new ApiClient({
    token,
    base: apiBase(),
    onUnauthorized: () => showSignIn("The gateway rejected the admin token (it may have been rotated). Sign in again."),
  });
  const shell = appShell(adminApi(client), () => showSignIn(), token);
  disposeShell = shell.dispose;
  render(root!, shell.el);
}

// The skip link targets #main without turning the hash into a route.
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest("a.skip-link") : null;
  if (!target) return;
  event.preventDefault();
  document.getElementById("main")?.focus();
});

const saved = readToken();
if (saved) startApp(saved);
else showSignIn();
