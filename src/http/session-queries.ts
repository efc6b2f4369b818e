/**
 * The history API's reads and deletes. Every query is scoped to one user: another user's
 * session is indistinguishable from one that does not exist.
 */
import { and, asc, desc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/connect.ts';
import { sessionEvents, storedEventColumns, sessions } from '../db/schema.ts';
import { wireTypeOf, type ServerEventType } from '../protocol/index.ts';
import { encodeCursor, type SessionCursor } from './session-cursor.ts';

/** A session as the HTTP API shows it. */
export interface SessionResource {
  session_id: string;
  user_id: string;
  status: 'active' | 'ended';
  title: string | null;
  summary: string | null;
  topics: string[] | null;
  tools_used: string[] | null;
  summary_status: 'pending' | 'done' | 'failed' | null;
  summary_error: string | null;
  summary_attempts: number;
  summary_model: string | null;
  summarized_at: string | null;
  started_at: string;
  ended_at: string | null;
  duration_seconds: number;
  message_count: number;
  input_tokens: number;
  output_tokens: number;
  provider: string | null;
  model: string | null;
}

/** A stored event as the HTTP API shows it. */
export interface EventResource {
  seq: number;
  event_type: string;
  /** The wire event the stored one was sent as; null for session_started / session_ended. */
  type: ServerEventType | null;
  content: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
}

const sessionColumns = {
  sessionId: sessions.sessionId,
  userId: sessions.userId,
  status: sessions.status,
  title: sessions.title,
  summary: sessions.summary,
  topics: sessions.topics,
  toolsUsed: sessions.toolsUsed,
  summaryStatus: sessions.summaryStatus,
  summaryError: sessions.summaryError,
  summaryAttempts: sessions.summaryAttempts,
  summaryModel: sessions.summaryModel,
  summarizedAt: sessions.summarizedAt,
  startedAt: sessions.startedAt,
  endedAt: sessions.endedAt,
  // An active session's time is only added to the column when it ends; count it up to now.
  durationSeconds: sql<number>`(case when ${sessions.status} = 'active'
      then ${sessions.durationSeconds} + greatest(0, extract(epoch from now() - ${sessions.activatedAt}))
      else ${sessions.durationSeconds} end)::double precision`.mapWith(Number),
  messageCount: sessions.messageCount,
  inputTokens: sessions.inputTokens,
  outputTokens: sessions.outputTokens,
  provider: sessions.provider,
  model: sessions.model,
  // Text, not a Date: the cursor needs Postgres' microseconds.
  cursorStartedAt: sql<string>`to_char(${sessions.startedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
};

function selectSessions(db: Database) {
  return db.select(sessionColumns).from(sessions).$dynamic();
}
type SessionSelection = Awaited<ReturnType<typeof selectSessions>>[number];

function toSessionResource(row: SessionSelection): SessionResource {
  return {
    session_id: row.sessionId,
    user_id: row.userId,
    status: row.status,
    title: row.title,
    summary: row.summary,
    topics: row.topics,
    tools_used: row.toolsUsed,
    summary_status: row.summaryStatus,
    summary_error: row.summaryError,
    summary_attempts: row.summaryAttempts,
    summary_model: row.summaryModel,
    summarized_at: row.summarizedAt?.toISOString() ?? null,
    started_at: row.startedAt.toISOString(),
    ended_at: row.endedAt?.toISOString() ?? null,
    duration_seconds: row.durationSeconds,
    message_count: row.messageCount,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    provider: row.provider,
    model: row.model,
  };
}

/** One page of a user's sessions, newest first (`started_at` desc, then `session_id` desc). */
export async function listSessions(
  db: Database,
  { userId, limit, cursor }: { userId: string; limit: number; cursor: SessionCursor | undefined },
): Promise<{ sessions: SessionResource[]; nextCursor: string | null }> {
  const conditions: SQL[] = [eq(sessions.userId, userId)];
  if (cursor !== undefined) {
    // A row comparison, so sessions that start at the same instant are neither skipped nor repeated.
    conditions.push(
      sql`(${sessions.startedAt}, ${sessions.sessionId}) < (${cursor.startedAt}::timestamptz, ${cursor.sessionId}::uuid)`,
    );
  }
  const rows = await selectSessions(db)
    .where(and(...conditions))
    .orderBy(desc(sessions.startedAt), desc(sessions.sessionId))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > limit && last !== undefined
      ? encodeCursor({ startedAt: last.cursorStartedAt, sessionId: last.sessionId })
      : null;
  return { sessions: page.map(toSessionResource), nextCursor };
}

/** The user's session, or undefined when it does not exist or belongs to someone else. */
export async function findSession(
  db: Database,
  { sessionId, userId }: { sessionId: string; userId: string },
): Promise<SessionResource | undefined> {
  const rows = await selectSessions(db).where(
    and(eq(sessions.sessionId, sessionId), eq(sessions.userId, userId)),
  );
  const row = rows[0];
  return row === undefined ? undefined : toSessionResource(row);
}

/** Whether the user owns the session. */
export async function sessionExists(
  db: Database,
  { sessionId, userId }: { sessionId: string; userId: string },
): Promise<boolean> {
  const rows = await db
    .select({ sessionId: sessions.sessionId })
    .from(sessions)
    .where(and(eq(sessions.sessionId, sessionId), eq(sessions.userId, userId)));
  return rows.length > 0;
}

/** Up to `limit` stored events with a seq above `afterSeq`, in seq order. */
export async function listEvents(
  db: Database,
  { sessionId, afterSeq, limit }: { sessionId: string; afterSeq: number; limit: number },
): Promise<{ events: EventResource[]; nextAfterSeq: number | null }> {
  const rows = await db
    .select({ ...storedEventColumns, createdAt: sessionEvents.createdAt })
    .from(sessionEvents)
    .where(and(eq(sessionEvents.sessionId, sessionId), gt(sessionEvents.seq, afterSeq)))
    .orderBy(asc(sessionEvents.seq))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    events: page.map((row) => ({
      seq: row.seq,
      event_type: row.eventType,
      type: wireTypeOf(row.eventType) ?? null,
      content: row.content,
      metadata: row.metadata,
      created_at: row.createdAt.toISOString(),
    })),
    nextAfterSeq: rows.length > limit && last !== undefined ? last.seq : null,
  };
}

/** Deletes the user's session and (by cascade) its events; false when there was none. */
export async function deleteSession(
  db: Database,
  { sessionId, userId }: { sessionId: string; userId: string },
): Promise<boolean> {
  const rows = await db
    .delete(sessions)
    .where(and(eq(sessions.sessionId, sessionId), eq(sessions.userId, userId)))
    .returning({ sessionId: sessions.sessionId });
  return rows.length > 0;
}
