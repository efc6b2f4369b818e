import { expect, test } from 'vitest';
import { formatDuration, formatWhen, preview } from './format.ts';

test('durations read like a person would say them', () => {
  expect(formatDuration(0.4)).toBe('0 s');
  expect(formatDuration(42)).toBe('42 s');
  expect(formatDuration(185)).toBe('3 min');
  expect(formatDuration(3600)).toBe('1 h');
  expect(formatDuration(4800)).toBe('1 h 20 min');
});

test('dates say today and yesterday', () => {
  const now = new Date(2026, 10, 22, 15, 0);
  expect(formatWhen(new Date(2026, 10, 22, 9, 5).toISOString(), now)).toMatch(/^Today, /);
  expect(formatWhen(new Date(2026, 10, 21, 23, 59).toISOString(), now)).toMatch(/^Yesterday, /);
  expect(formatWhen(new Date(2025, 0, 3).toISOString(), now)).toMatch(/2025/);
});

test('previews are cut', () => {
  expect(preview({ expression: '1+1' })).toBe('{"expression":"1+1"}');
  expect(preview('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
});
