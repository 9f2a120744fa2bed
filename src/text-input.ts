// Text that a request may carry into storage. PostgreSQL `text` cannot hold U+0000 (the query
// fails, a 500), and a lone UTF-16 surrogate has no UTF-8 form at all, so both are refused where
// input enters: the JSON API helpers (http/validate.ts), the URL (http/middleware/body.ts) and
// OAuth form posts (oauth/params.ts). It lives at the top of src/ because both http/ and oauth/
// need it and oauth/ must not import from http/.

// Code units, not code points (no `u` flag): a high surrogate not followed by a low one, or a
// low one not preceded by a high one. One test per value keeps the introspection path cheap.
const MALFORMED = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What a field-level 400 says about such a value; the value itself is never echoed. */
export const MALFORMED_TEXT = 'must not contain NUL or unpaired surrogate characters';

/** True when the string has no U+0000 and no lone surrogate. */
export function isWellFormedText(value: string): boolean {
  return !MALFORMED.test(value);
}

// A step in a walk: its parent is kept instead of a copied path, so a deep body costs O(size).
interface Step {
  readonly value: unknown;
  readonly key?: string | number;
  readonly parent?: Step;
}

function pathOf(step: Step, root: string): string {
  const keys: Array<string | number> = [];
  for (let at: Step | undefined = step; at?.key !== undefined; at = at.parent) keys.unshift(at.key);
  return keys.length > 0 ? keys.join('.') : root;
}

/**
 * The paths (`fullName`, `roles.1`, in zod's dotted form) of every string in a parsed JSON
 * value or query object that is not well-formed text; `root` names the value itself. A bad
 * object key is reported at the object holding it, so the key is not echoed back.
 * Iterative, because a 16 KiB JSON body can nest thousands of levels deep.
 */
export function malformedTextFields(value: unknown, root: string): string[] {
  const found = new Set<string>();
  const pending: Step[] = [{ value }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const step = next;
    const current = step.value;
    if (typeof current === 'string') {
      if (!isWellFormedText(current)) found.add(pathOf(step, root));
    } else if (Array.isArray(current)) {
      current.forEach((element: unknown, index) => pending.push({ value: element, key: index, parent: step }));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, element] of Object.entries(current)) {
        if (isWellFormedText(key)) pending.push({ value: element, key, parent: step });
        else found.add(pathOf(step, root));
      }
    }
  }
  return [...found];
}
