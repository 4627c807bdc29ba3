/**
 * Where the admin API lives: the dashboard's own origin ("") unless the build set
 * VITE_KEYFORGE_API_URL (a dashboard on Pages calling the gateway directly, with CORS).
 */
export function apiBase(): string {
  const configured = import.meta.env.VITE_KEYFORGE_API_URL;
  if (!configured) return "";
  return new URL(configured).origin;
}
