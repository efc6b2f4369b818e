/**
 * Which tools a user message asks for: the time (in a zone), arithmetic, the server metrics, the
 * user's profile, or a search of past sessions.
 */
import { findExpressions } from './find-expressions.ts';
import { findTimezone } from './find-timezone.ts';

/** One tool call the demo model decided to make; `input` is a plain object. */
export interface DemoToolCall {
  toolName: string;
  input: Record<string, unknown>;
}

interface Intent {
  /** Where in the message the intent was found: calls are made in the order they were asked. */
  at: number;
  call: DemoToolCall;
}

/** The tool calls a user message asks for, in the order it asks for them. */
export function detectIntents(message: string): Intent[] {
  const text = message.replaceAll(/[’‘]/g, "'");
  const intents: Intent[] = [];

  const time = TIME_INTENT.exec(text);
  if (time) {
    const timezone = findTimezone(text);
    intents.push({
      at: time.index,
      call: { toolName: 'get_current_time', input: timezone ? { timezone } : {} },
    });
  }
  for (const { at, expression } of findExpressions(text)) {
    intents.push({ at, call: { toolName: 'calculate', input: { expression } } });
  }
  const metrics = METRICS_INTENT.exec(text);
  if (metrics)
    intents.push({ at: metrics.index, call: { toolName: 'get_system_metrics', input: {} } });
  const profile = PROFILE_INTENT.exec(text);
  if (profile)
    intents.push({ at: profile.index, call: { toolName: 'get_user_profile', input: {} } });
  const search = findSearch(text);
  if (search) {
    intents.push({
      at: search.at,
      call: { toolName: 'search_past_sessions', input: { query: search.query } },
    });
  }
  return intents.sort((a, b) => a.at - b.at);
}

const TIME_INTENT =
  /\b(?:what(?:'s| is)? the (?:time|date|day)|what time|what date|what day is (?:it|today)|current (?:time|date)|local time|time (?:is it|now)|today's date|date today|tell me the (?:time|date)|clock)\b/i;
const METRICS_INTENT =
  /\b(?:system metrics|server (?:load|metrics|stats|status|health)|memory usage|cpu (?:usage|load)|uptime|how(?:'s| is) the server|server doing)\b/i;
const PROFILE_INTENT =
  /\b(?:my profile|who am i|about me|my account|how many (?:sessions|messages|conversations) (?:have|did) i)\b/i;

const SEARCH_PATTERNS = [
  /\bsearch (?:through |in )?(?:my |our )?(?:past |previous |old |earlier )?(?:sessions|conversations|chats|history)\s+(?:for|about)\s+(.+)/i,
  /\b(?:did|have) (?:we|i) (?:ever )?(?:talk|talked|speak|spoke|chat|chatted) about\s+(.+)/i,
  /\b(?:did|have) (?:we|i) (?:ever )?(?:discuss|discussed|mention|mentioned)\s+(.+)/i,
  /\bfind (?:the |my |a )?(?:past |previous )?(?:sessions?|conversations?|chats?) (?:about|on|where)\s+(.+)/i,
  /\bremember\s+(?:(?:when|that|what|how)\s+)?(?:(?:we|i|you)\s+(?:talked|spoke|chatted|said|discussed)\s+(?:about\s+)?)?(.+)/i,
];

function findSearch(text: string): { at: number; query: string } | undefined {
  for (const pattern of SEARCH_PATTERNS) {
    const match = pattern.exec(text);
    if (!match?.[1]) continue;
    const query = match[1]
      .split(
        /[?!.;]|,?\s+and\s+(?=(?:what|how|who|when|where|why|calculate|compute|tell|show|search|did|do)\b)/i,
      )[0]!
      .replace(/^(?:the|our|my|about)\s+/i, '')
      .replace(/\s+(?:before|earlier|previously|last time|already|ever|again)$/i, '')
      .replace(/^["'“]+|["'”]+$/g, '')
      .trim()
      .slice(0, 100);
    if (query !== '') return { at: match.index, query };
  }
  return undefined;
}
