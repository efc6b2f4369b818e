/**
 * Structured output: the demo model's summary of a session, from the transcript in the prompt.
 */
import type { LanguageModelV4Prompt } from '@ai-sdk/provider';
import { z } from 'zod';
import { plural, truncate } from './format-text.ts';
import { parseMaybeJson, userText } from './prompt.ts';

/**
 * Answers a structured-output call with a summary of the session in the prompt:
 * `{summary, title, topics, tools_used}`, keeping only the keys the schema lists (if it lists
 * any). The transcript is read from the user messages: lines like `user: …`, `user_message: …`,
 * `assistant: …`, `tool_call: get_current_time {…}`, or one JSON object per line with a
 * `type` / `event_type` / `role` and a `text` / `content` (tool calls: `name` / `tool_name`). A
 * "Transcript" heading without such lines is an empty session. Without either, the prompt's own
 * user messages and tool-call parts are the session.
 */
export function writeDemoSummary(
  prompt: LanguageModelV4Prompt,
  schema?: unknown,
): Record<string, unknown> {
  const { userMessages, toolsUsed } = readTranscript(prompt);
  const first = userMessages[0]?.replaceAll(/\s+/g, ' ').trim() ?? '';
  const summary =
    userMessages.length === 0
      ? 'No messages were exchanged in this session.'
      : [
          `The user sent ${plural(userMessages.length, 'message')}, starting with "${truncate(first, 80)}".`,
          toolsUsed.length > 0 ? `Tools used: ${toolsUsed.join(', ')}.` : 'No tools were used.',
          "(Summary written by Parley's offline demo model.)",
        ].join(' ');
  const titleWords = first
    .replace(/[?!.:;,]+$/, '')
    .split(' ')
    .filter(Boolean)
    .slice(0, 8);
  const title =
    titleWords.length === 0
      ? 'Empty session'
      : `${titleWords[0]!.charAt(0).toUpperCase()}${titleWords.join(' ').slice(1)}`;
  const full: Record<string, unknown> = {
    summary,
    title,
    topics: salientWords(userMessages),
    tools_used: toolsUsed,
  };
  const properties = z.object({ properties: z.record(z.string(), z.unknown()) }).safeParse(schema);
  if (!properties.success) return full;
  return Object.fromEntries(
    Object.entries(full).filter(([key]) => key in properties.data.properties),
  );
}

const TRANSCRIPT_LINE =
  /^[\s\d#*\-[\]().:TZ+]*?\b(user_message|user|assistant_message|assistant|tool_call|tool_result)\b\s*[:\]>-]?\s*(.*)$/i;
const TRANSCRIPT_HEADING = /^\s*(?:#+\s*)?transcript\b/im;
const JsonLine = z.looseObject({
  role: z.string().optional(),
  type: z.string().optional(),
  event_type: z.string().optional(),
  text: z.string().optional(),
  content: z.string().optional(),
  name: z.string().optional(),
  tool_name: z.string().optional(),
});

/** One transcript line as `[role, rest]`: `user: …` style, or a JSON object per line. */
function readTranscriptLine(line: string): [role: string, rest: string] | undefined {
  if (line.trimStart().startsWith('{')) {
    const parsed = JsonLine.safeParse(parseMaybeJson(line.trim()));
    const role = parsed.data?.event_type ?? parsed.data?.type ?? parsed.data?.role;
    if (!parsed.success || role === undefined || !TRANSCRIPT_LINE.test(role)) return undefined;
    const { text, content, name, tool_name } = parsed.data;
    return [role, text ?? content ?? tool_name ?? name ?? ''];
  }
  const match = TRANSCRIPT_LINE.exec(line);
  return match?.[1] ? [match[1], match[2] ?? ''] : undefined;
}

function readTranscript(prompt: LanguageModelV4Prompt): {
  userMessages: string[];
  toolsUsed: string[];
} {
  const promptUserTexts: string[] = [];
  const lineUserTexts: string[] = [];
  const tools: string[] = [];
  let isTranscript = false;
  for (const message of prompt) {
    if (message.role === 'assistant') {
      for (const part of message.content) if (part.type === 'tool-call') tools.push(part.toolName);
    }
    if (message.role !== 'user') continue;
    const text = userText(message.content);
    if (text !== '') promptUserTexts.push(text);
    if (TRANSCRIPT_HEADING.test(text)) isTranscript = true;
    for (const line of text.split('\n')) {
      const labelled = readTranscriptLine(line);
      if (!labelled) continue;
      isTranscript = true;
      const role = labelled[0].toLowerCase();
      const rest = labelled[1].trim();
      if (role.startsWith('user') && rest !== '') lineUserTexts.push(rest);
      if (role === 'tool_call') {
        const name =
          /(?:tool_?name|name)"?\s*[:=]\s*"?([a-z_][\w-]*)/i.exec(rest) ??
          /([a-z_][\w-]*)/i.exec(rest);
        if (name?.[1]) tools.push(name[1]);
      }
    }
  }
  return {
    userMessages: isTranscript ? lineUserTexts : promptUserTexts,
    toolsUsed: [...new Set(tools)],
  };
}

const STOP_WORDS = new Set(
  'about above after again also because been before being could does doing from have having here hello into just like more most much only other over please same should some than that their them then there these they this those through very want what when where which while will with would your yours tell know think thanks thank there'.split(
    ' ',
  ),
);

/** Up to five frequent longer words of the user's messages, most frequent first. */
function salientWords(messages: string[]): string[] {
  const counts = new Map<string, number>();
  for (const word of messages
    .join(' ')
    .toLowerCase()
    .match(/\p{L}{4,}/gu) ?? []) {
    if (!STOP_WORDS.has(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([word]) => word);
}
