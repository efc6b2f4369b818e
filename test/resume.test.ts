import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import type { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { sessionEvents, sessions } from '../src/db/schema.ts';
import type { ServerEvent } from '../src/protocol/index.ts';
import { TestClient } from './support/client.ts';
import { startChildServer, type ChildServer } from './support/child-server.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/database.ts';
import { startFakeUpstream, text, type FakeUpstream } from './support/fake-upstream.ts';
import { startParley, type RunningParley } from './support/parley.ts';

/**
 * What a client rebuilds of each response from the events it got: deltas append, a snapshot
 * replaces, the end of a response states the final text.
 */
function rebuild(
  events: readonly ServerEvent[],
): Map<string, { text: string; final?: string; status?: string }> {
  const responses = new Map<string, { text: string; final?: string; status?: string }>();
  const get = (id: string) => {
    let entry = responses.get(id);
    if (!entry) responses.set(id, (entry = { text: '' }));
    return entry;
  };
  for (const event of events) {
    switch (event.type) {
      case 'response.text.delta':
        get(event.response_id).text += event.delta;
        break;
      case 'response.snapshot':
        get(event.response_id).text = event.text;
        get(event.response_id).status = event.status;
        break;
      case 'response.completed':
      case 'response.cancelled':
      case 'response.failed':
        get(event.response_id).final = event.text;
        break;
      default:
        break;
    }
  }
  return responses;
}

/** Session events (numbered ones) must arrive in increasing seq order with no repeats. */
function expectOrderedWithoutRepeats(events: readonly ServerEvent[]) {
  let previous = -1;
  for (const event of events) {
    expect(event.seq, `${event.type} at seq ${event.seq} after ${previous}`).toBeGreaterThanOrEqual(
      previous,
    );
    previous = event.seq;
  }
  const numbered = events.filter(
    (event) =>
      !['session.ready', 'error', 'pong', 'response.snapshot', 'session.summary'].includes(
        event.type,
      ),
  );
  expect(new Set(numbered.map((event) => event.seq)).size).toBe(numbered.length);
}

const words = (count: number, prefix = 'w') =>
  Array.from({ length: count }, (_, index) => `${prefix}${index} `);

/** A seeded generator, so a failing drop point can be reproduced. */
function random(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe.each(databaseKinds)('resume on %s', (kind) => {
  let upstream: FakeUpstream;
  let database: TestDatabase;
  let exact: RunningParley;
  let tiny: RunningParley;
  const clients: TestClient[] = [];

  const track = (client: TestClient) => {
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    database = await createTestDatabase(kind);
    const env = {
      LLM_PROVIDER: 'openai-compatible',
      LLM_BASE_URL: upstream.url,
      LLM_MODEL: 'fake-model',
      DATABASE_URL: database.url,
      SESSION_END_GRACE_MS: '10000',
      WS_MAX_BUFFERED_BYTES: String(64 * 1024),
    };
    exact = await startParley(env);
    // Two servers on one Postgres database are fine; on PGlite each has its own memory database.
    tiny = await startParley({ ...env, RESUME_BUFFER_EVENTS: '4' });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await exact?.close();
    await tiny?.close();
    await upstream?.close();
    await database?.drop();
  });

  async function dropAndResume(server: RunningParley, dropAfter: number) {
    const reply = words(40);
    upstream.enqueue(text(reply, { delayMs: 4 }));
    const first = track(await TestClient.connect(server.wsUrl, { userId: 'hana' }));
    const ready = await first.next('session.ready');
    first.say('tell me forty words');
    await first.until(() => first.events.length >= 1 + dropAfter, `${dropAfter} events`);
    first.socket.terminate();
    const seen = [...first.events];
    const lastSeq = Math.max(...seen.map((event) => event.seq));
    // Stay away for a moment: the response goes on without us.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = track(
      await TestClient.connect(server.wsUrl, {
        userId: 'hana',
        sessionId: ready.session_id,
        query: `&after_seq=${lastSeq}`,
      }),
    );
    const resumedReady = await second.next('session.ready');
    expect(resumedReady).toMatchObject({ resumed: true });
    const end = await second.responseEnd();
    const all = [...seen, ...second.events];
    expectOrderedWithoutRepeats(seen);
    expectOrderedWithoutRepeats(second.events);
    const rebuilt = rebuild(all).get(end.response_id)!;
    expect(end.text).toBe(reply.join(''));
    expect(rebuilt.text).toBe(end.text);
    await server.writer.flush();
    const [stored] = await server.database.db
      .select()
      .from(sessionEvents)
      .where(eq(sessionEvents.sessionId, ready.session_id))
      .orderBy(asc(sessionEvents.seq));
    expect(stored).toBeDefined();
    return { second, end };
  }

  test('a client that drops mid-response and resumes from the buffer rebuilds the exact text, at every drop point', async () => {
    const next = random(7);
    for (let round = 0; round < 12; round += 1) {
      const dropAfter = 1 + Math.floor(next() * 40);
      const { second } = await dropAndResume(exact, dropAfter);
      // Exact replay needs no snapshot.
      expect(second.all('response.snapshot')).toEqual([]);
      await second.close();
    }
  });

  test('beyond the buffer the gap comes from the database with a snapshot, and the text is still exact', async () => {
    const next = random(11);
    let snapshots = 0;
    for (let round = 0; round < 8; round += 1) {
      const dropAfter = 2 + Math.floor(next() * 30);
      const { second } = await dropAndResume(tiny, dropAfter);
      snapshots += second.all('response.snapshot').length;
      await second.close();
    }
    expect(snapshots).toBeGreaterThan(0);
  });

  test('session.resume as the first frame works like after_seq', async () => {
    upstream.enqueue(text(words(20), { delayMs: 5 }));
    const first = track(await TestClient.connect(exact.wsUrl, { userId: 'ivan' }));
    const ready = await first.next('session.ready');
    first.say('twenty words');
    await first.next('response.text.delta', { count: 5 });
    first.socket.terminate();
    const lastSeq = Math.max(...first.events.map((event) => event.seq));
    const second = track(
      await TestClient.connect(exact.wsUrl, { userId: 'ivan', sessionId: ready.session_id }),
    );
    second.send({ type: 'session.resume', after_seq: lastSeq });
    const end = await second.responseEnd();
    expect(rebuild([...first.events, ...second.events]).get(end.response_id)!.text).toBe(end.text);
    second.send({ type: 'session.resume', after_seq: 0 });
    expect((await second.next('error')).code).toBe('resume_not_first');
  });

  test('two tabs get the same live events; one resumes after a drop while the other stays', async () => {
    upstream.enqueue(text(words(30), { delayMs: 5 }));
    const tabA = track(await TestClient.connect(exact.wsUrl, { userId: 'jo' }));
    const readyA = await tabA.next('session.ready');
    const tabB = track(
      await TestClient.connect(exact.wsUrl, { userId: 'jo', sessionId: readyA.session_id }),
    );
    await tabB.next('session.ready');
    tabA.say('thirty words for two tabs');
    await tabA.next('response.text.delta', { count: 8 });
    tabA.socket.terminate();
    const lastSeq = Math.max(...tabA.events.map((event) => event.seq));
    const tabA2 = track(
      await TestClient.connect(exact.wsUrl, {
        userId: 'jo',
        sessionId: readyA.session_id,
        query: `&after_seq=${lastSeq}`,
      }),
    );
    const endB = await tabB.responseEnd();
    const endA = await tabA2.responseEnd();
    expect(endA.seq).toBe(endB.seq);
    const numbered = (events: readonly ServerEvent[]) =>
      events.filter(
        (event) => !['session.ready', 'error', 'pong', 'response.snapshot'].includes(event.type),
      );
    // Tab B saw every session event once; tab A before and after its drop saw the same ones.
    expect(numbered([...tabA.events, ...tabA2.events]).map((event) => event.seq)).toEqual(
      numbered(tabB.events).map((event) => event.seq),
    );
    expect(rebuild([...tabA.events, ...tabA2.events]).get(endA.response_id)!.text).toBe(endB.text);
  });

  test('a client that stops reading is cut off with slow_consumer; what is queued for it stays bounded', async () => {
    const chunk = 'x'.repeat(2_000);
    upstream.enqueue(text(Array.from({ length: 3_000 }, () => chunk)));
    const reader = track(await TestClient.connect(exact.wsUrl, { userId: 'kim' }));
    const ready = await reader.next('session.ready');
    const stalled = track(
      await TestClient.connect(exact.wsUrl, { userId: 'kim', sessionId: ready.session_id }),
    );
    await stalled.next('session.ready');
    stalled.socket.pause();
    const peaks = new Map<WebSocket, number>();
    const sampler = setInterval(() => {
      for (const socket of exact.app.websocketServer.clients as Set<WebSocket>) {
        peaks.set(socket, Math.max(peaks.get(socket) ?? 0, socket.bufferedAmount));
      }
    }, 2);
    try {
      reader.say('six megabytes please');
      const end = await reader.responseEnd({ timeoutMs: 60_000 });
      expect(end.type).toBe('response.completed');
      expect(end.text.length).toBe(6_000_000);
    } finally {
      clearInterval(sampler);
    }
    stalled.socket.resume();
    const closed = await stalled.closed;
    expect([4408, 1006]).toContain(closed.code);
    if (closed.code === 4408)
      expect(stalled.all('error').map((error) => error.code)).toContain('slow_consumer');
    // The limit is 64 KiB: the stalled socket never held more than that plus one frame (the
    // reader's socket briefly holds the 6 MB completion frame, which it reads).
    const stalledPeaks = [...peaks]
      .filter(([socket]) => socket.readyState !== socket.OPEN)
      .map(([, peak]) => peak);
    expect(stalledPeaks).toHaveLength(1);
    expect(stalledPeaks[0]).toBeLessThan(64 * 1024 + 4 * 1024);
  });

  test('a long replay streams page by page at the pace of a slow reader', async () => {
    const sessionId = randomUUID();
    await exact.database.db
      .insert(sessions)
      .values({ sessionId, userId: 'lee', status: 'ended', seqReserved: 5_000 });
    const content = 'y'.repeat(1_000);
    await exact.database.db.insert(sessionEvents).values(
      Array.from({ length: 5_000 }, (_, index) => ({
        sessionId,
        seq: index + 1,
        eventType: 'user_message',
        content,
        metadata: { message_id: `m${index}`, role: 'user', queued: false },
      })),
    );
    const client = track(
      await TestClient.connect(exact.wsUrl, { userId: 'lee', sessionId, query: '&after_seq=0' }),
    );
    await client.next('session.ready');
    client.socket.pause();
    let peak = 0;
    const sampler = setInterval(() => {
      for (const socket of exact.app.websocketServer.clients as Set<WebSocket>)
        peak = Math.max(peak, socket.bufferedAmount);
    }, 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    client.socket.resume();
    await client.next('message.created', { count: 5_000, timeoutMs: 30_000 });
    clearInterval(sampler);
    const replayed = client.all('message.created');
    expect(replayed.map((event) => event.seq)).toEqual(
      Array.from({ length: 5_000 }, (_, index) => index + 1),
    );
    // 5 MB were replayed; the server held at most half its 64 KiB limit plus one page's frame.
    expect(peak).toBeLessThan(32 * 1024 + 2 * 1024);
  });
});

describe.each(databaseKinds)('resume after kill -9 on %s', (kind) => {
  let upstream: FakeUpstream;
  let database: TestDatabase;
  let directory: string;
  let server: ChildServer | undefined;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    database = await createTestDatabase(kind);
    directory = await mkdtemp(path.join(tmpdir(), 'parley-resume-'));
  });
  afterAll(async () => {
    await server?.kill();
    await upstream.close();
    await database.drop();
    await rm(directory, { recursive: true, force: true });
  });

  test('the response in flight comes back as an interrupted snapshot; nothing repeats, later seqs are higher', async () => {
    const env = {
      LLM_PROVIDER: 'openai-compatible',
      LLM_BASE_URL: upstream.url,
      LLM_MODEL: 'fake-model',
      DATABASE_URL: database.url,
      PGLITE_DIR: directory,
      INSTANCE_HEARTBEAT_MS: '300',
      INSTANCE_LEASE_MS: '1500',
    };
    server = await startChildServer(env);
    upstream.enqueue(text(words(200), { delayMs: 15 }));
    const first = await TestClient.connect(server.wsUrl, { userId: 'mo' });
    const ready = await first.next('session.ready');
    first.say('a long answer that will be cut off');
    // Past the first draft save (every second).
    await first.next('response.text.delta', { count: 100, timeoutMs: 10_000 });
    await server.kill('SIGKILL');
    await first.closed;
    const seen = [...first.events];
    const lastSeq = Math.max(...seen.map((event) => event.seq));
    const started = first.all('response.started')[0]!;
    const seenText = rebuild(seen).get(started.response_id)!.text;

    server = await startChildServer(env);
    const second = await TestClient.connect(server.wsUrl, {
      userId: 'mo',
      sessionId: ready.session_id,
      query: `&after_seq=${lastSeq}`,
    });
    await second.next('session.ready');
    const snapshot = await second.next('response.snapshot');
    expect(snapshot).toMatchObject({ response_id: started.response_id, status: 'interrupted' });
    expect(snapshot.text.length).toBeGreaterThan(0);
    expect(seenText.startsWith(snapshot.text)).toBe(true);
    expect(snapshot.seq).toBeGreaterThan(lastSeq);

    upstream.enqueue(text('fresh answer'));
    second.say('and now?');
    const created = await second.next('message.created');
    expect(created.seq).toBeGreaterThan(snapshot.seq);
    await second.next('response.completed');
    expectOrderedWithoutRepeats([...seen, ...second.events]);
    await second.close();
  });
});
