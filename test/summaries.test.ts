import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { sessionEvents, sessions } from '../src/db/schema.ts';
import { summarizeSession } from '../src/jobs/summarize-session.ts';
import { TestClient } from './support/client.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/database.ts';
import { json, startFakeUpstream, status, type FakeUpstream } from './support/fake-upstream.ts';
import { startParley, type RunningParley } from './support/parley.ts';

describe.each(databaseKinds)('session summaries on %s', (kind) => {
  let upstream: FakeUpstream;
  let database: TestDatabase;
  let parley: RunningParley;
  const clients: TestClient[] = [];

  const row = async (sessionId: string) => {
    const [found] = await parley.database.db
      .select()
      .from(sessions)
      .where(eq(sessions.sessionId, sessionId));
    return found;
  };
  const waitForSummary = async (sessionId: string, expected: 'done' | 'failed' = 'done') => {
    await expect
      .poll(async () => (await row(sessionId))?.summaryStatus, { timeout: 15_000, interval: 50 })
      .toBe(expected);
    return (await row(sessionId))!;
  };
  const generateRequests = () =>
    upstream.requests.filter((request) => request.body.stream !== true);

  async function chat(text_: string, options: { userId?: string; sessionId?: string } = {}) {
    const opened = await TestClient.ready(parley.wsUrl, options);
    clients.push(opened.client);
    opened.client.say(text_);
    await opened.client.next('response.completed');
    return opened;
  }

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    database = await createTestDatabase(kind);
    parley = await startParley({
      LLM_PROVIDER: 'openai-compatible',
      LLM_BASE_URL: upstream.url,
      LLM_MODEL: 'fake-model',
      LLM_MAX_RETRIES: '0',
      DATABASE_URL: database.url,
      SUMMARY_RETRY_LIMIT: '2',
      SUMMARY_RETRY_DELAY_SECONDS: '0',
      SUMMARY_INPUT_TOKENS: '1500',
      JOB_POLL_INTERVAL_SECONDS: '1',
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await parley?.close();
    await upstream?.close();
    await database?.drop();
  });

  test('ending a session queues its summary in the same transaction; the summary lands on the row and reaches the user’s other tab', async () => {
    upstream.enqueueGenerate(
      json({
        summary: 'The user asked about Lisbon trams.',
        title: 'Lisbon trams',
        topics: ['Lisbon', 'trams'],
        tools_used: ['made_up'],
      }),
    );
    // Another tab of the same user, on another session, stays open.
    const otherTab = await TestClient.ready(parley.wsUrl, { userId: 'carol' });
    clients.push(otherTab.client);
    const first = await chat('Which tram goes to Belém?', { userId: 'carol' });
    await first.client.close();

    await expect.poll(async () => (await row(first.sessionId))?.status).toBe('ended');
    const ended = await row(first.sessionId);
    // The job id was written in the transaction that ended the session.
    expect(ended!.summaryJobId).toBeTruthy();
    const summarized = await waitForSummary(first.sessionId);
    expect(summarized).toMatchObject({
      summary: 'The user asked about Lisbon trams.',
      title: 'Lisbon trams',
      topics: ['Lisbon', 'trams'],
      // What was called comes from the event log, not from the model.
      toolsUsed: [],
      summaryStatus: 'done',
      summaryError: null,
      summaryAttempts: 1,
      summaryModel: 'fake-model',
    });
    expect(summarized.summarizedAt).toBeInstanceOf(Date);
    expect(summarized.durationSeconds).toBeGreaterThan(0);

    const pushed = await otherTab.client.next('session.summary');
    expect(pushed).toMatchObject({
      session_id: otherTab.sessionId,
      summarized_session_id: first.sessionId,
      summary_status: 'done',
      title: 'Lisbon trams',
    });
    // The model was given the transcript.
    const prompt = JSON.stringify(generateRequests().at(-1)!.body.messages);
    expect(prompt).toContain('Which tram goes to Belém?');
    expect(prompt).toContain(upstreamReplyText);
  });

  test('a failing summary is retried, then recorded as failed with its error; a later success overwrites it', async () => {
    upstream.enqueueGenerate(status(500), status(500), status(500));
    const opened = await chat('This summary will fail');
    await opened.client.close();
    const failed = await waitForSummary(opened.sessionId, 'failed');
    expect(failed.summaryAttempts).toBe(3);
    expect(failed.summaryError).toMatch(/500/);
    expect(failed.summary).toBeNull();

    upstream.enqueueGenerate(
      json({ summary: 'Recovered.', title: 'Second try', topics: [], tools_used: [] }),
    );
    const { jobId } = await parley.jobs.requestSummary(opened.sessionId);
    expect(jobId).toBeTruthy();
    const done = await waitForSummary(opened.sessionId);
    expect(done).toMatchObject({
      summary: 'Recovered.',
      summaryError: null,
      summaryStatus: 'done',
      summaryAttempts: 1,
    });
  });

  test('two sessions ending at once are both summarized, each once', async () => {
    const before = generateRequests().length;
    const [a, b] = await Promise.all([chat('first of two'), chat('second of two')]);
    await Promise.all([a.client.close(), b.client.close()]);
    await waitForSummary(a.sessionId);
    await waitForSummary(b.sessionId);
    expect(generateRequests().length - before).toBe(2);
  });

  test('an empty session gets a clear summary without calling the model', async () => {
    const before = generateRequests().length;
    const opened = await TestClient.ready(parley.wsUrl);
    await opened.client.close();
    const summarized = await waitForSummary(opened.sessionId);
    expect(summarized).toMatchObject({
      summary: 'No messages were exchanged in this session.',
      summaryModel: null,
      summaryStatus: 'done',
    });
    expect(generateRequests().length).toBe(before);
  });

  test('a session with 1,000 events is summarized from a transcript trimmed to the budget', async () => {
    const sessionId = randomUUID();
    await parley.database.db
      .insert(sessions)
      .values({ sessionId, userId: 'dave', status: 'ended', endedAt: new Date() });
    await parley.database.db.insert(sessionEvents).values(
      Array.from({ length: 1_000 }, (_, index) => ({
        sessionId,
        seq: index + 1,
        eventType: index % 2 === 0 ? 'user_message' : 'assistant_message',
        content: `${index % 2 === 0 ? 'question' : 'answer'} number ${index} ${'words '.repeat(20)}`,
      })),
    );
    const before = generateRequests().length;
    await parley.jobs.requestSummary(sessionId);
    await waitForSummary(sessionId);
    const requests = generateRequests().slice(before);
    expect(requests).toHaveLength(1);
    const prompt = JSON.stringify(requests[0]!.body.messages);
    // 1,500 estimated tokens ≈ 6,000 characters of transcript, plus the instructions.
    expect(prompt.length).toBeLessThan(8_000);
    expect(prompt).toContain('question number 0 ');
    expect(prompt).toContain('answer number 999 ');
    expect(prompt).toMatch(/lines omitted/);
  });

  test('summarizing twice writes the same row, and a reopened session is summarized again when it ends', async () => {
    const opened = await chat('Summarize me twice');
    await opened.client.close();
    await waitForSummary(opened.sessionId);
    const signal = new AbortController().signal;
    const options = {
      db: parley.database.db,
      chatModel: parley.chatModel,
      sessionId: opened.sessionId,
      inputTokens: 1500,
      attempt: 1,
      signal,
    };
    await summarizeSession(options);
    const once = await row(opened.sessionId);
    await summarizeSession(options);
    const twice = await row(opened.sessionId);
    expect({ ...twice, summarizedAt: null, updatedAt: null }).toEqual({
      ...once,
      summarizedAt: null,
      updatedAt: null,
    });
    const counted = (await parley.database.db.execute(
      sql`select count(*)::int as count from sessions where session_id = ${opened.sessionId}`,
    )) as unknown as { rows: [{ count: number }] };
    const [{ count }] = counted.rows;
    expect(count).toBe(1);

    upstream.enqueueGenerate(
      json({ summary: 'Now with a second part.', title: 'Reopened', topics: [], tools_used: [] }),
    );
    const again = await chat('A second part', { sessionId: opened.sessionId });
    expect((await row(opened.sessionId))!.status).toBe('active');
    await again.client.close();
    await expect
      .poll(async () => (await row(opened.sessionId))?.summary, { timeout: 15_000 })
      .toBe('Now with a second part.');
  });
});

/** The fake upstream's default chat reply, which the summary transcript must contain. */
const upstreamReplyText = 'Hello from the fake upstream.';
