/**
 * Parley's built-in offline demo model: what answers when no LLM key is configured. It is a
 * deterministic rule-based stand-in that speaks the AI SDK's LanguageModelV4 spec, so the whole
 * token path (streamText → session → socket) and the tools run unchanged without a network.
 *
 * It must never pass for an LLM: its own replies say that they come from the demo model, and
 * everything it says about tools is read straight from the tools' results.
 */
import { randomUUID } from 'node:crypto';
import type {
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Content,
  LanguageModelV4FinishReason,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4ToolResultOutput,
  LanguageModelV4Usage,
} from '@ai-sdk/provider';
import { z } from 'zod';

/** One tool call the demo model decided to make; `input` is a plain object. */
export interface DemoToolCall {
  toolName: string;
  input: Record<string, unknown>;
}

/** What the demo model does in one step: call tools (in parallel) or answer in text. */
export type DemoPlan =
  { kind: 'tool-calls'; calls: DemoToolCall[] } | { kind: 'text'; text: string };

export interface DemoModelOptions {
  /** Pause between two streamed words, so the stream looks (and cancels) like a real one. */
  tokenDelayMs?: number;
}

/**
 * Decides the demo model's next step from the prompt alone (pure and deterministic):
 * - the last message holds tool results → a text answer built from them;
 * - the last user message asks for the time, a calculation, the server metrics, the user's
 *   profile or a search of past sessions → calls to those of `availableTools` that fit;
 * - anything else → a short, clearly labelled demo reply (a long one if it says "long answer").
 */
export function planDemoTurn(prompt: LanguageModelV4Prompt, availableTools: string[]): DemoPlan {
  const last = prompt.at(-1);
  if (last?.role === 'tool') {
    const answers = trailingToolResults(prompt).map((result) =>
      describeToolOutput(result.toolName, result.output),
    );
    if (answers.length > 0) return { kind: 'text', text: answers.join(' ') };
  }

  const message = lastUserText(prompt);
  const intents = detectIntents(message);
  const calls = intents.filter((intent) => availableTools.includes(intent.call.toolName));
  if (calls.length > 0) return { kind: 'tool-calls', calls: calls.map((intent) => intent.call) };

  const missing = [...new Set(intents.map((intent) => intent.call.toolName))];
  return { kind: 'text', text: demoReply({ message, availableTools, missingTools: missing }) };
}

/**
 * Creates the demo model. Besides chat turns it answers structured-output calls
 * (`responseFormat.type === 'json'`) with a session summary, see {@link writeDemoSummary}.
 */
export function createDemoModel({ tokenDelayMs = 35 }: DemoModelOptions = {}): LanguageModelV4 {
  return {
    specificationVersion: 'v4',
    provider: 'parley-demo',
    modelId: 'parley-demo-1',
    supportedUrls: {},

    async doGenerate(options) {
      options.abortSignal?.throwIfAborted();
      const plan = planCall(options);
      const content: LanguageModelV4Content[] =
        plan.kind === 'text'
          ? [{ type: 'text', text: plan.text }]
          : plan.calls.map((call) => ({
              type: 'tool-call',
              toolCallId: newToolCallId(),
              toolName: call.toolName,
              input: JSON.stringify(call.input),
            }));
      return {
        content,
        finishReason: finishReasonOf(plan),
        usage: usageOf(options.prompt, plan),
        warnings: [],
        response: { id: `demo-${randomUUID()}`, modelId: 'parley-demo-1', timestamp: new Date() },
      };
    },

    async doStream(options) {
      const plan = planCall(options);
      const parts: LanguageModelV4StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        {
          type: 'response-metadata',
          id: `demo-${randomUUID()}`,
          modelId: 'parley-demo-1',
          timestamp: new Date(),
        },
      ];
      if (plan.kind === 'text') {
        parts.push({ type: 'text-start', id: 'text-0' });
        for (const delta of splitWords(plan.text))
          parts.push({ type: 'text-delta', id: 'text-0', delta });
        parts.push({ type: 'text-end', id: 'text-0' });
      } else {
        for (const call of plan.calls) {
          const id = newToolCallId();
          const input = JSON.stringify(call.input);
          parts.push(
            { type: 'tool-input-start', id, toolName: call.toolName },
            { type: 'tool-input-delta', id, delta: input },
            { type: 'tool-input-end', id },
            { type: 'tool-call', toolCallId: id, toolName: call.toolName, input },
          );
        }
      }
      parts.push({
        type: 'finish',
        finishReason: finishReasonOf(plan),
        usage: usageOf(options.prompt, plan),
      });
      return { stream: streamParts({ parts, tokenDelayMs, abortSignal: options.abortSignal }) };
    },
  };
}

function planCall(options: LanguageModelV4CallOptions): DemoPlan {
  if (options.responseFormat?.type === 'json') {
    const summary = writeDemoSummary(options.prompt, options.responseFormat.schema);
    return { kind: 'text', text: JSON.stringify(summary) };
  }
  return planDemoTurn(options.prompt, availableToolNames(options));
}

function availableToolNames({ tools = [], toolChoice }: LanguageModelV4CallOptions): string[] {
  const names = tools.filter((tool) => tool.type === 'function').map((tool) => tool.name);
  if (toolChoice?.type === 'none') return [];
  if (toolChoice?.type === 'tool') return names.filter((name) => name === toolChoice.toolName);
  return names;
}

// ── streaming ───────────────────────────────────────────────────────────────────────────────

/**
 * Plays the parts back, pausing before each text delta after the first. An abort ends the stream
 * at once with an AbortError: streamText recognises it (by name) and emits its `abort` part.
 */
function streamParts({
  parts,
  tokenDelayMs,
  abortSignal,
}: {
  parts: LanguageModelV4StreamPart[];
  tokenDelayMs: number;
  abortSignal: AbortSignal | undefined;
}): ReadableStream<LanguageModelV4StreamPart> {
  let next = 0;
  let deltasSent = 0;
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  const stop = () => {
    finished = true;
    clearTimeout(timer);
    wake?.();
    abortSignal?.removeEventListener('abort', onAbort);
  };
  let onAbort = () => {};

  return new ReadableStream<LanguageModelV4StreamPart>({
    start(controller) {
      onAbort = () => {
        if (finished) return;
        stop();
        controller.error(toAbortError(abortSignal));
      };
      if (abortSignal?.aborted) onAbort();
      else abortSignal?.addEventListener('abort', onAbort, { once: true });
    },
    async pull(controller) {
      if (finished) return;
      const part = parts[next];
      if (part === undefined) {
        stop();
        controller.close();
        return;
      }
      if (part.type === 'text-delta' && deltasSent++ > 0 && tokenDelayMs > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, tokenDelayMs);
        });
        if (finished) return;
      }
      controller.enqueue(part);
      next += 1;
    },
    cancel() {
      stop();
    },
  });
}

function toAbortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && (reason.name === 'AbortError' || reason.name === 'TimeoutError')) {
    return reason;
  }
  const error = new Error('The demo model stream was aborted.', { cause: reason });
  error.name = 'AbortError';
  return error;
}

/** Each word with the whitespace after it: the deltas concatenate back to `text` exactly. */
function splitWords(text: string): string[] {
  return text.match(/^\s*\S+\s*|\S+\s*/g) ?? (text === '' ? [] : [text]);
}

function newToolCallId(): string {
  return `call_demo_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
}

function finishReasonOf(plan: DemoPlan): LanguageModelV4FinishReason {
  return plan.kind === 'text'
    ? { unified: 'stop', raw: 'stop' }
    : { unified: 'tool-calls', raw: 'tool_calls' };
}

/** Rough but stable: a token is about four characters of prompt, one word of reply. */
function usageOf(prompt: LanguageModelV4Prompt, plan: DemoPlan): LanguageModelV4Usage {
  const input = Math.ceil(promptText(prompt).length / 4);
  const output =
    plan.kind === 'text'
      ? splitWords(plan.text).length
      : plan.calls.reduce((sum, call) => sum + Math.ceil(JSON.stringify(call.input).length / 4), 0);
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
  };
}

function promptText(prompt: LanguageModelV4Prompt): string {
  const pieces: string[] = [];
  for (const message of prompt) {
    if (message.role === 'system') {
      pieces.push(message.content);
      continue;
    }
    for (const part of message.content) {
      if (part.type === 'text' || part.type === 'reasoning') pieces.push(part.text);
      else if (part.type === 'tool-call')
        pieces.push(part.toolName, JSON.stringify(part.input) ?? '');
      else if (part.type === 'tool-result') pieces.push(part.toolName, JSON.stringify(part.output));
    }
  }
  return pieces.join('\n');
}

// ── reading the prompt ──────────────────────────────────────────────────────────────────────

function lastUserText(prompt: LanguageModelV4Prompt): string {
  for (let index = prompt.length - 1; index >= 0; index -= 1) {
    const message = prompt[index];
    if (message?.role === 'user') return userText(message.content);
  }
  return '';
}

function userText(content: Extract<LanguageModelV4Prompt[number], { role: 'user' }>['content']) {
  return content
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join('\n')
    .trim();
}

/** The tool results answering the latest step: those of the tool messages at the end. */
function trailingToolResults(prompt: LanguageModelV4Prompt) {
  const results: { toolName: string; output: LanguageModelV4ToolResultOutput }[] = [];
  for (let index = prompt.length - 1; index >= 0; index -= 1) {
    const message = prompt[index];
    if (message?.role !== 'tool') break;
    const parts = message.content.flatMap((part) => (part.type === 'tool-result' ? [part] : []));
    results.unshift(...parts);
  }
  return results;
}

// ── intents: which tools a user message asks for ────────────────────────────────────────────

interface Intent {
  /** Where in the message the intent was found: calls are made in the order they were asked. */
  at: number;
  call: DemoToolCall;
}

function detectIntents(message: string): Intent[] {
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

const CITY_ZONES: Record<string, string> = {
  tokyo: 'Asia/Tokyo',
  osaka: 'Asia/Tokyo',
  seoul: 'Asia/Seoul',
  beijing: 'Asia/Shanghai',
  shanghai: 'Asia/Shanghai',
  'hong kong': 'Asia/Hong_Kong',
  singapore: 'Asia/Singapore',
  bangkok: 'Asia/Bangkok',
  jakarta: 'Asia/Jakarta',
  mumbai: 'Asia/Kolkata',
  delhi: 'Asia/Kolkata',
  bangalore: 'Asia/Kolkata',
  kolkata: 'Asia/Kolkata',
  karachi: 'Asia/Karachi',
  dubai: 'Asia/Dubai',
  tehran: 'Asia/Tehran',
  istanbul: 'Europe/Istanbul',
  moscow: 'Europe/Moscow',
  london: 'Europe/London',
  dublin: 'Europe/Dublin',
  lisbon: 'Europe/Lisbon',
  paris: 'Europe/Paris',
  madrid: 'Europe/Madrid',
  barcelona: 'Europe/Madrid',
  berlin: 'Europe/Berlin',
  munich: 'Europe/Berlin',
  amsterdam: 'Europe/Amsterdam',
  brussels: 'Europe/Brussels',
  zurich: 'Europe/Zurich',
  rome: 'Europe/Rome',
  vienna: 'Europe/Vienna',
  stockholm: 'Europe/Stockholm',
  oslo: 'Europe/Oslo',
  helsinki: 'Europe/Helsinki',
  warsaw: 'Europe/Warsaw',
  prague: 'Europe/Prague',
  athens: 'Europe/Athens',
  kyiv: 'Europe/Kyiv',
  cairo: 'Africa/Cairo',
  lagos: 'Africa/Lagos',
  nairobi: 'Africa/Nairobi',
  johannesburg: 'Africa/Johannesburg',
  'new york': 'America/New_York',
  nyc: 'America/New_York',
  boston: 'America/New_York',
  toronto: 'America/Toronto',
  chicago: 'America/Chicago',
  denver: 'America/Denver',
  'los angeles': 'America/Los_Angeles',
  'san francisco': 'America/Los_Angeles',
  seattle: 'America/Los_Angeles',
  vancouver: 'America/Vancouver',
  'mexico city': 'America/Mexico_City',
  'sao paulo': 'America/Sao_Paulo',
  'são paulo': 'America/Sao_Paulo',
  'buenos aires': 'America/Argentina/Buenos_Aires',
  honolulu: 'Pacific/Honolulu',
  sydney: 'Australia/Sydney',
  melbourne: 'Australia/Melbourne',
  auckland: 'Pacific/Auckland',
};
const CITY_PATTERN = new RegExp(
  `\\b(${Object.keys(CITY_ZONES)
    .sort((a, b) => b.length - a.length)
    .join('|')})\\b`,
  'i',
);
const IANA_PATTERN =
  /\b(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc)\/[A-Za-z_+-]+(?:\/[A-Za-z_+-]+)?/;
const UTC_PATTERN = /\b(?:UTC|GMT)\b/;

/** The first zone the message names: an IANA name as written, a known city, or UTC. */
function findTimezone(text: string): string | undefined {
  const found: { at: number; zone: string }[] = [];
  const iana = IANA_PATTERN.exec(text);
  if (iana) found.push({ at: iana.index, zone: iana[0] });
  const city = CITY_PATTERN.exec(text);
  if (city?.[1]) found.push({ at: city.index, zone: CITY_ZONES[city[1].toLowerCase()] ?? '' });
  const utc = UTC_PATTERN.exec(text);
  if (utc) found.push({ at: utc.index, zone: 'UTC' });
  return found.filter((entry) => entry.zone !== '').sort((a, b) => a.at - b.at)[0]?.zone;
}

const FUNCTION_NAMES =
  'sqrt|cbrt|abs|exp|log10|log2|log|ln|sin|cos|tan|asin|acos|atan|round|floor|ceil|min|max|pow|factorial';
const EXPRESSION_RUN = new RegExp(
  String.raw`(?:\b(?:${FUNCTION_NAMES})\s*\(|\bpi\b|\d+(?:\.\d+)?|\.\d+|[-+*/^%().!,]|[ \t])+`,
  'gi',
);
const MATH_TRIGGER =
  /(?:calculate|compute|evaluate|solve|work out|what(?:'s| is)|whats|how much is|how much are)\s+(?:the\s+)?(?:(?:value|result|answer|sum|product)\s+of\s+)?:?\s*$/i;

/**
 * Arithmetic the message asks for: an expression right after "what is", "calculate"… (or the
 * whole message, or chained to one with "and"). Spelled operators become symbols first.
 */
function findExpressions(message: string): { at: number; expression: string }[] {
  const text = message
    .replaceAll(/\bsquare root of\s+(\d+(?:\.\d+)?)/gi, 'sqrt($1)')
    .replaceAll(/([\d)])\s*[x×]\s*(?=[\d(])/g, '$1 * ')
    .replaceAll('÷', '/')
    .replaceAll('−', '-')
    .replaceAll(
      /([\d)])\s+(plus|minus|times|multiplied by|divided by|over|to the power of)\s+(?=[-\d(.]|[a-z]+\s*\()/gi,
      (_, before: string, word: string) => `${before} ${SPELLED_OPERATORS[word.toLowerCase()]} `,
    )
    .replaceAll(/([\d)])\s+squared\b/gi, '$1^2')
    .replaceAll(/([\d)])\s+cubed\b/gi, '$1^3');

  const found: { at: number; end: number; expression: string }[] = [];
  for (const run of text.matchAll(EXPRESSION_RUN)) {
    for (const piece of splitTopLevelCommas(run[0], run.index)) {
      const leading = piece.text.length - piece.text.trimStart().length;
      const expression = balanceParentheses(piece.text.trim().replace(/[\s.]+$/, '')).replaceAll(
        /\s+/g,
        ' ',
      );
      const at = piece.at + leading;
      if (!isArithmetic(expression)) continue;
      const before = text.slice(0, at);
      const chained =
        found.length > 0 &&
        /^[\s,;]*(?:and|then|&)?[\s,;]*$/i.test(text.slice(found.at(-1)?.end, at));
      const whole =
        /^[\s?!.=:]*$/.test(before) && /^[\s?!.=:]*$/.test(text.slice(at + expression.length));
      if (MATH_TRIGGER.test(before) || chained || whole) {
        found.push({ at, end: at + piece.text.trim().length, expression });
      }
    }
  }
  const unique = found.filter(
    (entry, index) => found.findIndex((other) => other.expression === entry.expression) === index,
  );
  return unique.slice(0, 3).map(({ at, expression }) => ({ at, expression }));
}

const SPELLED_OPERATORS: Record<string, string> = {
  plus: '+',
  minus: '-',
  times: '*',
  'multiplied by': '*',
  'divided by': '/',
  over: '/',
  'to the power of': '^',
};

/** Commas outside parentheses end an expression, except thousands separators (1,000). */
function splitTopLevelCommas(run: string, offset: number): { at: number; text: string }[] {
  const pieces: { at: number; text: string }[] = [];
  let depth = 0;
  let start = 0;
  let current = '';
  for (let index = 0; index < run.length; index += 1) {
    const char = run[index];
    if (char === '(') depth += 1;
    if (char === ')') depth = Math.max(0, depth - 1);
    if (char === ',' && depth === 0) {
      if (/^\d{3}(?!\d)/.test(run.slice(index + 1)) && /\d$/.test(current)) continue;
      pieces.push({ at: offset + start, text: current });
      start = index + 1;
      current = '';
      continue;
    }
    current += char;
  }
  pieces.push({ at: offset + start, text: current });
  return pieces;
}

function balanceParentheses(expression: string): string {
  let result = expression;
  const count = (char: string) => [...result].filter((each) => each === char).length;
  while (count(')') > count('(') && result.endsWith(')')) result = result.slice(0, -1).trimEnd();
  while (count('(') > count(')') && result.startsWith('(')) result = result.slice(1).trimStart();
  return result;
}

function isArithmetic(expression: string): boolean {
  if (!/\d|\bpi\b/i.test(expression)) return false;
  if (/^\d{4}-\d{2}-\d{2}$/.test(expression)) return false; // a date, not a subtraction
  return (
    /[\d)!a-z.]\s*[-+*/^%]\s*[-\d(.a-z]/i.test(expression) ||
    /\b[a-z]+\d*\s*\(/i.test(expression) ||
    /\d\s*!/.test(expression)
  );
}

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

// ── answering from tool results ─────────────────────────────────────────────────────────────

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

function describeToolOutput(toolName: string, output: LanguageModelV4ToolResultOutput): string {
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

function formatNumber(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

function plural(count: number, noun: string): string {
  return `${formatNumber(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

function compactJson(value: unknown): string {
  return truncate(JSON.stringify(value) ?? String(value), 300);
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ── the demo's own replies ──────────────────────────────────────────────────────────────────

const CAPABILITIES: [tool: string, phrase: string][] = [
  ['get_current_time', 'the time in a city'],
  ['calculate', 'a calculation such as 12*(3+4)'],
  ['get_system_metrics', "the server's metrics"],
  ['get_user_profile', 'your profile'],
  ['search_past_sessions', 'a search of your past sessions'],
];

const CONNECT_A_MODEL =
  'To talk to a real model, set OPENAI_API_KEY, ANTHROPIC_API_KEY or GROQ_API_KEY (or LLM_PROVIDER=openai-compatible with LLM_BASE_URL) and restart Parley.';

const LONG_ANSWER_PARAGRAPHS = [
  'Here is the long answer you asked for, written by the demo model so that you can watch a reply stream in word by word and try cancelling it halfway through. Nothing in it was generated by a language model: it is a fixed text that Parley plays back at a steady pace, which makes it handy for testing how the server, the socket and the user interface behave while a response is still in flight.',
  'When a real model is connected, Parley forwards your message to it together with the conversation so far and the descriptions of its tools. The model may answer directly, or ask for one or more tool calls first; Parley runs those tools on the server, sends their results back to the model, and streams the final answer to you token by token. Every event of the session is stored, so a conversation can be resumed and summarised later.',
  'Cancelling works the same way for the demo model and for a real one. When you cancel, Parley aborts the running request, stops the stream at once, tells every connected client that the response was cancelled, and keeps the part of the answer that had already arrived. Tools that were still running receive the abort signal too, so nothing keeps working in the background for an answer nobody will read.',
  'The demo model can still show off the tools: ask it for the time in a city, for a calculation, for the server metrics, for your profile, or to search your past sessions, and it will call the matching tool and report the result faithfully. Anything else gets a short canned reply like this one, only much shorter. That is all it can do, and it will never pretend to be more than that.',
];

function demoReply({
  message,
  availableTools,
  missingTools,
}: {
  message: string;
  availableTools: string[];
  missingTools: string[];
}): string {
  const quote = truncate(message.replaceAll(/\s+/g, ' ').trim(), 60);
  const opening =
    quote === '' || /^(?:hi|hello|hey|good (?:morning|afternoon|evening))\b/i.test(quote)
      ? "Hello! I am Parley's offline demo model, not a real language model."
      : `I am Parley's offline demo model, not a real language model, so I can't really answer "${quote}".`;
  const missing =
    missingTools.length > 0
      ? ` I would use the ${missingTools.join(' and ')} tool${missingTools.length > 1 ? 's' : ''} for that, but ${missingTools.length > 1 ? 'they are' : 'it is'} not enabled here.`
      : '';
  const phrases = CAPABILITIES.filter(([tool]) => availableTools.includes(tool)).map(
    ([, phrase]) => phrase,
  );
  const capabilities =
    phrases.length > 0
      ? ` I can still show how Parley's tools work: ask me for ${joinWithOr(phrases)}.`
      : ' No tools are enabled in this conversation, so this canned reply is all I can give.';
  const reply = `${opening}${missing}${capabilities} ${CONNECT_A_MODEL}`;
  if (!/\blong answer\b/i.test(message)) return reply;
  return [reply, ...LONG_ANSWER_PARAGRAPHS].join('\n\n');
}

function joinWithOr(phrases: string[]): string {
  if (phrases.length <= 1) return phrases.join('');
  return `${phrases.slice(0, -1).join(', ')} or ${phrases.at(-1)}`;
}

// ── structured output: the session summary ──────────────────────────────────────────────────

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
