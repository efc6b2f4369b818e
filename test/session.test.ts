import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { sessionEvents, sessions } from '../src/db/schema.ts';
import { CloseCode, storedEventTypes, type ServerEvent } from '../src/protocol/index.ts';
import { deltasText, TestClient } from './support/client.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/database.ts';
import {
  destroy,
  fixture,
  fixturesDirectory,
  startFakeUpstream,
  stall,
  status,
  text,
  toolCalls,
  type FakeUpstream,
} from './support/fake-upstream.ts';
import { startParley, type RunningParley } from './support/parley.ts';
import { startChildServer } from './support/child-server.ts';

/** Environment that points Parley at the fake upstream. */
function upstreamEnv(
  upstream: FakeUpstream,
  database: TestDatabase,
  extra: Record<string, string> = {},
) {
  return {
    LLM_PROVIDER: 'openai-compatible',
    LLM_BASE_URL: upstream.url,
    LLM_MODEL: 'fake-model',
    LLM_MAX_RETRIES: '0',
    DATABASE_URL: database.url,
    ...extra,
  };
}

async function storedEvents(parley: RunningParley, sessionId: string) {
  await parley.writer.flush();
  return parley.database.db
    .select()
    .from(sessionEvents)
    .where(eq(sessionEvents.sessionId, sessionId))
    .orderBy(asc(sessionEvents.seq));
}

/** Every stored event the client saw must be stored with the same seq, type and payload. */
async function expectStoredMatchesSeen(
  parley: RunningParley,
  client: TestClient,
  sessionId: string,
) {
  const rows = await storedEvents(parley, sessionId);
  const bySeq = new Map(rows.map((row) => [row.seq, row]));
  const seenStored = client.events.filter((event) => event.type in storedEventTypes);
  expect(seenStored.length).toBeGreaterThan(0);
  for (const event of seenStored) {
    const row = bySeq.get(event.seq);
    expect(row, `stored row for ${event.type} seq ${event.seq}`).toBeDefined();
    expect(row!.eventType).toBe(storedEventTypes[event.type as keyof typeof storedEventTypes]);
    const {
      type: _type,
      session_id: _sid,
      seq: _seq,
      text: seenText,
      ...rest
    } = event as ServerEvent & {
      text?: string;
    };
    expect(row!.content).toBe(seenText ?? null);
    expect(row!.metadata).toEqual(JSON.parse(JSON.stringify(rest)));
  }
}

function fixtureText(fileName: string): string {
  return readFileSync(new URL(fileName, fixturesDirectory), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { choices?: { delta?: { content?: string | null } }[] })
    .map((chunk) => chunk.choices?.[0]?.delta?.content ?? '')
    .join('');
}

describe.each(databaseKinds)('sessions on %s', (kind) => {
  let upstream: FakeUpstream;
  let database: TestDatabase;
  let parley: RunningParley;
  const clients: TestClient[] = [];

  async function connect(options: Parameters<typeof TestClient.ready>[1] = {}) {
    const opened = await TestClient.ready(parley.wsUrl, options);
    clients.push(opened.client);
    return opened;
  }

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    database = await createTestDatabase(kind);
    parley = await startParley(
      upstreamEnv(upstream, database, {
        MAX_MESSAGE_BYTES: '1000',
        WS_MAX_FRAME_BYTES: '4096',
        WS_RATE_LIMIT_BURST: '30',
        LLM_STALL_TIMEOUT_MS: '400',
      }),
    );
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await parley?.close();
    await upstream?.close();
    await database?.drop();
  });

  test('streams a reply token by token with consecutive seq, and stores what the client saw', async () => {
    upstream.enqueue(
      text(['Hello', ', ', 'wor', 'ld', '!'], { usage: { inputTokens: 12, outputTokens: 5 } }),
    );
    const { client, ready, sessionId } = await connect();
    expect(ready).toMatchObject({
      resumed: false,
      provider: 'openai-compatible',
      model: 'fake-model',
      demo: false,
      user_id: 'alice',
    });
    client.say('Say hello');
    const completed = await client.next('response.completed');

    const types = client.events.map((event) => event.type);
    expect(types).toEqual([
      'session.ready',
      'message.created',
      'response.started',
      ...Array(5).fill('response.text.delta'),
      'response.completed',
    ]);
    // Session events are numbered one by one; session.ready carries the position before them.
    const seqs = client.events.slice(1).map((event) => event.seq);
    for (let index = 1; index < seqs.length; index += 1)
      expect(seqs[index]).toBe(seqs[index - 1]! + 1);
    expect(ready.seq).toBeLessThan(seqs[0]!);
    expect(client.events.every((event) => event.session_id === sessionId)).toBe(true);
    expect(client.all('response.text.delta').map((event) => event.delta)).toEqual([
      'Hello',
      ', ',
      'wor',
      'ld',
      '!',
    ]);
    expect(completed).toMatchObject({
      text: 'Hello, world!',
      finish_reason: 'stop',
      usage: { input_tokens: 12, output_tokens: 5 },
    });

    const request = upstream.requests.at(-1)!;
    expect(request.body.messages).toContainEqual({ role: 'user', content: 'Say hello' });
    await expectStoredMatchesSeen(parley, client, sessionId);
  });

  test('runs tool calls in several steps and feeds results back to the model', async () => {
    upstream.enqueue(
      toolCalls([
        { name: 'calculate', arguments: { expression: '6*7' } },
        { name: 'get_current_time', arguments: { timezone: 'Asia/Tokyo' } },
      ]),
      text('It is 42 and late in Tokyo.'),
    );
    const { client, sessionId } = await connect();
    client.say('What is 6*7, and what time is it in Tokyo?');
    const completed = await client.next('response.completed');
    expect(completed.text).toBe('It is 42 and late in Tokyo.');

    const calls = client.all('tool.call');
    expect(calls.map((call) => call.name).sort()).toEqual(['calculate', 'get_current_time']);
    expect(calls.find((call) => call.name === 'calculate')!.arguments).toEqual({
      expression: '6*7',
    });
    const results = client.all('tool.result');
    expect(results).toHaveLength(2);
    const calculation = results.find((result) => result.name === 'calculate')!;
    expect(calculation.error).toBeUndefined();
    expect(calculation.result).toMatchObject({ result: '42' });
    expect(calculation.duration_ms).toBeGreaterThanOrEqual(0);
    const time = results.find((result) => result.name === 'get_current_time')!;
    expect(time.result).toMatchObject({ timezone: 'Asia/Tokyo' });
    // Every result comes after its call, and the final text after all results.
    for (const result of results) {
      const call = calls.find((candidate) => candidate.call_id === result.call_id)!;
      expect(result.seq).toBeGreaterThan(call.seq);
    }
    expect(completed.seq).toBeGreaterThan(Math.max(...results.map((result) => result.seq)));

    // The second model request carried both results.
    const second = upstream.requests.at(-1)!;
    const toolMessages = (second.body.messages as { role: string; content: string }[]).filter(
      (message) => message.role === 'tool',
    );
    expect(toolMessages).toHaveLength(2);
    expect(toolMessages.map((message) => message.content).join(' ')).toContain('42');
    await expectStoredMatchesSeen(parley, client, sessionId);
  });

  test('a failing tool becomes a tool.result error that the model sees, and the response goes on', async () => {
    upstream.enqueue(
      toolCalls([{ name: 'get_current_time', arguments: { timezone: 'Mars/Olympus_Mons' } }]),
      text('That time zone does not exist.'),
    );
    const { client } = await connect();
    client.say('Time on Mars?');
    await client.next('response.completed');
    const [result] = client.all('tool.result');
    expect(result!.error?.message).toMatch(/Mars\/Olympus_Mons/);
    expect(result!.result).toBeUndefined();
    const toolMessage = (
      upstream.requests.at(-1)!.body.messages as { role: string; content: string }[]
    ).find((message) => message.role === 'tool');
    expect(toolMessage!.content).toMatch(/Mars\/Olympus_Mons/);
  });

  test('cancel aborts the upstream request at once and keeps the partial text', async () => {
    const words = Array.from({ length: 200 }, (_, index) => `word${index} `);
    upstream.enqueue(text(words, { delayMs: 20 }));
    const { client, sessionId } = await connect();
    client.say('Tell me a long story');
    await client.next('response.text.delta', { count: 3 });
    const abortsBefore = upstream.aborted;
    client.send({ type: 'response.cancel' });
    const cancelled = await client.next('response.cancelled');
    await upstream.waitForAbort(abortsBefore + 1, { timeoutMs: 2_000 });
    expect(cancelled.reason).toBe('client');
    expect(cancelled.text).toBe(deltasText(client, cancelled.response_id));
    expect(cancelled.text.length).toBeGreaterThan(0);
    expect(client.all('response.text.delta').length).toBeLessThan(50);

    const rows = await storedEvents(parley, sessionId);
    const stored = rows.find((row) => row.eventType === 'response_cancelled');
    expect(stored?.content).toBe(cancelled.text);

    // Nothing to cancel any more: a clear error, the connection stays.
    client.send({ type: 'response.cancel' });
    expect((await client.next('error')).code).toBe('nothing_to_cancel');
  });

  test('a message sent while a reply streams is queued and answered next, in order', async () => {
    upstream.enqueue(text(['first ', 'answer ', 'here'], { delayMs: 40 }), text('second answer'));
    const { client } = await connect();
    client.say('one');
    await client.next('response.started');
    client.say('two');
    const second = await client.next('response.completed', { count: 2 });
    expect(second.text).toBe('second answer');
    const created = client.all('message.created');
    expect(created.map((event) => [event.text, event.queued])).toEqual([
      ['one', false],
      ['two', true],
    ]);
    const [firstStart, secondStart] = client.all('response.started');
    const firstEnd = client.all('response.completed')[0]!;
    expect(secondStart!.seq).toBeGreaterThan(firstEnd.seq);
    expect(secondStart!.message_id).toBe(created[1]!.message_id);
    expect(firstStart!.message_id).toBe(created[0]!.message_id);
    // The second request sees the first exchange, then the queued message.
    const messages = upstream.requests.at(-1)!.body.messages as {
      role: string;
      content: unknown;
    }[];
    const conversation = messages.filter((message) => message.role !== 'system');
    expect(conversation).toEqual([
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'first answer here' },
      { role: 'user', content: 'two' },
    ]);
  });

  test('upstream 500 ends in response.failed with a clear code; the session stays usable', async () => {
    upstream.enqueue(status(500), text('recovered'));
    const { client } = await connect();
    client.say('hello?');
    const failed = await client.next('response.failed');
    expect(failed.error.code).toBe('upstream_error');
    expect(failed.error.message).toMatch(/500/);
    client.say('again');
    expect((await client.next('response.completed')).text).toBe('recovered');
  });

  test('upstream 429 ends in response.failed upstream_rate_limited', async () => {
    upstream.enqueue(status(429, { headers: { 'retry-after': '0' } }));
    const { client } = await connect();
    client.say('hello?');
    expect((await client.next('response.failed')).error.code).toBe('upstream_rate_limited');
  });

  test('a connection that breaks mid-stream fails with upstream_unavailable and keeps the partial text', async () => {
    upstream.enqueue(destroy({ afterChunks: 2, chunks: ['half ', 'a ', 'story'] }));
    const { client } = await connect();
    client.say('break please');
    const failed = await client.next('response.failed');
    expect(failed.error.code).toBe('upstream_unavailable');
    expect(failed.text).toBe('half a ');
    upstream.enqueue(text('fine again'));
    client.say('again');
    expect((await client.next('response.completed')).text).toBe('fine again');
  });

  test('a stream that stalls fails with upstream_timeout, keeps the partial text and closes the request', async () => {
    const abortsBefore = upstream.aborted;
    upstream.enqueue(stall({ afterChunks: 2, chunks: ['par', 'tial', ' never'] }));
    const { client, sessionId } = await connect();
    client.say('stall please');
    const failed = await client.next('response.failed');
    expect(failed.error.code).toBe('upstream_timeout');
    expect(failed.text).toBe('partial');
    await upstream.waitForAbort(abortsBefore + 1, { timeoutMs: 2_000 });
    const rows = await storedEvents(parley, sessionId);
    expect(rows.find((row) => row.eventType === 'response_failed')?.content).toBe('partial');
  });

  test.each([
    'openai-text.chunks.txt',
    'groq-text.chunks.txt',
    'deepseek-text.chunks.txt',
    'xai-text.chunks.txt',
  ])('relays the recorded provider stream %s exactly', async (fileName) => {
    upstream.enqueue(fixture(fileName));
    const { client, sessionId } = await connect();
    client.say('replay');
    const completed = await client.next('response.completed');
    const expected = fixtureText(fileName);
    // xAI's recording is mostly reasoning (not relayed as text); the others are long answers.
    expect(expected.length).toBeGreaterThan(fileName.startsWith('xai') ? 0 : 100);
    expect(completed.text).toBe(expected);
    expect(deltasText(client, completed.response_id)).toBe(expected);
    await expectStoredMatchesSeen(parley, client, sessionId);
  });

  test.each([
    ['groq-tool-call.chunks.txt', 'weather'],
    ['mistral-incremental-tool-call.chunks.txt', undefined],
    ['deepseek-tool-call.chunks.txt', undefined],
    ['xai-tool-call.chunks.txt', undefined],
  ])(
    'handles the recorded tool call stream %s (unknown tool → error result, then an answer)',
    async (fileName, name) => {
      upstream.enqueue(fixture(fileName), text('Sorry, I cannot do that.'));
      const { client } = await connect();
      client.say('replay tools');
      const completed = await client.next('response.completed');
      expect(completed.text).toBe('Sorry, I cannot do that.');
      const [call] = client.all('tool.call');
      expect(call).toBeDefined();
      if (name) expect(call!.name).toBe(name);
      const [result] = client.all('tool.result');
      expect(result!.call_id).toBe(call!.call_id);
      expect(result!.error).toBeDefined();
    },
  );

  test('bad input gets a clear error, the connection stays, and accepted messages are kept', async () => {
    upstream.enqueue(text('ok'));
    const { client, sessionId } = await connect();
    client.say('accepted before');
    await client.next('response.completed');

    const cases: [string | Buffer, string][] = [
      ['{"type": "user.message", "text": ', 'invalid_json'],
      ['{"type":"teleport"}', 'unknown_type'],
      ['{"text":"no type"}', 'unknown_type'],
      ['{"type":"user.message","text":42}', 'invalid_frame'],
      ['{"type":"user.message","text":"   "}', 'empty_message'],
      [JSON.stringify({ type: 'user.message', text: 'x'.repeat(1_500) }), 'message_too_large'],
      ['[1,2]', 'invalid_frame'],
      [Buffer.from([1, 2, 3]), 'binary_not_supported'],
    ];
    for (const [index, [frame, code]] of cases.entries()) {
      client.socket.send(frame, { binary: Buffer.isBuffer(frame) });
      const error = await client.next('error', { count: index + 1 });
      expect(error.code, `frame ${String(frame).slice(0, 40)}`).toBe(code);
      expect(error.message.length).toBeGreaterThan(5);
    }
    expect(client.socket.readyState).toBe(client.socket.OPEN);

    // A plain text frame is a user message.
    upstream.enqueue(text('plain ok'));
    client.send('just plain text');
    expect((await client.next('message.created', { count: 2 })).text).toBe('just plain text');
    await client.next('response.completed', { count: 2 });

    const rows = await storedEvents(parley, sessionId);
    expect(
      rows.filter((row) => row.eventType === 'user_message').map((row) => row.content),
    ).toEqual(['accepted before', 'just plain text']);
  });

  test('a frame over the hard cap closes with 1009; what was accepted before is stored', async () => {
    upstream.enqueue(text('fine'));
    const { client, sessionId } = await connect();
    client.say('keep me');
    await client.next('response.completed');
    client.send('y'.repeat(10_000));
    expect((await client.closed).code).toBe(CloseCode.messageTooBig);
    const rows = await storedEvents(parley, sessionId);
    expect(rows.some((row) => row.eventType === 'user_message' && row.content === 'keep me')).toBe(
      true,
    );
  });

  test('a flood is rate limited with an error, not a crash', async () => {
    const { client } = await connect();
    for (let index = 0; index < 45; index += 1) client.send({ type: 'ping' });
    await client.next('error');
    expect(client.all('error').every((error) => error.code === 'rate_limited')).toBe(true);
    expect(client.all('pong').length).toBeGreaterThanOrEqual(29);
    expect(client.all('pong').length).toBeLessThan(45);
    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });

  test('refuses a malformed session id (4400) and another user’s session (4403)', async () => {
    const bad = await TestClient.connect(parley.wsUrl, { sessionId: 'not-a-uuid' });
    expect((await bad.closed).code).toBe(CloseCode.badRequest);
    const badUser = await TestClient.connect(parley.wsUrl, { userId: 'no spaces allowed' });
    expect((await badUser.closed).code).toBe(CloseCode.badRequest);

    const { client, sessionId } = await connect({ userId: 'alice' });
    const intruder = await TestClient.connect(parley.wsUrl, { sessionId, userId: 'mallory' });
    expect((await intruder.closed).code).toBe(CloseCode.forbidden);
    await client.close();
    // Also once the session has ended.
    const later = await TestClient.connect(parley.wsUrl, { sessionId, userId: 'mallory' });
    expect((await later.closed).code).toBe(CloseCode.forbidden);
  });

  test('disconnect ends the session with ended_at and duration; reconnecting reopens it with its history', async () => {
    upstream.enqueue(text('I will remember.'));
    const sessionId = randomUUID();
    const first = await connect({ sessionId });
    first.client.say('Remember the word avocado');
    await first.client.next('response.completed');
    const lastSeq = first.client.events.at(-1)!.seq;
    await first.client.close();

    await expect
      .poll(async () => {
        const [row] = await parley.database.db
          .select()
          .from(sessions)
          .where(eq(sessions.sessionId, sessionId));
        return row?.status;
      })
      .toBe('ended');
    const [ended] = await parley.database.db
      .select()
      .from(sessions)
      .where(eq(sessions.sessionId, sessionId));
    expect(ended!.endedAt).toBeInstanceOf(Date);
    expect(ended!.durationSeconds).toBeGreaterThan(0);
    expect(ended!.messageCount).toBe(1);

    upstream.enqueue(text('Avocado.'));
    const second = await connect({ sessionId });
    expect(second.ready.resumed).toBe(true);
    expect(second.ready.seq).toBeGreaterThan(lastSeq);
    second.client.say('Which word?');
    await second.client.next('response.completed');
    const messages = upstream.requests.at(-1)!.body.messages as {
      role: string;
      content: unknown;
    }[];
    expect(messages.filter((message) => message.role !== 'system')).toEqual([
      { role: 'user', content: 'Remember the word avocado' },
      { role: 'assistant', content: 'I will remember.' },
      { role: 'user', content: 'Which word?' },
    ]);
    const [reopened] = await parley.database.db
      .select()
      .from(sessions)
      .where(eq(sessions.sessionId, sessionId));
    expect(reopened!.status).toBe('active');
  });

  test('health and readiness', async () => {
    const health = await fetch(`${parley.httpUrl}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${parley.httpUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: kind });
  });
});

describe('restart on the same PGlite directory', () => {
  let directory: string;
  let upstream: FakeUpstream;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'parley-restart-'));
    upstream = await startFakeUpstream();
  });
  afterAll(async () => {
    await upstream.close();
    await rm(directory, { recursive: true, force: true });
  });

  test('a socket that returns while its session is ending gets the session reopened, and an answer', async () => {
    // No grace: the session starts ending the moment its only socket leaves.
    const parley = await startParley({
      LLM_PROVIDER: 'openai-compatible',
      LLM_BASE_URL: upstream.url,
      LLM_MODEL: 'fake-model',
      SESSION_END_GRACE_MS: '0',
    });
    try {
      for (let round = 0; round < 5; round += 1) {
        const first = await TestClient.ready(parley.wsUrl);
        const sessionId = first.sessionId;
        await first.client.close();
        const again = await TestClient.ready(parley.wsUrl, { sessionId });
        upstream.enqueue(text('Still here.'));
        again.client.say('are you there?');
        const end = await again.client.next('response.completed');
        expect(end.text).toBe('Still here.');
        expect(again.client.all('error')).toStrictEqual([]);
        await again.client.close();
      }
    } finally {
      await parley.close();
    }
  });

  test('history and seq survive a restart, and a second process cannot open the directory', async () => {
    const env = {
      LLM_PROVIDER: 'openai-compatible',
      LLM_BASE_URL: upstream.url,
      LLM_MODEL: 'fake-model',
      PGLITE_DIR: directory,
    };
    let parley = await startParley(env);
    upstream.enqueue(text('Noted: blue.'));
    const first = await TestClient.ready(parley.wsUrl);
    first.client.say('My favourite colour is blue');
    await first.client.next('response.completed');
    const seqBeforeRestart = Math.max(...first.client.events.map((event) => event.seq));
    await first.client.close();
    await parley.close();

    parley = await startParley(env);
    try {
      // A second process on the same directory would corrupt it: it refuses to start.
      await expect(startChildServer(env)).rejects.toThrow(/in use by another Parley process/);
      upstream.enqueue(text('Blue.'));
      const second = await TestClient.ready(parley.wsUrl, { sessionId: first.sessionId });
      expect(second.ready.resumed).toBe(true);
      second.client.say('What is my favourite colour?');
      await second.client.next('response.completed');
      expect(Math.min(...second.client.events.map((event) => event.seq))).toBeGreaterThan(
        seqBeforeRestart,
      );
      const messages = upstream.requests.at(-1)!.body.messages as {
        role: string;
        content: unknown;
      }[];
      expect(messages).toContainEqual({ role: 'user', content: 'My favourite colour is blue' });
      expect(messages).toContainEqual({ role: 'assistant', content: 'Noted: blue.' });
      await second.client.close();
    } finally {
      await parley.close();
    }
  });
});

describe('other providers on recorded streams', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
  });
  afterAll(async () => upstream.close());

  test.each([
    ['anthropic', 'ANTHROPIC_API_KEY', 'anthropic-text.chunks.txt'],
    ['groq', 'GROQ_API_KEY', 'groq-text.chunks.txt'],
  ])('%s provider relays its recorded stream', async (provider, keyVariable, fileName) => {
    const parley = await startParley({
      LLM_PROVIDER: provider,
      [keyVariable]: 'test-key',
      LLM_BASE_URL: upstream.url,
      LLM_MAX_RETRIES: '0',
    });
    try {
      upstream.enqueue(fixture(fileName));
      const { client, ready } = await TestClient.ready(parley.wsUrl);
      expect(ready.provider).toBe(provider);
      client.say('replay');
      const end = await client.responseEnd();
      expect(end.type).toBe('response.completed');
      expect(end.text.length).toBeGreaterThan(0);
      expect(deltasText(client, end.response_id)).toBe(end.text);
      await client.close();
    } finally {
      await parley.close();
    }
  });
});

describe('the offline demo model', () => {
  test('is labelled as the demo and answers from a real tool', async () => {
    const parley = await startParley({ LLM_PROVIDER: 'demo', DEMO_TOKEN_DELAY_MS: '1' });
    try {
      const { client, ready } = await TestClient.ready(parley.wsUrl);
      expect(ready).toMatchObject({ demo: true, provider: 'demo' });
      client.say('What is 12*(3+4)?');
      const completed = await client.next('response.completed');
      const [call] = client.all('tool.call');
      expect(call!.name).toBe('calculate');
      expect(client.all('tool.result')[0]!.result).toMatchObject({ result: '84' });
      expect(completed.text).toContain('84');
      expect(client.all('response.text.delta').length).toBeGreaterThan(2);
      await client.close();
    } finally {
      await parley.close();
    }
  });
});

describe('an upstream that is down', () => {
  test('fails with upstream_unavailable after the retries, and the session stays usable', async () => {
    const parley = await startParley({
      LLM_PROVIDER: 'openai-compatible',
      // Nothing listens on port 9 (discard) here: the connection is refused.
      LLM_BASE_URL: 'http://127.0.0.1:9/v1',
      LLM_MAX_RETRIES: '1',
    });
    try {
      const { client } = await TestClient.ready(parley.wsUrl);
      client.say('anyone there?');
      const failed = await client.next('response.failed', { timeoutMs: 20_000 });
      expect(failed.error.code).toBe('upstream_unavailable');
      expect(failed.error.message).toMatch(/2 attempts|could not be reached|failed/);
      client.send({ type: 'ping' });
      await client.next('pong');
      await client.close();
    } finally {
      await parley.close();
    }
  });
});

describe('heartbeats', () => {
  test('a socket that stops answering pings is dropped and its session ends', async () => {
    const parley = await startParley({ LLM_PROVIDER: 'demo', WS_PING_INTERVAL_MS: '150' });
    try {
      const { default: WebSocket } = await import('ws');
      // A client that is gone without a close (a sleeping laptop) answers no ping.
      const silent = new WebSocket(`${parley.wsUrl}/ws/session?user_id=zed`, { autoPong: false });
      const frames: string[] = [];
      silent.on('message', (data) => frames.push(data.toString()));
      await new Promise((resolve) => silent.once('open', resolve));
      const answering = await TestClient.ready(parley.wsUrl, { userId: 'yan' });
      const closed = await new Promise<number>((resolve) =>
        silent.once('close', (code) => resolve(code)),
      );
      expect(closed).toBe(1006);
      const sessionId = (JSON.parse(frames[0]!) as { session_id: string }).session_id;
      await expect
        .poll(async () => {
          const [row] = await parley.database.db
            .select()
            .from(sessions)
            .where(eq(sessions.sessionId, sessionId));
          return row?.status;
        })
        .toBe('ended');
      // A client that answers stays connected through several intervals.
      expect(answering.client.socket.readyState).toBe(answering.client.socket.OPEN);
      await answering.client.close();
    } finally {
      await parley.close();
    }
  });
});
