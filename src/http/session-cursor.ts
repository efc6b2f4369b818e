/**
 * The opaque cursor of the session list: base64url of the last row's `started_at` and
 * `session_id`. `started_at` keeps Postgres' microseconds (a JavaScript Date would cut them to
 * milliseconds and skip or repeat rows that start within the same millisecond).
 */
import { z } from 'zod';

export interface SessionCursor {
  /** ISO 8601 in UTC with up to six fractional digits, e.g. `2025-01-02T03:04:05.123456Z`. */
  startedAt: string;
  sessionId: string;
}

const CursorPayload = z.tuple([z.iso.datetime(), z.guid()]);

export function encodeCursor({ startedAt, sessionId }: SessionCursor): string {
  return Buffer.from(JSON.stringify([startedAt, sessionId]), 'utf8').toString('base64url');
}

/** The cursor inside `value`, or undefined when `value` is not one `encodeCursor` made. */
export function decodeCursor(value: string): SessionCursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = CursorPayload.safeParse(json);
  if (!parsed.success) return undefined;
  const [startedAt, sessionId] = parsed.data;
  return { startedAt, sessionId };
}

/** The `cursor` query parameter: a string at the boundary, a `SessionCursor` past it. */
export const CursorParameter = z
  .string()
  .transform((value, context) => {
    const cursor = decodeCursor(value);
    if (cursor === undefined) {
      context.addIssue({
        code: 'custom',
        message: 'cursor must be a next_cursor this API returned',
      });
      return z.NEVER;
    }
    return cursor;
  })
  .describe('Opaque: the `next_cursor` of the previous page');
