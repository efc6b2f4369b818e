import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { TestClient } from './support/client.ts';
import { startChildServer, type ChildServer } from './support/child-server.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/database.ts';
import { hang, json, startFakeUpstream, text, type FakeUpstream } from './support/fake-upstream.ts';

interface SessionBody {
  status: string;
  summary: string | null;
  summary_status: string | null;
  summary_attempts: number;
  ended_at: string | null;
  duration_seconds: number;
}

/**
 * `kill -9` of a real server process: nothing it accepted may be lost, and every session is
 * summarized exactly once by the next process on the same database.
 */
describe.each(databaseKinds)('crash recovery on %s', (kind) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const upstream = await startFakeUpstream();
    cleanups.push(() => upstream.close());
    const database: TestDatabase = await createTestDatabase(kind);
    cleanups.push(() => database.drop());
    const directory = await mkdtemp(path.join(tmpdir(), 'parley-crash-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const env = {
      LLM_PROVIDER: 'openai-compatible',
      LLM_BASE_URL: upstream.url,
      LLM_MODEL: 'fake-model',
      LLM_MAX_RETRIES: '0',
      DATABASE_URL: database.url,
      PGLITE_DIR: directory,
      SESSION_END_GRACE_MS: '0',
      SUMMARY_TIMEOUT_SECONDS: '5',
      SUMMARY_RETRY_DELAY_SECONDS: '0',
      JOB_POLL_INTERVAL_SECONDS: '1',
      JOB_SUPERVISE_INTERVAL_SECONDS: '1',
      INSTANCE_HEARTBEAT_MS: '300',
      INSTANCE_LEASE_MS: '1500',
    };
    const start = async () => {
      const server = await startChildServer(env);
      cleanups.push(() => server.kill());
      return server;
    };
    return { upstream, start };
  }

  async function session(server: ChildServer, sessionId: string, userId: string) {
    const response = await fetch(`${server.httpUrl}/api/sessions/${sessionId}?user_id=${userId}`);
    expect(response.status).toBe(200);
    return (await response.json()) as SessionBody;
  }

  async function waitForSummary(server: ChildServer, sessionId: string, userId: string) {
    await expect
      .poll(async () => (await session(server, sessionId, userId)).summary_status, {
        timeout: 40_000,
        interval: 200,
      })
      .toBe('done');
    return session(server, sessionId, userId);
  }

  const summaryRequestsAbout = (upstream: FakeUpstream, marker: string) =>
    upstream.requests.filter(
      (request) => request.body.stream !== true && JSON.stringify(request.body).includes(marker),
    );

  test('a session whose summary was running when the server was killed is summarized after the restart', async () => {
    const { upstream, start } = await setup();
    let server = await start();
    const marker = `crash-during-summary-${kind}`;
    upstream.enqueueGenerate(hang());
    const { client, sessionId } = await TestClient.ready(server.wsUrl, { userId: 'erin' });
    client.say(marker);
    await client.next('response.completed');
    await client.close();
    // The summary job is running (its model call hangs) when the process dies.
    await expect
      .poll(() => summaryRequestsAbout(upstream, marker).length, { timeout: 15_000 })
      .toBe(1);
    expect(await server.kill('SIGKILL')).toBe('SIGKILL');

    upstream.enqueueGenerate(
      json({ summary: 'Summarized after the crash.', title: 'Crash', topics: [], tools_used: [] }),
    );
    server = await start();
    const summarized = await waitForSummary(server, sessionId, 'erin');
    expect(summarized).toMatchObject({ status: 'ended', summary: 'Summarized after the crash.' });
    expect(summaryRequestsAbout(upstream, marker)).toHaveLength(2);
  });

  test('a session still connected when the server was killed is ended and summarized exactly once after the restart', async () => {
    const { upstream, start } = await setup();
    let server = await start();
    const marker = `crash-while-connected-${kind}`;
    const { client, sessionId } = await TestClient.ready(server.wsUrl, { userId: 'frank' });
    client.say(marker);
    const completed = await client.next('response.completed');
    const lastSeq = client.events.at(-1)!.seq;
    await server.kill('SIGKILL');
    expect((await client.closed).code).toBe(1006);

    upstream.enqueueGenerate(
      json({ summary: 'Ended by the sweep.', title: 'Sweep', topics: [], tools_used: [] }),
    );
    server = await start();
    const summarized = await waitForSummary(server, sessionId, 'frank');
    expect(summarized).toMatchObject({
      status: 'ended',
      summary: 'Ended by the sweep.',
      summary_attempts: 1,
    });
    expect(summarized.ended_at).not.toBeNull();
    expect(summaryRequestsAbout(upstream, marker)).toHaveLength(1);

    // Nothing accepted before the crash was lost, and the event log ends with the sweep's
    // session_ended above every seq sent before the crash.
    const events = (await (
      await fetch(`${server.httpUrl}/api/sessions/${sessionId}/events?user_id=frank&limit=1000`)
    ).json()) as { events: { seq: number; event_type: string; content: string | null }[] };
    const types = events.events.map((event) => event.event_type);
    expect(types).toContain('user_message');
    expect(events.events.find((event) => event.event_type === 'assistant_message')?.content).toBe(
      completed.text,
    );
    expect(types.at(-1)).toBe('session_ended');
    expect(events.events.at(-1)!.seq).toBeGreaterThan(lastSeq);

    // Reconnecting continues above every seq used before the crash.
    upstream.enqueue(text('after the restart'));
    const again = await TestClient.ready(server.wsUrl, { userId: 'frank', sessionId });
    again.client.say('still there?');
    const created = await again.client.next('message.created');
    expect(created.seq).toBeGreaterThan(events.events.at(-1)!.seq);
    await again.client.next('response.completed');
    await again.client.close();
    // A further sweep (several heartbeats later) does not summarize it again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(summaryRequestsAbout(upstream, marker).length).toBeLessThanOrEqual(2);
  });

  test('SIGTERM lets the reply in flight finish, ends the session and writes everything before exiting', async () => {
    const { upstream, start } = await setup();
    let server = await start();
    const words = Array.from({ length: 40 }, (_, index) => `w${index} `);
    upstream.enqueue(text(words, { delayMs: 25 }));
    const { client, sessionId } = await TestClient.ready(server.wsUrl, { userId: 'gina' });
    client.say('a reply that is still streaming at SIGTERM');
    await client.next('response.text.delta', { count: 3 });
    server.process.kill('SIGTERM');
    const completed = await client.next('response.completed');
    expect(completed.text).toBe(words.join(''));
    expect((await client.closed).code).toBe(1001);
    expect(await server.exited).toBe(0);

    server = await start();
    const stored = await session(server, sessionId, 'gina');
    expect(stored.status).toBe('ended');
    const events = (await (
      await fetch(`${server.httpUrl}/api/sessions/${sessionId}/events?user_id=gina`)
    ).json()) as { events: { event_type: string; content: string | null }[] };
    expect(events.events.find((event) => event.event_type === 'assistant_message')?.content).toBe(
      completed.text,
    );
    await waitForSummary(server, sessionId, 'gina');
  });
});
