import { z } from 'zod';
import { defineTool, ToolError } from './types.ts';

const inputSchema = z.object({
  timezone: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .describe("IANA time zone such as 'Europe/Paris' or 'America/New_York'; defaults to UTC."),
});

export interface TimeDescription {
  /** The canonical name Intl resolved the zone to, e.g. 'Europe/Paris' for 'europe/paris'. */
  timezone: string;
  /** Local wall-clock time with its offset (RFC 3339), e.g. '2026-11-22T14:03:07+01:00'. */
  iso: string;
  /** Spoken-friendly form, e.g. 'Sunday, 22 November 2026, 14:03:07'. */
  local: string;
  utc_offset: string;
  unix_ms: number;
}

const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const months = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Describes one instant in one IANA time zone. Throws a ToolError naming the zone when Intl does
 * not know it.
 */
export function describeInstant({
  date,
  timezone,
}: {
  date: Date;
  timezone: string;
}): TimeDescription {
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
  } catch (error) {
    throw new ToolError(
      `Unknown time zone '${timezone}'. Use an IANA name such as 'Europe/Paris'.`,
      {
        cause: error,
      },
    );
  }
  const parts = formatter.formatToParts(date);
  const field = (type: Intl.DateTimeFormatPartTypes): number => {
    const value = parts.find((part) => part.type === type)?.value;
    if (value === undefined) throw new Error(`Intl gave no ${type} for time zone ${timezone}`);
    return Number(value);
  };
  const year = field('year');
  const month = field('month');
  const day = field('day');
  const hour = field('hour');
  const minute = field('minute');
  const second = field('second');

  // Read as if it were UTC, the wall clock is ahead of the instant by exactly the zone's offset.
  const wallClock = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const wholeSeconds = Math.floor(date.getTime() / 1000) * 1000;
  const utcOffset = formatOffset(Math.round((wallClock.getTime() - wholeSeconds) / 60_000));
  const time = `${pad(hour)}:${pad(minute)}:${pad(second)}`;

  return {
    timezone: formatter.resolvedOptions().timeZone,
    iso: `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}T${time}${utcOffset}`,
    local: `${weekdays[wallClock.getUTCDay()]}, ${day} ${months[month - 1]} ${year}, ${time}`,
    utc_offset: utcOffset,
    unix_ms: date.getTime(),
  };
}

function formatOffset(totalMinutes: number): string {
  const sign = totalMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(totalMinutes);
  return `${sign}${pad(Math.floor(absolute / 60))}:${pad(absolute % 60)}`;
}

function pad(value: number): string {
  return value.toString().padStart(2, '0');
}

/** Tells the current date and time in a time zone. */
export const getCurrentTime = defineTool({
  name: 'get_current_time',
  description:
    'Get the current date and time in an IANA time zone (default UTC): ISO timestamp with offset, ' +
    'a readable local form, the UTC offset and Unix milliseconds.',
  inputSchema,
  async execute({ timezone = 'UTC' }) {
    return describeInstant({ date: new Date(), timezone });
  },
});
