import { and, count, desc, eq, isNotNull, min, ne } from 'drizzle-orm';
import { z } from 'zod';
import { sessionEvents, sessions } from '../db/schema.ts';
import { defineTool } from './types.ts';

export interface UserProfile {
  user_id: string;
  /** When the user's first session started (ISO 8601), or null for a new user. */
  first_seen: string | null;
  sessions: number;
  /** Messages the user sent, over all their sessions. */
  messages: number;
  /** The most recently ended session that has a summary. */
  last_summary: {
    session_id: string;
    title: string | null;
    summary: string;
    ended_at: string;
  } | null;
}

/** What Parley knows about the user who is talking: history counts and their last summary. */
export const getUserProfile = defineTool({
  name: 'get_user_profile',
  description:
    "Get the current user's profile: when they were first seen, how many sessions and messages " +
    'they have had, and the title and summary of their most recently ended session.',
  inputSchema: z.object({}),
  async execute(_input, { db, userId, signal }): Promise<UserProfile> {
    signal.throwIfAborted();
    const [totals] = await db
      .select({ firstSeen: min(sessions.startedAt), sessions: count() })
      .from(sessions)
      .where(eq(sessions.userId, userId));

    signal.throwIfAborted();
    const [messages] = await db
      .select({ messages: count() })
      .from(sessionEvents)
      .innerJoin(sessions, eq(sessionEvents.sessionId, sessions.sessionId))
      .where(and(eq(sessions.userId, userId), eq(sessionEvents.eventType, 'user_message')));

    signal.throwIfAborted();
    const [last] = await db
      .select({
        sessionId: sessions.sessionId,
        title: sessions.title,
        summary: sessions.summary,
        endedAt: sessions.endedAt,
      })
      .from(sessions)
      .where(
        and(
          eq(sessions.userId, userId),
          isNotNull(sessions.endedAt),
          isNotNull(sessions.summary),
          ne(sessions.summary, ''),
        ),
      )
      .orderBy(desc(sessions.endedAt), desc(sessions.sessionId))
      .limit(1);

    return {
      user_id: userId,
      first_seen: totals?.firstSeen ? new Date(totals.firstSeen).toISOString() : null,
      sessions: totals?.sessions ?? 0,
      messages: messages?.messages ?? 0,
      last_summary:
        last?.summary && last.endedAt
          ? {
              session_id: last.sessionId,
              title: last.title,
              summary: last.summary,
              ended_at: last.endedAt.toISOString(),
            }
          : null,
    };
  },
});
