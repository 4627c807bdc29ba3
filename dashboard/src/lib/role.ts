import type { AdminApi } from "../api/admin-api";
import type { AdminRole } from "../api/control-plane-api";

/**
 * The role of the token the dashboard signed in with, to hide what it may not do (the gateway
 * answers 403 anyway). ADMIN_TOKEN is the built-in admin; a named token is `kfa_` + its 16-char id
 * + secret, and the id's row in the admin-token list (readable by both roles) has its role.
 */
export async function signedInRole(api: AdminApi, token: string): Promise<AdminRole> {
  const id = /^kfa_([0-9A-Za-z]{16})/.exec(token)?.[1];
  if (id === undefined) return "admin";
  try {
    return (await api.listAdminTokens()).find((t) => t.id === id)?.role === "admin" ? "admin" : "auditor";
  } catch {
    // Unsure: show the read-only view; an admin can reload.
    return "auditor";
  }
}
