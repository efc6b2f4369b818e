import { describe, expect, test } from 'vitest';
import { SeqCounter } from './seq-counter.ts';

describe('SeqCounter', () => {
  test('hands out consecutive numbers across blocks, reserving the next block ahead', async () => {
    let reserved = 4;
    const reservations: number[] = [];
    const counter = new SeqCounter({
      first: { start: 1, end: 4 },
      blockSize: 4,
      reserve: async (size) => {
        reservations.push(size);
        reserved += size;
        return { start: reserved - size + 1, end: reserved };
      },
      onError: () => {},
    });
    const taken: number[] = [];
    for (let index = 0; index < 12; index += 1) {
      let seq = counter.take();
      if (seq === undefined) {
        await counter.available();
        seq = counter.take();
      }
      taken.push(seq!);
      await Promise.resolve();
    }
    expect(taken).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(reservations.length).toBeGreaterThanOrEqual(2);
  });

  test('returns undefined while the next block is not reserved yet, never a repeat', async () => {
    let release!: () => void;
    const counter = new SeqCounter({
      first: { start: 10, end: 10 },
      blockSize: 2,
      reserve: () =>
        new Promise((resolve) => {
          release = () => resolve({ start: 50, end: 51 });
        }),
      onError: () => {},
    });
    expect(counter.take()).toBe(10);
    expect(counter.take()).toBeUndefined();
    const ready = counter.available();
    release();
    await ready;
    expect(counter.take()).toBe(50);
    expect(counter.last).toBe(50);
  });
});
