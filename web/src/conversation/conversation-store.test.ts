import { afterAll, beforeAll, expect, test } from 'vitest';
import { ParleyHistory } from '../../../src/client/index.ts';
import { startParley, type RunningParley } from '../../../test/support/parley.ts';
import { ConversationStore, type ConversationSnapshot } from './conversation-store.ts';

let parley: RunningParley;
beforeAll(async () => {
  parley = await startParley({ LLM_PROVIDER: 'demo', DEMO_TOKEN_DELAY_MS: '5' });
});
afterAll(async () => parley.close());

function open(userId: string, sessionId?: string) {
  const started: string[] = [];
  const store = new ConversationStore({
    url: parley.httpUrl,
    userId,
    history: new ParleyHistory({ url: parley.httpUrl, userId }),
    ...(sessionId !== undefined ? { sessionId } : {}),
    onSessionStarted: (id) => started.push(id),
    scheduleFrame: (callback) => {
      callback();
      return () => {};
    },
  });
  /** Resolves with the first published snapshot that passes `check`. */
  const until = (check: (snapshot: ConversationSnapshot) => boolean) =>
    new Promise<ConversationSnapshot>((resolve) => {
      if (check(store.getSnapshot())) return resolve(store.getSnapshot());
      const stop = store.subscribe(() => {
        if (!check(store.getSnapshot())) return;
        stop();
        resolve(store.getSnapshot());
      });
    });
  return { store, started, until };
}

const statuses = (snapshot: ConversationSnapshot) =>
  snapshot.conversation.items.map((item) => (item.kind === 'user' ? `user:${item.delivery}` : `reply:${item.status}`));

test('a new conversation connects on its first message; a second one queues; Stop ends the reply', async () => {
  const { store, started, until } = open('store-user');
  expect(store.getSnapshot().connection).toBe('idle');
  store.send('please give me a long answer');
  expect(statuses(store.getSnapshot())).toEqual(['user:sending']);
  await until((snapshot) => snapshot.streaming && (snapshot.conversation.items[1] as { text?: string })?.text !== '');
  expect(started).toHaveLength(1);
  expect(store.getSnapshot()).toMatchObject({ sessionId: started[0], connection: 'connected', model: { demo: true } });
  store.send('what is 12*(3+4)?');
  await until((snapshot) => statuses(snapshot).includes('user:queued'));
  expect(store.cancel()).toBe(true);
  const done = await until((snapshot) => statuses(snapshot).at(-1) === 'reply:completed');
  expect(statuses(done)).toEqual(['user:delivered', 'reply:cancelled', 'user:delivered', 'reply:completed']);
  const last = done.conversation.items.at(-1)!;
  expect(last.kind === 'assistant' && last.parts[0]?.kind === 'tool' && last.parts[0].call.name).toBe('calculate');
  store.dispose();
});

test('an ended conversation opens from history without connecting, and goes on when the user writes', async () => {
  const first = open('store-reader');
  first.store.send('hello');
  await first.until((snapshot) => statuses(snapshot).at(-1) === 'reply:completed');
  const sessionId = first.store.getSnapshot().sessionId!;
  first.store.dispose();
  await expect.poll(async () => (await new ParleyHistory({ url: parley.httpUrl, userId: 'store-reader' }).getSession(sessionId)).status).toBe('ended');

  const again = open('store-reader', sessionId);
  await again.store.load();
  await again.until((snapshot) => !snapshot.loading);
  expect(statuses(again.store.getSnapshot())).toEqual(['user:delivered', 'reply:completed']);
  expect(again.store.getSnapshot().connection).toBe('idle');
  again.store.send('what is 2+2?');
  const done = await again.until((snapshot) => statuses(snapshot).length === 4 && statuses(snapshot)[3] === 'reply:completed');
  // Only what came after the loaded history arrived: nothing twice.
  expect(done.conversation.items.map((item) => (item.kind === 'user' ? item.text : item.text))).toEqual([
    'hello',
    expect.stringContaining('offline demo model'),
    'what is 2+2?',
    '2+2 = 4.',
  ]);
  expect(again.started).toEqual([]);
  again.store.dispose();
});

test("another user's conversation is refused", async () => {
  const owner = open('store-owner');
  owner.store.send('hello');
  await owner.until((snapshot) => statuses(snapshot).at(-1) === 'reply:completed');
  const stranger = open('store-stranger', owner.store.getSnapshot().sessionId);
  await stranger.store.load();
  expect(stranger.store.getSnapshot().problem).toBe('No such conversation for this user name.');
  owner.store.dispose();
  stranger.store.dispose();
});
