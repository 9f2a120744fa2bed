import { createHash } from 'node:crypto';
import { browserSessionTag, userTag } from '../../src/store/user-tag';
import { browserSessionIdOf, newBrowserSessionCookie } from '../../src/tokens/browser-session-cookie';

describe('browser-session cookie', () => {
  it('is 256 random bits and the user\'s tag; the id is its SHA-256 and the same tag', () => {
    const { cookie, id } = newBrowserSessionCookie('user-1');
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{45}$/);
    expect(cookie.slice(-2)).toBe(userTag('user-1'));
    expect(id).toBe(createHash('sha256').update(cookie).digest('base64url') + userTag('user-1'));
    expect(id).toHaveLength(45);
    expect(browserSessionTag(id)).toBe(userTag('user-1'));
    expect(browserSessionIdOf(cookie)).toBe(id);
  });

  it('never repeats', () => {
    const cookies = Array.from({ length: 1000 }, () => newBrowserSessionCookie('user-1').cookie);
    expect(new Set(cookies).size).toBe(cookies.length);
  });

  it('names no session for anything but the exact shape', () => {
    const { cookie } = newBrowserSessionCookie('user-1');
    for (const bad of ['', cookie.slice(1), `${cookie}A`, `${cookie.slice(0, 44)}=`, `${cookie.slice(0, 44)}.`, ` ${cookie.slice(1)}`, `${cookie.slice(0, 44)}\n`]) {
      expect(browserSessionIdOf(bad)).toBeUndefined();
    }
  });
});
