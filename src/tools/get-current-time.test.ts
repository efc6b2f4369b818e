import { describe, expect, it } from 'vitest';
import { describeInstant, getCurrentTime, type TimeDescription } from './get-current-time.ts';
import { ToolError, type ToolContext } from './types.ts';

const context = {} as ToolContext;

describe('describeInstant', () => {
  const date = new Date('2026-11-22T13:03:07.250Z');

  it('gives wall-clock time, offset and instant in a winter zone', () => {
    expect(describeInstant({ date, timezone: 'Europe/Paris' })).toEqual({
      timezone: 'Europe/Paris',
      iso: '2026-11-22T14:03:07+01:00',
      local: 'Sunday, 22 November 2026, 14:03:07',
      utc_offset: '+01:00',
      unix_ms: date.getTime(),
    });
  });

  it('follows daylight saving time', () => {
    const summer = describeInstant({
      date: new Date('2026-07-01T12:00:00Z'),
      timezone: 'Europe/Paris',
    });
    expect(summer.utc_offset).toBe('+02:00');
    expect(summer.iso).toBe('2026-07-01T14:00:00+02:00');
  });

  it('handles negative and non-whole-hour offsets and date changes', () => {
    const kathmandu = describeInstant({ date, timezone: 'Asia/Kathmandu' });
    expect(kathmandu.utc_offset).toBe('+05:45');
    expect(kathmandu.local).toBe('Sunday, 22 November 2026, 18:48:07');

    const newYork = describeInstant({
      date: new Date('2026-01-01T03:30:00Z'),
      timezone: 'America/New_York',
    });
    expect(newYork.utc_offset).toBe('-05:00');
    expect(newYork.local).toBe('Wednesday, 31 December 2025, 22:30:00');

    const stJohns = describeInstant({ date, timezone: 'America/St_Johns' });
    expect(stJohns.utc_offset).toBe('-03:30');
  });

  it('reports UTC as +00:00 and canonicalises the zone name', () => {
    const utc = describeInstant({ date, timezone: 'utc' });
    expect(utc.timezone).toBe('UTC');
    expect(utc.utc_offset).toBe('+00:00');
    expect(utc.iso).toBe('2026-11-22T13:03:07+00:00');
    expect(describeInstant({ date, timezone: 'europe/paris' }).timezone).toBe('Europe/Paris');
  });

  it('names an unknown zone in its error', () => {
    expect(() => describeInstant({ date, timezone: 'Mars/Base' })).toThrow(ToolError);
    expect(() => describeInstant({ date, timezone: 'Mars/Base' })).toThrow(
      "Unknown time zone 'Mars/Base'. Use an IANA name such as 'Europe/Paris'.",
    );
  });
});

describe('get_current_time', () => {
  it('defaults to UTC and reports the current instant', async () => {
    const before = Date.now();
    const result = (await getCurrentTime.execute(
      getCurrentTime.inputSchema.parse({}),
      context,
    )) as TimeDescription;
    const after = Date.now();
    expect(result.timezone).toBe('UTC');
    expect(result.utc_offset).toBe('+00:00');
    expect(result.unix_ms).toBeGreaterThanOrEqual(before);
    expect(result.unix_ms).toBeLessThanOrEqual(after);
    expect(result.iso).toBe(new Date(result.unix_ms).toISOString().slice(0, 19) + '+00:00');
  });

  it('rejects an unknown zone with a ToolError', async () => {
    await expect(getCurrentTime.execute({ timezone: 'Nowhere/City' }, context)).rejects.toThrow(
      /Unknown time zone 'Nowhere\/City'/,
    );
  });

  it('validates its input', () => {
    expect(getCurrentTime.inputSchema.safeParse({ timezone: '' }).success).toBe(false);
    expect(getCurrentTime.inputSchema.safeParse({ timezone: 'Europe/Paris' }).success).toBe(true);
  });
});
