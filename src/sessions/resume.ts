import { and, asc, eq, gt, lte } from 'drizzle-orm';
import type { Database } from '../db/connect.ts';
import { sessionEvents, storedEventColumns } from '../db/schema.ts';
import { wireTypeOf } from '../protocol/index.ts';

const terminalTypes: Record<string, 'completed' | 'cancelled' | 'failed'> = {
  assistant_message: 'completed',
  response_cancelled: 'cancelled',
  response_failed: 'failed',
};

/** A stored event rebuilt as the wire event it was sent as. */
export interface ReplayedEvent {
  seq: number;
  body: Record<string, unknown>;
  /** For the event that ends a response: its final status and text. */
  ending?: { responseId: string; status: 'completed' | 'cancelled' | 'failed'; text: string };
}

/**
 * The stored events of a session with `afterSeq < seq <= upToSeq`, as wire events, read page by
 * page so a long session never sits in memory whole. Lifecycle records that were never sent
 * (session_started, session_ended) are skipped; a response interrupted by a crash comes back
 * as a `response.snapshot` with status `interrupted`.
 */
export async function* replayStoredEvents({
  db,
  sessionId,
  afterSeq,
  upToSeq,
  pageSize = 500,
}: {
  db: Database;
  sessionId: string;
  afterSeq: number;
  upToSeq: number;
  pageSize?: number;
}): AsyncGenerator<ReplayedEvent> {
  let cursor = afterSeq;
  for (;;) {
    const rows = await db
      .select(storedEventColumns)
      .from(sessionEvents)
      .where(and(eq(sessionEvents.sessionId, sessionId), gt(sessionEvents.seq, cursor), lte(sessionEvents.seq, upToSeq)))
      .orderBy(asc(sessionEvents.seq))
      .limit(pageSize);
    for (const row of rows) {
      const event = toWireEvent(row);
      if (event) yield event;
    }
    if (rows.length < pageSize) return;
    cursor = rows.at(-1)!.seq;
  }
}

export function toWireEvent(row: {
  seq: number;
  eventType: string;
  content: string | null;
  metadata: Record<string, unknown>;
}): ReplayedEvent | undefined {
  if (row.eventType === 'response_interrupted') {
    return {
      seq: row.seq,
      body: {
        type: 'response.snapshot',
        response_id: row.metadata.response_id,
        text: row.content ?? '',
        status: 'interrupted',
      },
    };
  }
  const type = wireTypeOf(row.eventType);
  if (!type) return undefined;
  const body = { type, ...row.metadata, ...(row.content !== null ? { text: row.content } : {}) };
  const status = terminalTypes[row.eventType];
  return {
    seq: row.seq,
    body,
    ...(status
      ? { ending: { responseId: String(row.metadata.response_id), status, text: row.content ?? '' } }
      : {}),
  };
}
