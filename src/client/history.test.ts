import { afterAll, beforeAll, expect, test } from 'vitest';
import { HistoryError, ParleyClient, ParleyHistory, type ServerEvent } from './index.ts';
import { storedEventTypes } from '../protocol/index.ts';
import { startParley, type RunningParley } from '../../test/support/parley.ts';

let parley: RunningParley;
beforeAll(async () => {
  parley = await startParley({ LLM_PROVIDER: 'demo', DEMO_TOKEN_DELAY_MS: '1' });
});
afterAll(async () => parley.close());

/** Runs one exchange and returns every event the client saw. */
async function converse(
  userId: string,
  text: string,
): Promise<{ client: ParleyClient; events: ServerEvent[] }> {
  const client = new ParleyClient({ url: parley.wsUrl, userId }).connect();
  const events: ServerEvent[] = [];
  client.onEvent((event) => events.push(event));
  await client.next('session.ready');
  client.send(text);
  await client.next('response.completed');
  return { client, events };
}

test('lists sessions and rebuilds stored events as the wire events the client saw', async () => {
  const { client, events } = await converse('history-user', 'what is 12*(3+4)?');
  const history = new ParleyHistory({ url: parley.httpUrl, userId: 'history-user' });
  const page = await history.listSessions();
  expect(page.sessions.map((session) => session.session_id)).toEqual([client.sessionId]);
  expect(page.sessions[0]).toMatchObject({ status: 'active', title: null });
  expect(await history.getSession(client.sessionId!)).toMatchObject({
    session_id: client.sessionId,
  });

  const stored = await history.loadEvents(client.sessionId!);
  const live = events.filter((event) => event.type in storedEventTypes);
  expect(stored).toEqual(live);
  expect(stored.map((event) => event.type)).toEqual([
    'message.created',
    'response.started',
    'tool.call',
    'tool.result',
    'response.completed',
  ]);

  // A client that starts from the stored history gets only what came after it.
  client.send('hello');
  const completed = await client.next('response.completed');
  const resumed = new ParleyClient({
    url: parley.wsUrl,
    userId: 'history-user',
    sessionId: client.sessionId!,
    afterSeq: stored.at(-1)!.seq,
  });
  const replayed: ServerEvent[] = [];
  resumed.onEvent((event) => replayed.push(event));
  resumed.connect();
  await resumed.next('response.completed');
  expect(replayed[0]).toMatchObject({ type: 'session.ready', resumed: true });
  expect(replayed.find((event) => event.type === 'message.created')).toMatchObject({
    text: 'hello',
  });
  expect(replayed.some((event) => event.type === 'tool.call')).toBe(false);
  expect(replayed.at(-1)).toMatchObject({ seq: completed.seq, text: completed.text });
  resumed.close();
  client.close();
});

test("another user's session is a 404, and the model is described", async () => {
  const { client } = await converse('owner-2', 'hello');
  const stranger = new ParleyHistory({ url: parley.httpUrl, userId: 'stranger' });
  const error = await stranger.loadEvents(client.sessionId!).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(HistoryError);
  expect((error as HistoryError).status).toBe(404);
  expect(await stranger.modelInfo()).toEqual({
    provider: 'demo',
    model: 'parley-demo-1',
    demo: true,
  });
  client.close();
});

test('reconnectNow skips the backoff', async () => {
  const client = new ParleyClient({
    url: parley.wsUrl,
    userId: 'impatient',
    reconnectDelayMs: 60_000,
  }).connect();
  await client.next('session.ready');
  for (const socket of parley.app.websocketServer.clients) socket.terminate();
  await new Promise<void>((resolve) =>
    client.onState((state) => state === 'reconnecting' && resolve()),
  );
  const started = performance.now();
  client.reconnectNow();
  await client.next('session.ready');
  expect(performance.now() - started).toBeLessThan(5_000);
  client.close();
});
