import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".wrangler/", "dashboard/dist/", "bin/*.mjs", "d1-migrations/", "worker-configuration.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-namespace": "off",
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  {
    files: ["scripts/**", "bench/**", "test/**", "bin/**"],
    rules: { "no-console": "off" },
  },
  {
    // Plain Node scripts (.mjs): TypeScript does not check them, so declare Node's globals.
    files: ["**/*.mjs"],
    languageOptions: {
      globals: Object.fromEntries(
        [
          "process",
          "console",
          "fetch",
          "setTimeout",
          "clearTimeout",
          "setInterval",
          "clearInterval",
          "URL",
          "Buffer",
          "AbortController",
          "TextEncoder",
          "TextDecoder",
          "Response",
          "Request",
          "Headers",
        ].map((g) => [g, "readonly"]),
      ),
    },
  },
);
