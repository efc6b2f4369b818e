import { describe, expect, test } from 'vitest';
import { CursorParameter, decodeCursor, encodeCursor } from './session-cursor.ts';

const cursor = {
  startedAt: '2025-01-02T03:04:05.123456Z',
  sessionId: '0b6f3c1e-7d7a-4c39-9a55-3f3b0e1f2a4d',
};

describe('session cursor', () => {
  test('round-trips, keeping microseconds, in URL-safe characters', () => {
    const encoded = encodeCursor(cursor);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(encoded)).toEqual(cursor);
  });

  test.each([
    ['not base64url', 'abc$'],
    ['base64url of something else', Buffer.from('hello').toString('base64url')],
    ['a JSON value of the wrong shape', Buffer.from('{"a":1}').toString('base64url')],
    [
      'a bad timestamp',
      Buffer.from(JSON.stringify(['yesterday', cursor.sessionId])).toString('base64url'),
    ],
    [
      'a bad session id',
      Buffer.from(JSON.stringify([cursor.startedAt, 'x'])).toString('base64url'),
    ],
    ['padding', `${encodeCursor(cursor)}=`],
    ['nothing', ''],
  ])('rejects %s', (_what, value) => {
    expect(decodeCursor(value)).toBeUndefined();
    expect(CursorParameter.safeParse(value).success).toBe(false);
  });

  test('the query parameter parses to the cursor', () => {
    expect(CursorParameter.parse(encodeCursor(cursor))).toEqual(cursor);
  });
});
