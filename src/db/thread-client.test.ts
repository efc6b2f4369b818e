import { Worker } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { ThreadClient } from './thread-client.ts';

type Call =
  | { op: 'echo'; value: unknown }
  | { op: 'fail'; code: string }
  | { op: 'hang' }
  | { op: 'exit'; code: number };

function start(onLost?: (error: Error) => void) {
  const thread = new Worker(new URL('../../test/support/echo-thread.ts', import.meta.url));
  return new ThreadClient<Call>(thread, 'echo', onLost);
}

describe('ThreadClient', () => {
  test('answers each request; an error keeps its fields', async () => {
    const client = start();
    try {
      const answers = await Promise.all(
        [1, 2, 3].map((value) => client.call({ op: 'echo', value })),
      );
      expect(answers).toStrictEqual([1, 2, 3]);
      await expect(client.call({ op: 'fail', code: '23503' })).rejects.toMatchObject({
        message: 'asked to fail',
        code: '23503',
      });
    } finally {
      await client.terminate();
    }
  });

  test('a thread that dies fails what waits and what comes after, and is reported once', async () => {
    const lost: Error[] = [];
    const client = start((error) => lost.push(error));
    try {
      const waiting = client.call({ op: 'hang' });
      void client.call({ op: 'exit', code: 3 }).catch(() => {});
      await expect(waiting).rejects.toThrow('the echo thread exited (code 3)');
      await expect(client.call({ op: 'echo', value: 1 })).rejects.toThrow('exited (code 3)');
      expect(lost.map((error) => error.message)).toStrictEqual(['the echo thread exited (code 3)']);
    } finally {
      await client.terminate();
    }
  });

  test('a thread stopped by terminate() is not reported as lost', async () => {
    const lost: Error[] = [];
    const client = start((error) => lost.push(error));
    await client.call({ op: 'echo', value: 'warm' });
    await client.terminate({ op: 'hang' }, 50);
    expect(lost).toStrictEqual([]);
  });
});
