import { afterAll, beforeAll, expect, test } from 'vitest';
import { ParleyClient, ResponseTexts } from './index.ts';
import { startParley, type RunningParley } from '../../test/support/parley.ts';

let parley: RunningParley;
beforeAll(async () => {
  parley = await startParley({
    LLM_PROVIDER: 'demo',
    DEMO_TOKEN_DELAY_MS: '5',
    SESSION_END_GRACE_MS: '5000',
  });
});
afterAll(async () => parley.close());

test('streams a reply, reconnects after a drop with after_seq, and rebuilds the exact text', async () => {
  const client = new ParleyClient({
    url: parley.wsUrl,
    userId: 'client-test',
    reconnectDelayMs: 20,
  }).connect();
  const texts = new ResponseTexts();
  const states: string[] = [];
  client.onState((state) => states.push(state));
  client.onEvent((event) => texts.apply(event));
  await client.next('session.ready');
  expect(client.sessionId).toBeDefined();
  client.send('please give me a long answer about anything');
  await client.next('response.text.delta');
  // Drop the connection from the server side, as a network failure would.
  for (const socket of parley.app.websocketServer.clients) socket.terminate();
  const completed = await client.next('response.completed');
  expect(texts.get(completed.response_id)!.text).toBe(completed.text);
  expect(states).toContain('reconnecting');
  expect(client.state).toBe('open');
  client.close();
  expect(client.state).toBe('closed');
});

test('stops for good when the session belongs to someone else', async () => {
  const owner = new ParleyClient({ url: parley.wsUrl, userId: 'owner' }).connect();
  const ready = await owner.next('session.ready');
  const intruder = new ParleyClient({
    url: parley.wsUrl,
    userId: 'intruder',
    sessionId: ready.session_id,
  }).connect();
  await new Promise<void>((resolve) =>
    intruder.onState((state) => state === 'closed' && resolve()),
  );
  expect(intruder.closeInfo?.code).toBe(4403);
  owner.close();
});
