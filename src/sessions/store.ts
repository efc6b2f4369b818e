import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/connect.ts';
import { responseDrafts, sessionEvents, sessions, storedEventColumns } from '../db/schema.ts';
import type { StoredEvent } from '../chat/history.ts';

/** A block of seq numbers this process may hand out: `start` to `end`, inclusive. */
export interface SeqBlock {
  start: number;
  end: number;
}

export type OpenResult =
  { status: 'opened'; resumed: boolean; block: SeqBlock } | { status: 'forbidden' };

/**
 * Creates the session, or reopens it for the same user, and reserves the first block of seq
 * numbers above anything ever reserved for it, all in one statement.
 */
export async function openSessionRow(
  db: Database,
  input: {
    sessionId: string;
    userId: string;
    provider: string;
    model: string;
    seqBlock: number;
    instanceId: string;
  },
): Promise<OpenResult> {
  const rows = await db
    .insert(sessions)
    .values({
      sessionId: input.sessionId,
      userId: input.userId,
      provider: input.provider,
      model: input.model,
      seqReserved: input.seqBlock,
      instanceId: input.instanceId,
    })
    .onConflictDoUpdate({
      target: sessions.sessionId,
      set: {
        seqReserved: sql`${sessions.seqReserved} + ${input.seqBlock}`,
        activatedAt: sql`case when ${sessions.status} = 'ended' then now() else ${sessions.activatedAt} end`,
        status: 'active',
        endedAt: null,
        provider: input.provider,
        model: input.model,
        instanceId: input.instanceId,
        updatedAt: sql`now()`,
      },
      // Another user's session is left untouched and returns no row.
      setWhere: eq(sessions.userId, input.userId),
    })
    .returning({ seqReserved: sessions.seqReserved, inserted: sql<boolean>`(xmax = 0)` });
  const row = rows[0];
  if (!row) return { status: 'forbidden' };
  const end = row.seqReserved;
  return {
    status: 'opened',
    resumed: !row.inserted,
    block: { start: end - input.seqBlock + 1, end },
  };
}

/** Reserves the next `size` seq numbers of a live session. */
export async function reserveSeqBlock(
  db: Database,
  sessionId: string,
  size: number,
): Promise<SeqBlock> {
  const rows = await db
    .update(sessions)
    .set({ seqReserved: sql`${sessions.seqReserved} + ${size}` })
    .where(eq(sessions.sessionId, sessionId))
    .returning({ seqReserved: sessions.seqReserved });
  const end = rows[0]?.seqReserved;
  if (end === undefined) throw new Error(`session ${sessionId} no longer exists`);
  return { start: end - size + 1, end };
}

const transcriptTypes = [
  'user_message',
  'response_started',
  'assistant_message',
  'response_cancelled',
  'response_failed',
  'response_interrupted',
  'tool_call',
  'tool_result',
];

/** The newest `limit` events that make up what the model remembers, in seq order. */
export async function loadTranscriptEvents(
  db: Database,
  sessionId: string,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await db
    .select(storedEventColumns)
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        inArray(sessionEvents.eventType, transcriptTypes),
      ),
    )
    .orderBy(desc(sessionEvents.seq))
    .limit(limit);
  return rows.reverse();
}

/**
 * Turns the drafts of responses that were streaming when their process died into stored
 * `response_interrupted` events with the text saved so far, numbered by `takeSeq`.
 */
export async function interruptDrafts(
  db: Database,
  sessionId: string,
  takeSeq: () => number,
): Promise<number> {
  const drafts = await db
    .select()
    .from(responseDrafts)
    .where(eq(responseDrafts.sessionId, sessionId))
    .orderBy(responseDrafts.updatedAt);
  if (drafts.length === 0) return 0;
  await db.transaction(async (tx) => {
    await tx.insert(sessionEvents).values(
      drafts.map((draft) => ({
        sessionId,
        seq: takeSeq(),
        eventType: 'response_interrupted',
        content: draft.text,
        metadata: { response_id: draft.responseId, status: 'interrupted' },
      })),
    );
    await tx.delete(responseDrafts).where(eq(responseDrafts.sessionId, sessionId));
  });
  return drafts.length;
}
