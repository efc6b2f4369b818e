import { describe, expect, test } from 'vitest';
import { parseInbound, RateLimiter } from './inbound.ts';

describe('parseInbound', () => {
  test.each([
    [
      '{"type":"user.message","text":"hi"}',
      { ok: true, frame: { type: 'user.message', text: 'hi' } },
    ],
    ['{"type":"ping"}', { ok: true, frame: { type: 'ping' } }],
    ['hello there', { ok: true, frame: { type: 'user.message', text: 'hello there' } }],
  ])('accepts %s', (input, expected) => {
    expect(parseInbound(input, false)).toEqual(expected);
  });

  test.each([
    ['{"type":', 'invalid_json'],
    ['{"type":"nope"}', 'unknown_type'],
    ['{"type":"user.message"}', 'invalid_frame'],
    ['"just a string"', 'invalid_frame'],
    ['null', 'user_message'],
  ])('classifies %s', (input, code) => {
    const result = parseInbound(input, false);
    if (code === 'user_message')
      expect(result).toEqual({ ok: true, frame: { type: 'user.message', text: input } });
    else expect(result.ok ? undefined : result.error.code).toBe(code);
  });

  test('refuses binary frames', () => {
    const result = parseInbound(Buffer.from('{"type":"ping"}'), true);
    expect(result.ok ? undefined : result.error.code).toBe('binary_not_supported');
  });
});

describe('RateLimiter', () => {
  test('allows a burst, then refuses until refilled', async () => {
    const limiter = new RateLimiter({ perSecond: 20, burst: 3 });
    expect([limiter.tryTake(), limiter.tryTake(), limiter.tryTake(), limiter.tryTake()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(limiter.tryTake()).toBe(true);
  });
});
