import { describe, expect, test } from 'vitest';
import { orderedSender, orderedWrites, type WriteFailure } from './ordered-writes.ts';

describe('ordered writes', () => {
  test('run one at a time, in the order sent', async () => {
    const log: string[] = [];
    const write = orderedWrites(async (sql) => {
      log.push(`start ${sql}`);
      await new Promise((resolve) => setTimeout(resolve, sql === 'a' ? 30 : 1));
      log.push(`end ${sql}`);
    });
    await Promise.all(['a', 'b', 'c'].map((sql) => write({ sql, params: [], generation: 0 })));
    expect(log).toStrictEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  test('after a failure the writes sent before it was known are skipped; the retries run', async () => {
    const ran: string[] = [];
    const write = orderedWrites(async (sql) => {
      ran.push(sql);
      if (sql === 'bad') throw Object.assign(new Error('division by zero'), { code: '22012' });
    });
    const send = orderedSender((request) => write(request));
    const results = await Promise.allSettled([send('ok', []), send('bad', []), send('behind', [])]);
    expect(results.map((result) => result.status)).toStrictEqual([
      'fulfilled',
      'rejected',
      'rejected',
    ]);
    const [, failed, skipped] = results as PromiseRejectedResult[];
    expect(failed!.reason).toMatchObject({
      message: 'division by zero',
      code: '22012',
      skipped: false,
      generation: 1,
    } satisfies Partial<WriteFailure> & { code: string });
    expect(skipped!.reason).toMatchObject({ skipped: true, generation: 1 });
    expect(ran).toStrictEqual(['ok', 'bad']);

    // The sender learned the new generation: what it sends now runs.
    await send('retry', []);
    expect(ran).toStrictEqual(['ok', 'bad', 'retry']);
  });
});
