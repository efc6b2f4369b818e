/**
 * Answering from tool results: each known tool's result shape becomes a sentence; anything else
 * is reported as the tool returned it. Everything said here is read from the result.
 */
import type { LanguageModelV4ToolResultOutput } from '@ai-sdk/provider';
import { z } from 'zod';
import { compactJson, formatNumber, plural, sentence, truncate } from './format-text.ts';
import { parseMaybeJson } from './prompt.ts';

const TimeResult = z.looseObject({
  timezone: z.string(),
  iso: z.string().optional(),
  local: z.string().optional(),
  utc_offset: z.string().optional(),
  unix_ms: z.number().optional(),
});
const CalculateResult = z.looseObject({
  expression: z.string(),
  result: z.union([z.string(), z.number(), z.boolean()]).optional(),
  value: z.unknown().optional(),
});
const ProfileResult = z.looseObject({
  user_id: z.string(),
  first_seen: z.string().nullish(),
  sessions: z.number(),
  messages: z.number(),
  last_summary: z.string().nullish(),
});
const SearchResult = z.looseObject({
  query: z.string(),
  results: z.array(
    z.looseObject({
      session_id: z.string(),
      started_at: z.string().nullish(),
      title: z.string().nullish(),
      snippet: z.string().nullish(),
    }),
  ),
});

export function describeToolOutput(
  toolName: string,
  output: LanguageModelV4ToolResultOutput,
): string {
  switch (output.type) {
    case 'json':
      return describeToolResult(toolName, output.value);
    case 'text':
      return describeToolResult(toolName, parseMaybeJson(output.value));
    case 'content': {
      const text = output.value.flatMap((part) => (part.type === 'text' ? [part.text] : []));
      return describeToolResult(toolName, text.join('\n'));
    }
    case 'error-text':
      // The SDK fills this with `error.toString()`: drop the "Error: " / "ToolError: " prefix.
      return `The ${toolName} tool failed: ${sentence(output.value.replace(/^\w*Error: /, ''))}`;
    case 'error-json': {
      const message = z.looseObject({ message: z.string() }).safeParse(output.value);
      return `The ${toolName} tool failed: ${sentence(message.success ? message.data.message : compactJson(output.value))}`;
    }
    case 'execution-denied':
      return `The ${toolName} tool was not run: ${sentence(output.reason ?? 'the call was denied')}`;
  }
}

function describeToolResult(toolName: string, value: unknown): string {
  switch (toolName) {
    case 'get_current_time': {
      const time = TimeResult.safeParse(value);
      if (time.success) return describeTime(time.data);
      break;
    }
    case 'calculate': {
      const calculation = CalculateResult.safeParse(value);
      const result = calculation.data?.result ?? calculation.data?.value;
      if (calculation.success && result !== undefined) {
        return `${calculation.data.expression} = ${typeof result === 'string' ? result : compactJson(result)}.`;
      }
      break;
    }
    case 'get_system_metrics':
      if (isRecord(value))
        return `Server metrics: ${describeFigures(value).slice(0, 12).join(', ')}.`;
      break;
    case 'get_user_profile': {
      const profile = ProfileResult.safeParse(value);
      if (profile.success) return describeProfile(profile.data);
      break;
    }
    case 'search_past_sessions': {
      const search = SearchResult.safeParse(value);
      if (search.success) return describeSearch(search.data);
      break;
    }
  }
  if (typeof value === 'string')
    return `The ${toolName} tool returned: ${sentence(truncate(value, 300))}`;
  return `The ${toolName} tool returned: ${compactJson(value)}.`;
}

function describeTime(time: z.infer<typeof TimeResult>): string {
  const instant = time.unix_ms ?? (time.iso ? Date.parse(time.iso) : Number.NaN);
  let local = time.local ?? time.iso ?? 'an unknown time';
  if (Number.isFinite(instant)) {
    try {
      const parts = Object.fromEntries(
        new Intl.DateTimeFormat('en-GB', {
          timeZone: time.timezone,
          weekday: 'long',
          day: 'numeric',
          month: 'long',
          year: 'numeric',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
          hourCycle: 'h23',
        })
          .formatToParts(instant)
          .map((part) => [part.type, part.value]),
      );
      local = `${parts.weekday}, ${parts.day} ${parts.month} ${parts.year}, ${parts.hour}:${parts.minute}:${parts.second}`;
    } catch {
      // A zone this runtime does not know: keep the tool's own rendering.
    }
  }
  const offset = time.utc_offset
    ? ` (${/^(?:UTC|GMT)/i.test(time.utc_offset) ? time.utc_offset : `UTC${time.utc_offset}`})`
    : '';
  return `It is ${local} in ${time.timezone}${offset}.`;
}

function describeProfile(profile: z.infer<typeof ProfileResult>): string {
  const since = profile.first_seen ? `, first seen ${profile.first_seen.slice(0, 10)}` : '';
  const counts = `${plural(profile.sessions, 'session')} and ${plural(profile.messages, 'message')} so far`;
  const last = profile.last_summary
    ? ` Your last session: ${sentence(truncate(profile.last_summary, 240))}`
    : '';
  return `You are user ${profile.user_id}${since}, with ${counts}.${last}`;
}

function describeSearch(search: z.infer<typeof SearchResult>): string {
  if (search.results.length === 0) return `I found no past sessions matching "${search.query}".`;
  const listed = search.results.slice(0, 3).map((result) => {
    const title = result.title ? `"${result.title}"` : `session ${result.session_id}`;
    const date = result.started_at ? ` (${result.started_at.slice(0, 10)})` : '';
    const snippet = result.snippet
      ? `: ${truncate(result.snippet.replaceAll(/<[^>]*>/g, ''), 120)}`
      : '';
    return `${title}${date}${snippet}`;
  });
  const count = plural(search.results.length, 'past session');
  return `I found ${count} matching "${search.query}": ${listed.join('; ')}.`;
}

/** Flattens an object of figures into "label value" phrases, with units read from key names. */
function describeFigures(figures: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(figures).flatMap(([key, value]) => {
    const label = `${prefix}${key.replace(/_(?:bytes|mb|ms|seconds|secs|sec|s)$/i, '').replaceAll('_', ' ')}`;
    if (isRecord(value)) return describeFigures(value, `${label} `);
    if (typeof value !== 'number')
      return [`${label} ${typeof value === 'string' ? value : compactJson(value)}`];
    if (/bytes$/i.test(key)) return [`${label} ${formatNumber(value / 1_048_576)} MB`];
    if (/_mb$/i.test(key)) return [`${label} ${formatNumber(value)} MB`];
    if (/_ms$/i.test(key)) return [`${label} ${formatDuration(value / 1000)}`];
    if (/(?:_seconds|_secs?|_s)$|^uptime$/i.test(key)) return [`${label} ${formatDuration(value)}`];
    return [`${label} ${formatNumber(value)}`];
  });
}

function formatDuration(totalSeconds: number): string {
  const seconds = Math.round(totalSeconds);
  const units: [number, string][] = [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'min'],
    [1, 's'],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [size, unit] of units) {
    if (rest >= size || (size === 1 && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
