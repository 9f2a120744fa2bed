import fc from 'fast-check';
import { formatScope, grants, hasAllScopes, hasScope, isValidScope, parseScope } from '../../src/identity/scopes';

describe('scope matcher', () => {
  it.each([
    ['items:read', 'items:read', true],
    ['items:read', 'items:write', false],
    ['items:read', 'items:read:own', false],
    ['users:*', 'users:read', true],
    ['users:*', 'users:read:own', true],
    ['users:*', 'users', true],
    ['users:*', 'usersx:read', false],
    ['users:*', 'items:read', false],
    ['users:read:*', 'users:read:own', true],
    ['users:read:*', 'users:write', false],
    ['*', 'anything:at:all', true],
    ['admin', 'clients:write', true],
    ['admin:*', 'clients:write', false],
    ['admin:*', 'admin', false],
    ['*:*', '*', false],
    ['*:*', 'anything', false],
    ['admin:x:*', 'admin', false],
    ['admin:x:*', 'admin:x:y', true],
    ['item*', 'items', false],
  ])('%p grants %p: %p', (held, required, expected) => {
    expect(grants(held, required)).toBe(expected);
  });

  it('checks sets of held and required scopes', () => {
    expect(hasScope(['items:read', 'users:*'], 'users:delete')).toBe(true);
    expect(hasScope([], 'items:read')).toBe(false);
    expect(hasAllScopes(['items:read', 'users:*'], ['items:read', 'users:write'])).toBe(true);
    expect(hasAllScopes(['items:read'], ['items:read', 'items:write'])).toBe(false);
    expect(hasAllScopes(['items:read'], [])).toBe(true);
  });

  const segment = fc.stringMatching(/^[a-z]{1,6}$/);
  const scope = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(':'));

  it('property: a plain scope grants only itself', () => {
    fc.assert(
      fc.property(scope, scope, (held, required) => {
        expect(grants(held, required)).toBe(held === required || held === 'admin');
      }),
    );
  });

  it('property: a wildcard grants exactly its base and what lies below it', () => {
    fc.assert(
      fc.property(scope, scope, (base, required) => {
        const expected = required === base || required.startsWith(`${base}:`);
        expect(grants(`${base}:*`, required)).toBe(expected);
      }),
    );
  });

  it('property: random scope sets grant nothing unless a rule says so', () => {
    fc.assert(
      fc.property(fc.array(scope, { maxLength: 8 }), scope, (held, required) => {
        const ruled = held.some((h) => h === required || h === 'admin');
        expect(hasScope(held, required)).toBe(ruled);
      }),
    );
  });

  it('property: * and admin grant any valid scope', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21\x23-\x5B\x5D-\x7E]{1,40}$/), (required) => {
        expect(grants('*', required) && grants('admin', required)).toBe(true);
      }),
    );
  });
});

describe('RFC 6749 §3.3 scope strings', () => {
  it('splits on spaces, drops duplicates and empty tokens, keeps order', () => {
    expect(parseScope('items:read  users:read items:read')).toEqual(['items:read', 'users:read']);
    expect(parseScope('')).toEqual([]);
    expect(formatScope(['a', 'b'])).toBe('a b');
  });

  it.each(['a"b', 'back\\slash', 'tab\there', 'é', 'x'.repeat(129)])('rejects the malformed token %p', (token) => {
    expect(isValidScope(token)).toBe(false);
    expect(parseScope(`ok ${token}`)).toBeUndefined();
  });
});

describe('the scope grammar (letters, digits, : . _ -, a trailing :* wildcard)', () => {
  it.each(['items:read', 'users:read:own', 'items:*', 'a.b_c-d:E9', '*', 'admin', 'admin:read', 'admin:x:*'])('accepts %p', (token) => {
    expect(isValidScope(token)).toBe(true);
  });

  it.each(['items:x,admin', 'items:a;role=admin', 'a=b', 'admin:*', '*:*', 'a::b', ':a', 'a:', 'a:*:b', '**', 'a*', 'items:**', 'https://api.example/x', 'a/b', 'a+b'])('refuses %p', (token) => {
    expect(isValidScope(token)).toBe(false);
    expect(parseScope(token)).toBeUndefined();
  });

  // Any string at all, shaped to hit the grammar's corners often.
  const alphabet = fc.constantFrom('a', 'Z', '0', ':', '*', '.', '_', '-', ',', ';', '=', ' ', 'admin', 'admin:', ':*', '*:', '\u0000', 'é');
  const anyScope = fc.oneof(fc.array(alphabet, { maxLength: 12 }).map((parts) => parts.join('')), fc.string({ maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 10 }));

  it('property: no scope a user can be given matches admin or * unless it is exactly admin or *', () => {
    fc.assert(
      fc.property(anyScope, (held) => {
        fc.pre(isValidScope(held) && held !== 'admin' && held !== '*');
        expect(grants(held, 'admin')).toBe(false);
        expect(grants(held, '*')).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('property: even a stored scope outside the grammar grants admin or * only by being exactly one', () => {
    fc.assert(
      fc.property(fc.array(anyScope, { maxLength: 6 }), (held) => {
        const universal = held.includes('admin') || held.includes('*');
        expect(hasScope(held, 'admin') || hasScope(held, '*')).toBe(universal);
      }),
      { numRuns: 5000 },
    );
  });

  it('property: a valid scope is made only of the grammar\'s characters', () => {
    fc.assert(
      fc.property(anyScope, (token) => {
        if (isValidScope(token)) expect(token).toMatch(/^[A-Za-z0-9:._*-]+$/);
      }),
      { numRuns: 5000 },
    );
  });
});
