import { and, asc, eq, gt, lte } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/connect.ts';
import { sessionEvents, storedEventColumns } from '../db/schema.ts';
import { CloseCode, wireTypeOf } from '../protocol/index.ts';
import type { ReplayBuffer } from './replay-buffer.ts';
import type { Subscriber } from './subscriber.ts';

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
      .where(
        and(
          eq(sessionEvents.sessionId, sessionId),
          gt(sessionEvents.seq, cursor),
          lte(sessionEvents.seq, upToSeq),
        ),
      )
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
      ? {
          ending: { responseId: String(row.metadata.response_id), status, text: row.content ?? '' },
        }
      : {}),
  };
}

export interface ResumeOptions {
  db: Database;
  sessionId: string;
  subscriber: Subscriber;
  /** The seq the client has seen up to. */
  afterSeq: number;
  /** The newest session event sent live when the resume began. */
  upTo: number;
  recent: ReplayBuffer;
  /** The `session.ready` this socket gets first. */
  ready: Record<string, unknown>;
  /** The response streaming when the resume began, with the text of the deltas sent so far. */
  inFlight: { responseId: string; text: string } | undefined;
  /** Replay waits while the socket holds more unsent bytes than this. */
  paceBytes: number;
  /** False once the socket has left the session. */
  attached(): boolean;
  logger: Logger;
}

/**
 * Sends a returning socket every session event after `afterSeq`, then lets it continue live
 * with no gap and no repeat (live events meanwhile wait in its backlog). Exact from the
 * in-memory buffer when it still holds them; otherwise the stored events come from the
 * database, page by page at the socket's pace, and a response whose deltas are gone is sent
 * whole as `response.snapshot`.
 */
export async function resumeSubscriber(options: ResumeOptions): Promise<void> {
  const { subscriber, upTo, recent, inFlight, sessionId } = options;
  const from = Math.min(options.afterSeq, upTo);
  subscriber.mode = 'replaying';
  subscriber.position = from;
  subscriber.own(options.ready);
  if (recent.covers(from)) {
    for (const entry of recent.since(from)) if (entry.seq <= upTo) subscriber.write(entry);
    subscriber.goLive();
    return;
  }
  try {
    for await (const event of replayStoredEvents({
      db: options.db,
      sessionId,
      afterSeq: from,
      upToSeq: upTo,
    })) {
      if (subscriber.cut || !options.attached()) return;
      if (event.ending && event.ending.text) {
        subscriber.own({
          type: 'response.snapshot',
          response_id: event.ending.responseId,
          text: event.ending.text,
          status: event.ending.status,
        });
      }
      subscriber.write({
        seq: event.seq,
        frame: JSON.stringify({ ...event.body, session_id: sessionId, seq: event.seq }),
      });
      // Respect the socket's pace: a long replay is not queued in memory all at once.
      while (subscriber.connection.bufferedAmount > options.paceBytes && !subscriber.cut) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  } catch (error) {
    options.logger.error({ err: error, sessionId }, 'replay failed');
    subscriber.connection.close(CloseCode.internalError, 'replay failed');
    return;
  }
  if (inFlight && subscriber.position <= upTo) {
    subscriber.position = upTo;
    subscriber.own({
      type: 'response.snapshot',
      response_id: inFlight.responseId,
      text: inFlight.text,
      status: 'streaming',
    });
  }
  subscriber.position = Math.max(subscriber.position, upTo);
  subscriber.goLive();
}
