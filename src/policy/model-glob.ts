/**
 * Model allow-lists: exact names or globs where `*` matches any run of characters
 * (`gpt-*`, `anthropic/*`, `*-mini`). Pure.
 */

const GLOB_PATTERN = /^[A-Za-z0-9._:@\-/*]{1,128}$/;

export function isValidModelPattern(pattern: string): boolean {
  return GLOB_PATTERN.test(pattern) && !pattern.includes("**");
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${escaped.join(".*")}$`);
}

const compiled = new Map<string, RegExp>();

export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  let re = compiled.get(pattern);
  if (!re) {
    re = globToRegExp(pattern);
    compiled.set(pattern, re);
  }
  return re.test(name);
}

/**
 * A request may use a model when the list is empty or any pattern matches any of the names the
 * model is known by (as requested, `provider/model`, bare model, provider aliases).
 */
export function isModelAllowed(patterns: readonly string[], names: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => names.some((n) => matchesPattern(p, n)));
}
