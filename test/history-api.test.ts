import { randomUUID } from 'node:crypto';
import { validate } from '@readme/openapi-parser';
import { count, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { sessionEvents, sessions } from '../src/db/schema.ts';
import { TestClient } from './support/client.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/database.ts';
import { startParley, type RunningParley } from './support/parley.ts';

const sessionKeys = [
  'session_id',
  'user_id',
  'status',
  'title',
  'summary',
  'topics',
  'tools_used',
  'summary_status',
  'summary_error',
  'summary_attempts',
  'summary_model',
  'summarized_at',
  'started_at',
  'ended_at',
  'duration_seconds',
  'message_count',
  'input_tokens',
  'output_tokens',
  'provider',
  'model',
].sort();

type Json = Record<string, unknown>;
interface SessionBody extends Json {
  session_id: string;
  status: string;
}
interface SessionPage {
  sessions: SessionBody[];
  next_cursor: string | null;
}
interface EventBody {
  seq: number;
  event_type: string;
  type: string | null;
  content: string | null;
  metadata: Json;
  created_at: string;
}
interface EventPage {
  events: EventBody[];
  next_after_seq: number | null;
}

/** A user id no other test uses, so tests sharing one database never see each other's rows. */
function newUser(): string {
  return `user-${randomUUID()}`;
}

/** Compares like Postgres orders `started_at desc, session_id desc` (fixed-width ISO strings, lowercase UUIDs). */
function newestFirst(
  a: { startedAt: string; sessionId: string },
  b: { startedAt: string; sessionId: string },
) {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.sessionId < b.sessionId ? 1 : -1;
}

describe.each(databaseKinds)('history API on %s', (kind) => {
  let database: TestDatabase;
  let parley: RunningParley;
  const clients: TestClient[] = [];

  async function api<T = Json>(
    method: 'GET' | 'DELETE' | 'POST',
    path: string,
    query: Record<string, string | number | undefined> = {},
  ): Promise<{ status: number; contentType: string; body: T; text: string }> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) search.set(key, String(value));
    const response = await fetch(`${parley.httpUrl}${path}${search.size > 0 ? `?${search}` : ''}`, {
      method,
    });
    const text = await response.text();
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: (text === '' ? undefined : JSON.parse(text)) as T,
      text,
    };
  }

  /** Opens a session over the WebSocket, has one exchange with the demo model, and keeps it open. */
  async function converse(userId: string, text = 'Hello there') {
    const opened = await TestClient.ready(parley.wsUrl, { userId });
    clients.push(opened.client);
    opened.client.say(text);
    await opened.client.next('response.completed');
    return opened;
  }

  async function waitUntilEnded(userId: string, sessionId: string) {
    await expect
      .poll(
        async () =>
          (await api<SessionBody>('GET', `/api/sessions/${sessionId}`, { user_id: userId })).body
            .status,
        {
          timeout: 10_000,
          interval: 25,
        },
      )
      .toBe('ended');
  }

  /** Inserts ended sessions directly; `startedAt` is ISO with up to microseconds. */
  async function insertSessions(userId: string, startedAts: string[]) {
    const rows = startedAts.map((startedAt) => ({ startedAt, sessionId: randomUUID() }));
    await parley.database.db.insert(sessions).values(
      rows.map((row) => ({
        sessionId: row.sessionId,
        userId,
        status: 'ended' as const,
        startedAt: sql`${row.startedAt}::timestamptz`,
        endedAt: sql`${row.startedAt}::timestamptz + interval '1 minute'`,
        durationSeconds: 60,
      })),
    );
    return rows;
  }

  async function countRows(sessionId: string) {
    await parley.writer.flush();
    const [eventRows] = await parley.database.db
      .select({ value: count() })
      .from(sessionEvents)
      .where(eq(sessionEvents.sessionId, sessionId));
    const [sessionRows] = await parley.database.db
      .select({ value: count() })
      .from(sessions)
      .where(eq(sessions.sessionId, sessionId));
    return { events: eventRows!.value, sessions: sessionRows!.value };
  }

  /** Follows `next_cursor` to the end; checks every page's size on the way. */
  async function allPages(userId: string, limit: number) {
    const pages: SessionPage[] = [];
    let cursor: string | undefined;
    do {
      const { status, body } = await api<SessionPage>('GET', '/api/sessions', {
        user_id: userId,
        limit,
        cursor,
      });
      expect(status).toBe(200);
      expect(body.sessions.length).toBeLessThanOrEqual(limit);
      pages.push(body);
      cursor = body.next_cursor ?? undefined;
    } while (cursor !== undefined && pages.length < 100);
    return pages;
  }

  function expectProblem(
    response: { status: number; contentType: string; body: Json },
    { status, code }: { status: number; code: string },
  ) {
    expect(response.status).toBe(status);
    expect(response.contentType).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      type: `https://parley.dev/problems/${code}`,
      title: expect.any(String),
      status,
      detail: expect.any(String),
      code,
    });
  }

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    parley = await startParley({
      LLM_PROVIDER: 'demo',
      DEMO_TOKEN_DELAY_MS: '0',
      DATABASE_URL: database.url,
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await parley?.close();
    await database?.drop();
  });

  test('a conversation over the WebSocket is listed, readable by id, and its events come back in seq order', async () => {
    const userId = newUser();
    const { client, sessionId } = await converse(userId, 'Hello there');

    const live = await api<SessionBody>('GET', `/api/sessions/${sessionId}`, { user_id: userId });
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({
      session_id: sessionId,
      user_id: userId,
      status: 'active',
      ended_at: null,
    });
    expect(live.body.duration_seconds).toBeGreaterThanOrEqual(0);

    await client.close();
    await waitUntilEnded(userId, sessionId);

    const list = await api<SessionPage>('GET', '/api/sessions', { user_id: userId });
    expect(list.status).toBe(200);
    expect(list.contentType).toMatch(/^application\/json/);
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.sessions).toHaveLength(1);
    const [session] = list.body.sessions;
    expect(Object.keys(session!).sort()).toEqual(sessionKeys);
    expect(session).toMatchObject({
      session_id: sessionId,
      user_id: userId,
      status: 'ended',
      provider: parley.chatModel.provider,
      model: parley.chatModel.modelId,
    });
    expect(new Date(session!.started_at as string).toISOString()).toBe(session!.started_at);
    expect(new Date(session!.ended_at as string).toISOString()).toBe(session!.ended_at);
    expect(session!.duration_seconds).toBeGreaterThanOrEqual(0);

    const one = await api<SessionBody>('GET', `/api/sessions/${sessionId}`, { user_id: userId });
    // The summary job may have moved on in between; everything else is the same row.
    const summaryKeys = new Set(['title', 'summary', 'topics', 'tools_used']);
    const withoutSummary = (body: Json) =>
      Object.entries(body).filter(([key]) => !key.startsWith('summar') && !summaryKeys.has(key));
    expect(withoutSummary(one.body)).toEqual(withoutSummary(session!));

    await parley.writer.flush();
    const events = await api<EventPage>('GET', `/api/sessions/${sessionId}/events`, {
      user_id: userId,
    });
    expect(events.status).toBe(200);
    expect(events.body.next_after_seq).toBeNull();
    const seqs = events.body.events.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.body.events[0]).toMatchObject({ event_type: 'session_started', type: null });
    expect(events.body.events.at(-1)).toMatchObject({ event_type: 'session_ended', type: null });
    const userMessage = events.body.events.find((event) => event.event_type === 'user_message');
    expect(userMessage).toMatchObject({ type: 'message.created', content: 'Hello there' });
    const completed = client.all('response.completed')[0]!;
    const answer = events.body.events.find((event) => event.event_type === 'assistant_message');
    expect(answer).toMatchObject({
      seq: completed.seq,
      type: 'response.completed',
      content: completed.text,
    });
    for (const event of events.body.events) {
      expect(new Date(event.created_at).toISOString()).toBe(event.created_at);
      expect(typeof event.metadata).toBe('object');
    }
  });

  test('pages newest first; sessions that start at the same instant (or microseconds apart) are neither skipped nor repeated', async () => {
    const userId = newUser();
    const rows = await insertSessions(userId, [
      '2025-03-01T10:00:00.000000Z',
      '2025-03-01T10:00:00.000000Z',
      '2025-03-01T10:00:00.000000Z',
      '2025-03-01T10:00:00.000001Z',
      '2025-03-01T10:00:00.000002Z',
      '2025-02-01T08:00:00.000000Z',
      '2025-04-01T08:00:00.500000Z',
    ]);
    const expected = [...rows].sort(newestFirst).map((row) => row.sessionId);

    for (const limit of [1, 2, 3, 6, 7, 8, 100]) {
      const pages = await allPages(userId, limit);
      const ids = pages.flatMap((page) => page.sessions.map((session) => session.session_id));
      expect(ids, `limit ${limit}`).toEqual(expected);
      expect(pages).toHaveLength(Math.max(1, Math.ceil(rows.length / limit)));
      // Every page but the last is full and has a cursor; the last has none.
      for (const page of pages.slice(0, -1)) {
        expect(page.sessions).toHaveLength(limit);
        expect(page.next_cursor).toEqual(expect.any(String));
      }
      expect(pages.at(-1)!.next_cursor).toBeNull();
    }
  });

  test('exactly `limit` sessions is one page without a cursor; `limit + 1` is two pages', async () => {
    const exact = newUser();
    await insertSessions(exact, [
      '2025-01-01T00:00:01Z',
      '2025-01-01T00:00:02Z',
      '2025-01-01T00:00:03Z',
    ]);
    const page = await api<SessionPage>('GET', '/api/sessions', { user_id: exact, limit: 3 });
    expect(page.body.sessions).toHaveLength(3);
    expect(page.body.next_cursor).toBeNull();

    const onePlus = newUser();
    await insertSessions(onePlus, [
      '2025-01-01T00:00:01Z',
      '2025-01-01T00:00:02Z',
      '2025-01-01T00:00:03Z',
      '2025-01-01T00:00:04Z',
    ]);
    const first = await api<SessionPage>('GET', '/api/sessions', { user_id: onePlus, limit: 3 });
    expect(first.body.sessions).toHaveLength(3);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await api<SessionPage>('GET', '/api/sessions', {
      user_id: onePlus,
      limit: 3,
      cursor: first.body.next_cursor!,
    });
    expect(second.body.sessions).toHaveLength(1);
    expect(second.body.sessions[0]!.started_at).toBe('2025-01-01T00:00:01.000Z');
    expect(second.body.next_cursor).toBeNull();
  });

  test('the default page size is 20, and a user without sessions gets an empty page', async () => {
    const userId = newUser();
    await insertSessions(
      userId,
      Array.from(
        { length: 21 },
        (_, index) => `2025-01-01T00:00:${String(index).padStart(2, '0')}Z`,
      ),
    );
    const first = await api<SessionPage>('GET', '/api/sessions', { user_id: userId });
    expect(first.body.sessions).toHaveLength(20);
    expect(first.body.next_cursor).toEqual(expect.any(String));

    const empty = await api<SessionPage>('GET', '/api/sessions', { user_id: newUser() });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ sessions: [], next_cursor: null });
  });

  test('events page by after_seq, in seq order, across gaps', async () => {
    const userId = newUser();
    const sessionId = (await insertSessions(userId, ['2025-05-01T12:00:00Z']))[0]!.sessionId;
    const stored = [
      { seq: 1, eventType: 'session_started', content: null, metadata: { resumed: false } },
      {
        seq: 2,
        eventType: 'user_message',
        content: 'Hi',
        metadata: { message_id: 'm1', role: 'user', queued: false },
      },
      {
        seq: 3,
        eventType: 'response_started',
        content: null,
        metadata: { response_id: 'r1', message_id: 'm1' },
      },
      {
        seq: 5,
        eventType: 'assistant_message',
        content: 'Hello!',
        metadata: { response_id: 'r1' },
      },
      { seq: 8, eventType: 'session_ended', content: null, metadata: { reason: 'session_ended' } },
    ];
    await parley.database.db
      .insert(sessionEvents)
      .values(stored.map((event) => ({ sessionId, ...event })));
    const page = (query: Record<string, number>) =>
      api<EventPage>('GET', `/api/sessions/${sessionId}/events`, { user_id: userId, ...query });

    const all = await page({});
    expect(all.body.next_after_seq).toBeNull();
    expect(all.body.events.map((event) => [event.seq, event.event_type, event.type])).toEqual([
      [1, 'session_started', null],
      [2, 'user_message', 'message.created'],
      [3, 'response_started', 'response.started'],
      [5, 'assistant_message', 'response.completed'],
      [8, 'session_ended', null],
    ]);
    expect(all.body.events[1]).toMatchObject({
      content: 'Hi',
      metadata: { message_id: 'm1', role: 'user', queued: false },
    });

    const seqsOf = (body: EventPage) => body.events.map((event) => event.seq);
    const first = await page({ limit: 2 });
    expect([seqsOf(first.body), first.body.next_after_seq]).toEqual([[1, 2], 2]);
    const second = await page({ limit: 2, after_seq: 2 });
    expect([seqsOf(second.body), second.body.next_after_seq]).toEqual([[3, 5], 5]);
    const last = await page({ limit: 2, after_seq: 5 });
    expect([seqsOf(last.body), last.body.next_after_seq]).toEqual([[8], null]);
    // Exactly `limit` events left: no next page.
    const exact = await page({ limit: 2, after_seq: 3 });
    expect([seqsOf(exact.body), exact.body.next_after_seq]).toEqual([[5, 8], null]);
    const beyond = await page({ after_seq: 8 });
    expect(beyond.body).toEqual({ events: [], next_after_seq: null });
  });

  test.each([
    ['GET', '/api/sessions', { user_id: 'u', limit: 0 }, 'query.limit'],
    ['GET', '/api/sessions', { user_id: 'u', limit: 101 }, 'query.limit'],
    ['GET', '/api/sessions', { user_id: 'u', limit: 'ten' }, 'query.limit'],
    ['GET', '/api/sessions', { user_id: 'u', limit: 2.5 }, 'query.limit'],
    ['GET', '/api/sessions', { user_id: 'u', cursor: 'not-a-cursor' }, 'query.cursor'],
    [
      'GET',
      '/api/sessions',
      { user_id: 'u', cursor: Buffer.from('["x","y"]').toString('base64url') },
      'query.cursor',
    ],
    ['GET', '/api/sessions', {}, 'query.user_id'],
    ['GET', '/api/sessions', { user_id: 'has space' }, 'query.user_id'],
    ['GET', '/api/sessions', { user_id: 'x'.repeat(129) }, 'query.user_id'],
    ['GET', '/api/sessions/not-a-uuid', { user_id: 'u' }, 'params.id'],
    ['GET', `/api/sessions/${randomUUID()}`, {}, 'query.user_id'],
    ['GET', `/api/sessions/${randomUUID()}/events`, { user_id: 'u', limit: 1001 }, 'query.limit'],
    [
      'GET',
      `/api/sessions/${randomUUID()}/events`,
      { user_id: 'u', after_seq: -1 },
      'query.after_seq',
    ],
    ['GET', '/api/sessions/123/events', { user_id: 'u' }, 'params.id'],
    ['DELETE', '/api/sessions/123', { user_id: 'u' }, 'params.id'],
    ['DELETE', `/api/sessions/${randomUUID()}`, {}, 'query.user_id'],
    ['POST', '/api/sessions/123/summarize', { user_id: 'u' }, 'params.id'],
  ] as const)('%s %s %j → 400 naming %s', async (method, path, query, field) => {
    const response = await api<Json>(method, path, query);
    expectProblem(response, { status: 400, code: 'invalid_request' });
    expect(response.body.errors).toEqual([{ field, message: expect.any(String) }]);
  });

  test('an unknown session and another user’s session are the same 404; lists never show other users’ sessions', async () => {
    const owner = newUser();
    const intruder = newUser();
    const sessionId = (await insertSessions(owner, ['2025-06-01T00:00:00Z']))[0]!.sessionId;
    await insertSessions(intruder, ['2025-06-01T00:00:00Z']);
    const unknown = randomUUID();

    for (const [method, suffix] of [
      ['GET', ''],
      ['GET', '/events'],
      ['POST', '/summarize'],
      ['DELETE', ''],
    ] as const) {
      const missing = await api<Json>(method, `/api/sessions/${unknown}${suffix}`, {
        user_id: owner,
      });
      expectProblem(missing, { status: 404, code: 'not_found' });
      const foreign = await api<Json>(method, `/api/sessions/${sessionId}${suffix}`, {
        user_id: intruder,
      });
      expectProblem(foreign, { status: 404, code: 'not_found' });
      expect(foreign.body, `${method} ${suffix}`).toEqual(missing.body);
    }

    const intruderList = await api<SessionPage>('GET', '/api/sessions', { user_id: intruder });
    expect(intruderList.body.sessions.map((session) => session.user_id)).toEqual([intruder]);
    // The intruder's DELETE changed nothing.
    const ownerList = await api<SessionPage>('GET', '/api/sessions', { user_id: owner });
    expect(ownerList.body.sessions.map((session) => session.session_id)).toEqual([sessionId]);
  });

  test('an unknown route is a 404 problem', async () => {
    expectProblem(await api('GET', '/api/nothing-here'), { status: 404, code: 'not_found' });
    expectProblem(await api('POST', '/api/sessions', { user_id: 'u' }), {
      status: 404,
      code: 'not_found',
    });
  });

  test('DELETE removes the session and, by cascade, its events', async () => {
    const userId = newUser();
    const { client, sessionId } = await converse(userId);
    await client.close();
    await waitUntilEnded(userId, sessionId);
    const before = await countRows(sessionId);
    expect(before.sessions).toBe(1);
    expect(before.events).toBeGreaterThan(0);

    const deleted = await api('DELETE', `/api/sessions/${sessionId}`, { user_id: userId });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');

    expect(await countRows(sessionId)).toEqual({ sessions: 0, events: 0 });
    expectProblem(await api('GET', `/api/sessions/${sessionId}`, { user_id: userId }), {
      status: 404,
      code: 'not_found',
    });
    expectProblem(await api('GET', `/api/sessions/${sessionId}/events`, { user_id: userId }), {
      status: 404,
      code: 'not_found',
    });
    expect(
      (await api<SessionPage>('GET', '/api/sessions', { user_id: userId })).body.sessions,
    ).toEqual([]);
    expectProblem(await api('DELETE', `/api/sessions/${sessionId}`, { user_id: userId }), {
      status: 404,
      code: 'not_found',
    });
  });

  test('a session that is live on a socket can be deleted, and the server carries on', async () => {
    const userId = newUser();
    const { client, sessionId } = await converse(userId);
    const deleted = await api('DELETE', `/api/sessions/${sessionId}`, { user_id: userId });
    expect(deleted.status).toBe(204);
    expect((await client.closed).code).toBe(4410);
    expect((await countRows(sessionId)).sessions).toBe(0);
    expect((await api('GET', '/health')).status).toBe(200);
    const next = await converse(userId, 'Still there?');
    expect(next.sessionId).not.toBe(sessionId);
  });

  test('POST summarize is a 409 problem while the session is active, and 202 once it has ended', async () => {
    const userId = newUser();
    const { client, sessionId } = await converse(userId);

    const active = await api<Json>('POST', `/api/sessions/${sessionId}/summarize`, {
      user_id: userId,
    });
    expectProblem(active, { status: 409, code: 'session_active' });
    expect(active.body.detail).toMatch(/summarized when it ends/);

    await client.close();
    await waitUntilEnded(userId, sessionId);
    const accepted = await api<Json>('POST', `/api/sessions/${sessionId}/summarize`, {
      user_id: userId,
    });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({
      session_id: sessionId,
      summary_status: 'pending',
      job_id: expect.any(String),
    });
    const after = await api<SessionBody>('GET', `/api/sessions/${sessionId}`, { user_id: userId });
    expect(['pending', 'done', 'failed']).toContain(after.body.summary_status);
  });

  test('the OpenAPI document at /docs/json is valid and lists every route; /docs serves Swagger UI', async () => {
    const document = await api<{
      openapi: string;
      info: Json;
      paths: Record<string, Record<string, Json>>;
    }>('GET', '/docs/json');
    expect(document.status).toBe(200);
    const result = await validate(structuredClone(document.body) as never);
    expect(result.valid, result.valid ? '' : JSON.stringify(result.errors)).toBe(true);
    expect(document.body.info).toMatchObject({ title: 'Parley' });
    const operations = Object.entries(document.body.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'GET /api/sessions',
        'GET /api/sessions/{id}',
        'GET /api/sessions/{id}/events',
        'DELETE /api/sessions/{id}',
        'POST /api/sessions/{id}/summarize',
      ]),
    );
    expect(operations.some((operation) => operation.includes('/ws/'))).toBe(false);
    const problem = document.body.paths['/api/sessions/{id}']!.get!.responses as Record<
      string,
      { content: Json }
    >;
    expect(Object.keys(problem['404']!.content)).toEqual(['application/problem+json']);

    const ui = await fetch(`${parley.httpUrl}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await ui.text()).toContain('swagger-ui');
  });
});
