import { describe, expect, test } from 'vitest';
import { ReplayBuffer } from './replay-buffer.ts';

describe('ReplayBuffer', () => {
  test('keeps the newest frames within its count and tells whether a resume point is covered', () => {
    const buffer = new ReplayBuffer({ maxFrames: 3, maxBytes: 1_000 });
    for (let seq = 1; seq <= 5; seq += 1) buffer.push({ seq, frame: `f${seq}` });
    expect(buffer.since(0).map((entry) => entry.seq)).toEqual([3, 4, 5]);
    expect(buffer.covers(2)).toBe(true);
    expect(buffer.covers(1)).toBe(false);
    expect(buffer.since(3).map((entry) => entry.seq)).toEqual([4, 5]);
  });

  test('evicts by bytes too', () => {
    const buffer = new ReplayBuffer({ maxFrames: 100, maxBytes: 10 });
    buffer.push({ seq: 1, frame: 'aaaaaa' });
    buffer.push({ seq: 2, frame: 'bbbbbb' });
    expect(buffer.since(0).map((entry) => entry.seq)).toEqual([2]);
    expect(buffer.bytes).toBe(6);
    expect(buffer.covers(1)).toBe(true);
    expect(buffer.covers(0)).toBe(false);
  });

  test('grows as events arrive and keeps their order across evictions and growth', () => {
    const buffer = new ReplayBuffer({ maxFrames: 100, maxBytes: 60 });
    for (let seq = 1; seq <= 250; seq += 1)
      buffer.push({ seq, frame: seq % 7 === 0 ? 'xxxxxxxxxx' : 'x' });
    const seqs = buffer.since(0).map((entry) => entry.seq);
    expect(seqs.at(-1)).toBe(250);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.length).toBeLessThanOrEqual(100);
    expect(buffer.bytes).toBeLessThanOrEqual(60);
    expect(buffer.covers(seqs[0]! - 1)).toBe(true);
    expect(buffer.covers(seqs[0]! - 2)).toBe(false);
    const wide = new ReplayBuffer({ maxFrames: 40, maxBytes: 1_000 });
    for (let seq = 1; seq <= 100; seq += 1) wide.push({ seq, frame: 'y' });
    expect(wide.since(0).map((entry) => entry.seq)).toEqual(
      Array.from({ length: 40 }, (_, index) => 61 + index),
    );
  });
});
