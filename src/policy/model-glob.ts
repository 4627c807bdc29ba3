/**
 * Model allow-lists: exact names or globs where `*` matches any run of characters
 * (`gpt-*`, `anthropic/*`, `*-mini`). Pure. Matching is the linear two-pointer wildcard algorithm,
 * never a regular expression: a pattern like `*a*a*a*b` cannot make it backtrack exponentially.
 */

const GLOB_PATTERN = /^[A-Za-z0-9._:@\-/*]{1,128}$/;
const MAX_WILDCARDS = 8;

export function isValidModelPattern(pattern: string): boolean {
  return GLOB_PATTERN.test(pattern) && !pattern.includes("**") && pattern.split("*").length - 1 <= MAX_WILDCARDS;
}

/** O(pattern × name) at worst: on a mismatch after a `*`, resume one character later in the name. */
export function matchesPattern(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * A request may use a model when the list is empty or any pattern matches any of the names the
 * model is known by (as requested, `provider/model`, bare model, provider aliases).
 */
export function isModelAllowed(patterns: readonly string[], names: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => names.some((n) => matchesPattern(p, n)));
}
