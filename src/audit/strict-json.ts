/**
 * JSON.parse keeps the last of two members with the same name; other readers keep the first or
 * refuse. A signed document with a duplicated key can therefore show one reader other values than
 * the ones another verified. The report verifiers refuse such text outright.
 */
import { AuditError } from "./errors";

/**
 * The first object member name that appears twice in one object (after unescaping, so "a" and
 * "\u0061" are the same name), or null. `text` must already be valid JSON (JSON.parse accepted it):
 * only strings and the structural characters need tracking then.
 */
export function duplicateKey(text: string): string | null {
  // One entry per open container: the names seen so far for an object, null for an array.
  const open: Array<Set<string> | null> = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const names = open.at(-1);
      if (names && expectName) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === "{") {
      open.push(new Set());
      expectName = true;
    } else if (c === "[") {
      open.push(null);
      expectName = false;
    } else if (c === "}" || c === "]") {
      open.pop();
      expectName = false;
    } else if (c === ",") {
      expectName = open.at(-1) instanceof Set;
    } else if (c === ":") {
      expectName = false;
    }
  }
  return null;
}

/** JSON.parse, refusing text in which any object names a member twice. */
export function parseStrictJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const name = duplicateKey(text);
  if (name !== null)
    throw new AuditError(
      "non_canonical",
      `the JSON names the member ${JSON.stringify(name.slice(0, 64))} twice in one object: readers disagree on which value counts`,
    );
  return value;
}
