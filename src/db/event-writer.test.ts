import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { asc, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  createTestDatabase,
  databaseKinds,
  type TestDatabase,
} from '../../test/support/database.ts';
import type { StoredEvent } from '../chat/history.ts';
import { connectDatabase, type DatabaseHandle } from './connect.ts';
import { EventWriter } from './event-writer.ts';
import { responseDrafts, sessionEvents, sessions, storedEventColumns } from './schema.ts';

/** Long enough that nothing in a test is written by the interval timer unless it says so. */
const flushIntervalMs = 10_000;

/**
 * Rejects if `promise` has not settled within `ms`. A batch that fails is retried forever, so a
 * broken batch shows up as a `flush()` that never resolves; this turns that into a clear failure.
 */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function event(seq: number, content: string | null, metadata: Record<string, unknown> = {}) {
  return { seq, eventType: 'user_message', content, metadata } satisfies StoredEvent;
}

describe.each(databaseKinds)('EventWriter on %s', (kind) => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let writer: EventWriter;
  /** Sessions the current test created, so a test that breaks the writer cannot hang the next. */
  const sessionIds: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    handle = await connectDatabase({ databaseUrl: database.url, pgliteDir: 'memory://' });
  });
  beforeEach(() => {
    writer = new EventWriter({
      write: handle.write,
      logger: pino({ level: 'silent' }),
      flushIntervalMs,
    });
  });
  afterEach(async () => {
    // Forgetting first lets a writer stuck retrying a bad batch close; a healthy one has nothing left.
    for (const sessionId of sessionIds.splice(0)) writer.forget(sessionId);
    await within(writer.close(), 10_000, 'closing the writer');
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  async function newSession(): Promise<string> {
    const sessionId = randomUUID();
    await handle.db.insert(sessions).values({ sessionId, userId: 'writer-test' });
    sessionIds.push(sessionId);
    return sessionId;
  }

  /** Writes everything queued and checks no batch failed on the way. */
  async function flushed(): Promise<void> {
    try {
      await within(writer.flush(), 5_000, 'flush');
    } finally {
      // A batch the database rejects is retried forever; zero failures says none was rejected.
      expect(writer.stats.failures, 'failed batch writes').toBe(0);
    }
  }

  async function storedEvents(sessionId: string) {
    return handle.db
      .select({ id: sessionEvents.id, ...storedEventColumns })
      .from(sessionEvents)
      .where(eq(sessionEvents.sessionId, sessionId))
      .orderBy(asc(sessionEvents.seq));
  }

  async function drafts(sessionId: string) {
    const rows = await handle.db
      .select({ responseId: responseDrafts.responseId, text: responseDrafts.text })
      .from(responseDrafts)
      .where(eq(responseDrafts.sessionId, sessionId));
    return Object.fromEntries(rows.map((row) => [row.responseId, row.text]));
  }

  async function counters(sessionId: string) {
    const [row] = await handle.db
      .select({
        messageCount: sessions.messageCount,
        inputTokens: sessions.inputTokens,
        outputTokens: sessions.outputTokens,
      })
      .from(sessions)
      .where(eq(sessions.sessionId, sessionId));
    return row;
  }

  /**
   * A writer whose writes number `failing` (counted from 1) fail in the database (division by
   * zero) on the real ordered path; `outcomes` records every write: ok, failed or skipped.
   */
  function failingWriter(failing: number[], maxBatch: number) {
    const outcomes: string[] = [];
    let calls = 0;
    const failingWriter = new EventWriter({
      write: async (sql, params) => {
        const call = ++calls;
        try {
          await (failing.includes(call)
            ? handle.write('select 1/0', [])
            : handle.write(sql, params));
          outcomes.push('ok');
        } catch (error) {
          outcomes.push((error as { skipped?: boolean }).skipped ? 'skipped' : 'failed');
          throw error;
        }
      },
      logger: pino({ level: 'silent' }),
      flushIntervalMs,
      maxBatch,
    });
    return { writer: failingWriter, outcomes };
  }

  test('events are stored exactly as given, in the order they were enqueued', async () => {
    const sessionId = await newSession();
    const events: StoredEvent[] = [
      event(1, null),
      event(2, `He said "hi" and 'bye'; C:\\temp\\new \\n \\u0000 ünïcödé 日本語 🎉👩‍👩‍👧 \u2028end`, {
        message_id: 'm-1',
      }),
      {
        seq: 3,
        eventType: 'tool_call',
        content: '',
        metadata: {
          call_id: 'call-1',
          arguments: {
            query: 'say "cheese"',
            path: 'C:\\Users\\ünï\\file.txt',
            looksLikeNul: '\\u0000',
            alsoEscaped: 'tab\\there \\" quote',
            list: [1, 'two', { three: true, four: null }, [], {}],
            nested: { deeper: { deepest: '🎉 "x" \\ y' }, number: 1.5, negative: -3 },
          },
          'key with "quotes" and \\': 'value',
          emoji: '👩‍👩‍👧',
        },
      },
      event(4, 'last', { order: 'fourth' }),
    ];
    for (const item of events) writer.enqueue(sessionId, item);
    await flushed();

    const rows = await storedEvents(sessionId);
    expect(rows.map(({ id: _id, ...stored }) => stored)).toStrictEqual(events);
    // Identity ids follow insertion order: the batch kept the enqueue order.
    const ids = rows.map((row) => row.id);
    expect(ids).toStrictEqual([...ids].sort((a, b) => a - b));
  });

  test('NUL characters are dropped from content, metadata strings and drafts, and the next batch is written', async () => {
    const sessionId = await newSession();
    const responseId = randomUUID();
    writer.enqueue(
      sessionId,
      event(1, 'be\0fore\0', {
        text: '\0nul\0 inside',
        nested: { list: ['a\0b', 2], deeper: { value: 'x\0' } },
        looksLikeNul: '\\u0000',
      }),
    );
    writer.draft(sessionId, responseId, 'dr\0aft\0');
    await flushed();

    expect(await storedEvents(sessionId)).toMatchObject([
      {
        seq: 1,
        content: 'before',
        metadata: {
          text: 'nul inside',
          nested: { list: ['ab', 2], deeper: { value: 'x' } },
          looksLikeNul: '\\u0000',
        },
      },
    ]);
    expect(await drafts(sessionId)).toStrictEqual({ [responseId]: 'draft' });

    writer.enqueue(sessionId, event(2, 'after'));
    await flushed();
    expect((await storedEvents(sessionId)).map((row) => row.content)).toStrictEqual([
      'before',
      'after',
    ]);
  });

  test('a NUL in a metadata key and a lone surrogate in a metadata string do not fail the batch', async () => {
    const sessionId = await newSession();
    writer.enqueue(sessionId, event(1, 'keys', { 'a\0b': 1, cut: 'ab\uD83C', ok: '🙂' }));
    await flushed();
    expect(await storedEvents(sessionId)).toMatchObject([
      { seq: 1, content: 'keys', metadata: { ab: 1, cut: 'ab\uFFFD', ok: '🙂' } },
    ]);
  });

  test('counters add to the session row across batches; a non-integer delta adds nothing', async () => {
    const sessionId = await newSession();
    const otherSessionId = await newSession();
    writer.count(sessionId, { messages: 1, inputTokens: 100, outputTokens: 200 });
    writer.count(sessionId, { messages: 1, inputTokens: 5 });
    writer.count(otherSessionId, { outputTokens: 9 });
    await flushed();
    expect(await counters(sessionId)).toStrictEqual({
      messageCount: 2,
      inputTokens: 105,
      outputTokens: 200,
    });
    expect(await counters(otherSessionId)).toStrictEqual({
      messageCount: 0,
      inputTokens: 0,
      outputTokens: 9,
    });

    // Token totals are bigint: past 2^31 still adds up.
    writer.count(sessionId, { messages: 3, inputTokens: 3_000_000_000, outputTokens: 7 });
    await flushed();
    expect(await counters(sessionId)).toStrictEqual({
      messageCount: 5,
      inputTokens: 3_000_000_105,
      outputTokens: 207,
    });

    writer.count(sessionId, { messages: 1.5, inputTokens: Number.NaN, outputTokens: 10 });
    writer.count(sessionId, { outputTokens: Number.POSITIVE_INFINITY });
    writer.enqueue(sessionId, event(1, 'in the same batch'));
    await flushed();
    expect(await counters(sessionId)).toStrictEqual({
      messageCount: 5,
      inputTokens: 3_000_000_105,
      outputTokens: 217,
    });
    expect((await storedEvents(sessionId)).map((row) => row.content)).toStrictEqual([
      'in the same batch',
    ]);
  });

  test('drafts keep only the newest text, and a null draft is deleted', async () => {
    const sessionId = await newSession();
    const [updated, removed, replaced, kept, gone] = Array.from({ length: 5 }, () =>
      randomUUID(),
    ) as [string, string, string, string, string];

    writer.draft(sessionId, updated, 'first');
    writer.draft(sessionId, removed, 'to be removed');
    await flushed();
    expect(await drafts(sessionId)).toStrictEqual({
      [updated]: 'first',
      [removed]: 'to be removed',
    });

    // Across batches the stored row is updated; within one batch only the newest text goes out.
    writer.draft(sessionId, updated, 'second');
    await flushed();
    expect(await drafts(sessionId)).toStrictEqual({
      [updated]: 'second',
      [removed]: 'to be removed',
    });
    writer.draft(sessionId, updated, 'third');
    writer.draft(sessionId, updated, 'fourth');
    await flushed();
    expect(await drafts(sessionId)).toStrictEqual({
      [updated]: 'fourth',
      [removed]: 'to be removed',
    });

    writer.draft(sessionId, updated, null);
    await flushed();
    expect(await drafts(sessionId)).toStrictEqual({ [removed]: 'to be removed' });

    // One saved and another deleted in the same batch; a draft saved then ended in one batch
    // never shows up.
    writer.draft(sessionId, replaced, 'new');
    writer.draft(sessionId, kept, 'kept');
    writer.draft(sessionId, removed, null);
    writer.draft(sessionId, gone, 'short-lived');
    writer.draft(sessionId, gone, null);
    await flushed();
    expect(writer.stats.batches).toBe(5);
    expect(await drafts(sessionId)).toStrictEqual({ [replaced]: 'new', [kept]: 'kept' });
  });

  test('an event someone waits on is committed at once; others wait for the interval', async () => {
    const sessionId = await newSession();
    const stored = async () => (await storedEvents(sessionId)).map((row) => row.seq);

    const started = performance.now();
    await within(
      new Promise<void>((resolve) => writer.enqueue(sessionId, event(1, 'awaited'), resolve)),
      1_000,
      'the written callback',
    );
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await stored()).toStrictEqual([1]);

    writer.enqueue(sessionId, event(2, 'nobody waits'));
    await sleep(300);
    expect(await stored()).toStrictEqual([1]);
    expect(writer.pending).toBe(1);
    await flushed();
    expect(await stored()).toStrictEqual([1, 2]);

    // Everything enqueued in one turn of the event loop shares one batch.
    const batchesBefore = writer.stats.batches;
    const written = [3, 4, 5, 6, 7].map(
      (seq) =>
        new Promise<void>((resolve) => writer.enqueue(sessionId, event(seq, 'grouped'), resolve)),
    );
    await within(Promise.all(written), 1_000, 'the grouped callbacks');
    expect(writer.stats.batches).toBe(batchesBefore + 1);
    expect(writer.stats.lastBatchSize).toBe(5);
    expect(await stored()).toStrictEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test('a batch written again does not duplicate or overwrite stored events', async () => {
    const sessionId = await newSession();
    writer.enqueue(sessionId, event(1, 'original', { attempt: 1 }));
    await flushed();

    writer.enqueue(sessionId, event(1, 'duplicate', { attempt: 2 }));
    writer.enqueue(sessionId, event(2, 'new in the retry'));
    await flushed();

    expect(writer.stats.batches).toBe(2);
    expect(
      (await storedEvents(sessionId)).map(({ seq, content, metadata }) => ({
        seq,
        content,
        metadata,
      })),
    ).toStrictEqual([
      { seq: 1, content: 'original', metadata: { attempt: 1 } },
      { seq: 2, content: 'new in the retry', metadata: {} },
    ]);
  });

  test('a batch is sent while earlier ones are still being written, and they commit in order', async () => {
    const sessionId = await newSession();
    let inFlight = 0;
    let mostInFlight = 0;
    const slow = new EventWriter({
      // The answer of every batch comes 100 ms late, as from a main thread busy relaying.
      write: async (sql, params) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          await handle.write(sql, params);
          await sleep(100);
        } finally {
          inFlight -= 1;
        }
      },
      logger: pino({ level: 'silent' }),
      flushIntervalMs,
    });
    const order: number[] = [];
    const written: Promise<void>[] = [];
    for (const seq of [1, 2, 3]) {
      written.push(
        new Promise((resolve) =>
          slow.enqueue(sessionId, event(seq, 'piped'), () => {
            order.push(seq);
            resolve();
          }),
        ),
      );
      // The next turn of the event loop: the previous batch is on its way, not answered.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const started = performance.now();
    await within(Promise.all(written), 2_000, 'the written callbacks');
    // One after another, the three would have taken 300 ms or more from the first send.
    expect(performance.now() - started).toBeLessThan(250);
    expect(mostInFlight).toBe(3);
    expect(order).toStrictEqual([1, 2, 3]);
    expect(slow.stats.batches).toBe(3);
    await slow.close();
    expect((await storedEvents(sessionId)).map((row) => row.seq)).toStrictEqual([1, 2, 3]);
  });

  test('a failed batch stops the batches sent behind it; all are retried in order and counted once', async () => {
    const sessionId = await newSession();
    // The first batch fails in the database; every event is a batch of its own, sent at once:
    // three batches in flight together.
    const { writer: failingOnce, outcomes } = failingWriter([1], 1);
    const order: number[] = [];
    failingOnce.count(sessionId, { messages: 2, inputTokens: 5 });
    for (const seq of [1, 2, 3])
      failingOnce.enqueue(sessionId, event(seq, 'x'), () => order.push(seq));
    await within(failingOnce.close(), 5_000, 'writing after the failure');

    // The batches behind the failed one were not run, so nothing was stored out of order.
    expect(outcomes.slice(0, 3)).toStrictEqual(['failed', 'skipped', 'skipped']);
    expect(outcomes.slice(3)).toStrictEqual(['ok', 'ok', 'ok']);
    expect(failingOnce.stats.failures).toBe(1);
    expect(order).toStrictEqual([1, 2, 3]);
    expect((await storedEvents(sessionId)).map((row) => row.seq)).toStrictEqual([1, 2, 3]);
    expect(await counters(sessionId)).toMatchObject({ messageCount: 2, inputTokens: 5 });
  });

  test('a failing database is retried after a growing back-off, not at the flush interval', async () => {
    const sessionId = await newSession();
    const attempts: number[] = [];
    const failingThrice = new EventWriter({
      write: async (sql, params) => {
        attempts.push(performance.now());
        await (attempts.length <= 3 ? handle.write('select 1/0', []) : handle.write(sql, params));
      },
      logger: pino({ level: 'silent' }),
      flushIntervalMs: 10,
    });
    // Counters keep arriving meanwhile, each asking for a batch within the flush interval.
    const ticker = setInterval(() => failingThrice.count(sessionId, { messages: 1 }), 5);
    const written = new Promise<void>((resolve) =>
      failingThrice.enqueue(sessionId, event(1, 'after the outage'), resolve),
    );
    try {
      await within(written, 5_000, 'the write after three failures');
    } finally {
      clearInterval(ticker);
    }
    await failingThrice.close();
    const gaps = attempts.slice(1, 4).map((at, index) => at - attempts[index]!);
    // 200, 400 and 800 ms after the first, second and third failure (a little early at most).
    expect(gaps[0]).toBeGreaterThan(180);
    expect(gaps[1]).toBeGreaterThan(380);
    expect(gaps[2]).toBeGreaterThan(780);
    expect((await storedEvents(sessionId)).map((row) => row.seq)).toStrictEqual([1]);
  });

  test('a retry that fails again stays in front of the events behind it', async () => {
    const sessionId = await newSession();
    // The first batch and the first retry fail; two events a batch, sent at once: three
    // batches in flight, then retries two at a time.
    const { writer: writer2, outcomes } = failingWriter([1, 4], 2);
    const order: number[] = [];
    for (const seq of [1, 2, 3, 4, 5, 6])
      writer2.enqueue(sessionId, event(seq, 'x'), () => order.push(seq));
    await within(writer2.close(), 5_000, 'writing after two failures');
    expect(outcomes).toStrictEqual(['failed', 'skipped', 'skipped', 'failed', 'ok', 'ok', 'ok']);
    expect(order).toStrictEqual([1, 2, 3, 4, 5, 6]);
    expect((await storedEvents(sessionId)).map((row) => row.seq)).toStrictEqual([1, 2, 3, 4, 5, 6]);
  });

  test('what waits for a session deleted meanwhile is dropped without failing anyone else', async () => {
    const [gone, alive] = [await newSession(), await newSession()];
    await handle.db.delete(sessions).where(eq(sessions.sessionId, gone));
    const responseId = randomUUID();
    writer.enqueue(gone, event(1, 'orphan'));
    writer.count(gone, { messages: 1 });
    writer.draft(gone, responseId, 'orphan draft');
    writer.enqueue(alive, event(1, 'kept'));
    await flushed();
    expect(await storedEvents(gone)).toStrictEqual([]);
    expect(await drafts(gone)).toStrictEqual({});
    expect((await storedEvents(alive)).map((row) => row.content)).toStrictEqual(['kept']);
  });

  test('metadata JSON cannot hold is stored as a note, and the batch goes through', async () => {
    const sessionId = await newSession();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    writer.enqueue(sessionId, event(1, 'big', { count: 10n }));
    writer.enqueue(sessionId, event(2, 'cyclic', { result: cyclic }));
    writer.enqueue(sessionId, event(3, 'plain', { ok: true }));
    await flushed();
    const rows = await storedEvents(sessionId);
    expect(rows.map((row) => row.seq)).toStrictEqual([1, 2, 3]);
    expect(rows[0]!.metadata).toMatchObject({ unstorable: expect.stringContaining('BigInt') });
    expect(rows[1]!.metadata).toMatchObject({ unstorable: expect.any(String) });
    expect(rows[2]!.metadata).toStrictEqual({ ok: true });
  });
});
