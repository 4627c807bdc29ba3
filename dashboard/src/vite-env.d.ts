/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Optional gateway origin for a dashboard hosted elsewhere (see dashboard/README.md). */
  readonly VITE_KEYFORGE_API_URL?: string;
}
