import type { AdminApi } from "../api/admin-api";
import type { Route } from "../lib/router";

/** What every page gets, and what it gives back: its element and a cleanup for timers. */
export interface PageContext {
  api: AdminApi;
  route: Route;
}

export interface Page {
  el: HTMLElement;
  dispose?: () => void;
}
