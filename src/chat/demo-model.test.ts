import type { LanguageModelV4Prompt, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { generateText, isStepCount, Output, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDemoModel, planDemoTurn, writeDemoSummary } from './demo-model.ts';

const ALL_TOOLS = [
  'get_current_time',
  'calculate',
  'get_system_metrics',
  'get_user_profile',
  'search_past_sessions',
];

function userSays(text: string): LanguageModelV4Prompt {
  return [{ role: 'user', content: [{ type: 'text', text }] }];
}

/** A stand-in with the real tool's result shape; the demo model only reads the result. */
const getCurrentTime = tool({
  description: 'Current date and time in a time zone.',
  inputSchema: z.object({ timezone: z.string().optional() }),
  execute: async ({ timezone = 'UTC' }) => ({
    timezone,
    iso: '2026-11-22T22:03:07+09:00',
    local: '2026-11-22 22:03:07',
    utc_offset: '+09:00',
    unix_ms: Date.parse('2026-11-22T13:03:07Z'),
  }),
});

const calculate = tool({
  description: 'Evaluates an arithmetic expression.',
  inputSchema: z.object({ expression: z.string() }),
  execute: async ({ expression }) => {
    if (expression !== '2+2') throw new Error(`cannot evaluate ${expression}`);
    return { expression, result: '4', value: 4 };
  },
});

describe('demo model with streamText', () => {
  it('streams a text reply word by word, in order, and finishes with stop', async () => {
    const result = streamText({
      model: createDemoModel({ tokenDelayMs: 1 }),
      prompt: 'Tell me something nice.',
    });
    const deltas: string[] = [];
    const types: string[] = [];
    for await (const part of result.stream) {
      types.push(part.type);
      if (part.type === 'text-delta') deltas.push(part.text);
    }
    const text = await result.text;

    expect(deltas.length).toBeGreaterThan(10);
    expect(deltas.join('')).toBe(text);
    expect(deltas.every((delta) => /^\S+\s*$/.test(delta))).toBe(true);
    expect(text).toContain('demo model');
    expect(text).toContain('OPENAI_API_KEY');
    expect(text).toContain('"Tell me something nice."');
    expect(types.indexOf('text-start')).toBeLessThan(types.indexOf('text-delta'));
    expect(types.at(-1)).toBe('finish');
    expect(await result.finishReason).toBe('stop');
    const usage = await result.usage;
    expect(usage.outputTokens).toBe(deltas.length);
    expect(usage.inputTokens).toBeGreaterThan(0);
  });

  it('calls get_current_time for Tokyo, then answers from the tool result', async () => {
    const result = streamText({
      model: createDemoModel({ tokenDelayMs: 0 }),
      prompt: 'what time is it in Tokyo?',
      tools: { get_current_time: getCurrentTime },
      stopWhen: isStepCount(3),
    });
    const parts = [];
    for await (const part of result.stream) parts.push(part);

    const calls = parts.filter((part) => part.type === 'tool-call');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      toolName: 'get_current_time',
      input: { timezone: 'Asia/Tokyo' },
    });
    const toolResult = parts.findIndex((part) => part.type === 'tool-result');
    const secondStep = parts.findIndex(
      (part, index) => index > toolResult && part.type === 'start-step',
    );
    expect(toolResult).toBeGreaterThan(-1);
    expect(secondStep).toBeGreaterThan(toolResult);

    const steps = await result.steps;
    expect(steps).toHaveLength(2);
    expect(steps[0]?.finishReason).toBe('tool-calls');
    expect(steps[1]?.text).toBe(
      'It is Sunday, 22 November 2026, 22:03:07 in Asia/Tokyo (UTC+09:00).',
    );
    expect(await result.finishReason).toBe('stop');
  });

  it('makes parallel tool calls in one step for two intents, and reports a failing tool', async () => {
    const result = streamText({
      model: createDemoModel({ tokenDelayMs: 0 }),
      prompt: 'what time is it in Tokyo and what is 2+2? Also, what is 1/0?',
      tools: { get_current_time: getCurrentTime, calculate },
      stopWhen: isStepCount(3),
    });
    await result.consumeStream();
    const steps = await result.steps;

    expect(steps[0]?.toolCalls.map((call) => [call.toolName, call.input])).toEqual([
      ['get_current_time', { timezone: 'Asia/Tokyo' }],
      ['calculate', { expression: '2+2' }],
      ['calculate', { expression: '1/0' }],
    ]);
    expect(steps[1]?.text).toBe(
      'It is Sunday, 22 November 2026, 22:03:07 in Asia/Tokyo (UTC+09:00). 2+2 = 4. ' +
        'The calculate tool failed: cannot evaluate 1/0.',
    );
  });

  it('stops at once when streamText is aborted mid-stream, and the SDK emits abort', async () => {
    const controller = new AbortController();
    const result = streamText({
      model: createDemoModel({ tokenDelayMs: 20 }),
      prompt: 'Please give me a long answer about Parley.',
      abortSignal: controller.signal,
    });
    const types: string[] = [];
    let deltas = 0;
    let abortedAt = 0;
    for await (const part of result.stream) {
      types.push(part.type);
      if (part.type === 'text-delta' && ++deltas === 5) {
        abortedAt = performance.now();
        controller.abort();
      }
    }
    const stoppedAfter = performance.now() - abortedAt;

    expect(stoppedAfter).toBeLessThan(100);
    expect(types).toContain('abort');
    expect(types).not.toContain('finish');
    expect(deltas).toBeLessThanOrEqual(6);
  });

  it('closes its own stream with an AbortError when the signal aborts', async () => {
    const controller = new AbortController();
    const { stream } = await createDemoModel({ tokenDelayMs: 1000 }).doStream({
      prompt: userSays('long answer'),
      abortSignal: controller.signal,
    });
    const reader = stream.getReader();
    const seen: LanguageModelV4StreamPart['type'][] = [];
    for (;;) {
      const { value } = await reader.read();
      if (value === undefined) break;
      seen.push(value.type);
      if (value.type === 'text-delta') break; // the next delta waits a whole second
    }
    setTimeout(() => controller.abort(), 10);
    const started = performance.now();

    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(100);
    expect(seen).toEqual(['stream-start', 'response-metadata', 'text-start', 'text-delta']);
  });
});

describe('planDemoTurn', () => {
  it.each([
    ['what is 12*(3+4)?', '12*(3+4)'],
    ['calculate 2^10', '2^10'],
    ['compute sqrt(2)', 'sqrt(2)'],
    ["What's 3 times 4?", '3 * 4'],
    ['what is 10 divided by 4', '10 / 4'],
    ['how much is 1,000 + 250?', '1000 + 250'],
    ['what is the square root of 16', 'sqrt(16)'],
    ['what is (2+3)*4', '(2+3)*4'],
    ['calculate max(1, 2) please', 'max(1, 2)'],
    ['2+2', '2+2'],
  ])('extracts the expression from %j', (message, expression) => {
    expect(planDemoTurn(userSays(message), ALL_TOOLS)).toEqual({
      kind: 'tool-calls',
      calls: [{ toolName: 'calculate', input: { expression } }],
    });
  });

  it.each(['I have 2-3 questions', 'we met on 2026-11-22', 'hello there'])(
    'does not see arithmetic in %j',
    (message) => {
      expect(planDemoTurn(userSays(message), ALL_TOOLS).kind).toBe('text');
    },
  );

  it.each([
    ['what time is it in Tokyo?', 'get_current_time', { timezone: 'Asia/Tokyo' }],
    ['current time in Europe/Lisbon please', 'get_current_time', { timezone: 'Europe/Lisbon' }],
    ["what's the date", 'get_current_time', {}],
    ['how is the server doing?', 'get_system_metrics', {}],
    ['show me the memory usage', 'get_system_metrics', {}],
    ['who am I?', 'get_user_profile', {}],
    ['how many sessions have I had?', 'get_user_profile', {}],
    [
      'search my past sessions for pizza recipes',
      'search_past_sessions',
      { query: 'pizza recipes' },
    ],
    ['did we talk about Rust before?', 'search_past_sessions', { query: 'Rust' }],
    ['do you remember the trip to Rome?', 'search_past_sessions', { query: 'trip to Rome' }],
  ])('maps %j to %s', (message, toolName, input) => {
    expect(planDemoTurn(userSays(message), ALL_TOOLS)).toEqual({
      kind: 'tool-calls',
      calls: [{ toolName, input }],
    });
  });

  it('only calls tools that are available, and says so when one is missing', () => {
    const plan = planDemoTurn(userSays('what time is it in Tokyo and what is 2+2?'), ['calculate']);
    expect(plan).toEqual({
      kind: 'tool-calls',
      calls: [{ toolName: 'calculate', input: { expression: '2+2' } }],
    });

    const reply = planDemoTurn(userSays('what time is it?'), []);
    expect(reply.kind).toBe('text');
    expect(reply.kind === 'text' && reply.text).toContain(
      'get_current_time tool for that, but it is not enabled',
    );
  });

  it('answers from each known tool result shape, and falls back to JSON for others', () => {
    const answer = (toolName: string, value: unknown) =>
      planDemoTurn(
        [
          ...userSays('…'),
          {
            role: 'tool',
            content: [
              {
                type: 'tool-result',
                toolCallId: 'c1',
                toolName,
                output: { type: 'json', value: value as never },
              },
            ],
          },
        ],
        ALL_TOOLS,
      );
    expect(
      answer('get_current_time', {
        timezone: 'Europe/Paris',
        iso: '2026-11-22T14:03:07+01:00',
        local: '2026-11-22 14:03:07',
        utc_offset: '+01:00',
        unix_ms: Date.parse('2026-11-22T13:03:07Z'),
      }),
    ).toEqual({
      kind: 'text',
      text: 'It is Sunday, 22 November 2026, 14:03:07 in Europe/Paris (UTC+01:00).',
    });
    expect(
      answer('get_system_metrics', {
        uptime_s: 3725,
        memory: { rss_bytes: 125_829_120 },
        active_sessions: 2,
      }),
    ).toEqual({
      kind: 'text',
      text: 'Server metrics: uptime 1 h 2 min, memory rss 120 MB, active sessions 2.',
    });
    expect(
      answer('get_user_profile', {
        user_id: 'u1',
        first_seen: '2026-11-01T10:00:00Z',
        sessions: 4,
        messages: 37,
        last_summary: null,
      }),
    ).toEqual({
      kind: 'text',
      text: 'You are user u1, first seen 2026-11-01, with 4 sessions and 37 messages so far.',
    });
    expect(
      answer('search_past_sessions', {
        query: 'pizza',
        results: [
          {
            session_id: 's1',
            started_at: '2026-11-20T10:00:00Z',
            title: 'Pizza night',
            snippet: 'best dough',
            rank: 0.5,
          },
        ],
      }),
    ).toEqual({
      kind: 'text',
      text: 'I found 1 past session matching "pizza": "Pizza night" (2026-11-20): best dough.',
    });
    expect(answer('search_past_sessions', { query: 'tea', results: [] })).toEqual({
      kind: 'text',
      text: 'I found no past sessions matching "tea".',
    });
    expect(answer('weather', { city: 'Oslo', celsius: -3 })).toEqual({
      kind: 'text',
      text: 'The weather tool returned: {"city":"Oslo","celsius":-3}.',
    });
  });

  it('gives a long reply when asked for a long answer', () => {
    const plan = planDemoTurn(userSays('Give me a long answer, please.'), ALL_TOOLS);
    expect(plan.kind === 'text' && plan.text.split(/\s+/).length).toBeGreaterThan(280);
  });

  it('is deterministic: the same prompt gives the same plan and the same stream', async () => {
    const prompts = ['what time is it in Paris and calculate 2^10', 'hello', 'long answer'];
    for (const text of prompts) {
      expect(planDemoTurn(userSays(text), ALL_TOOLS)).toEqual(
        planDemoTurn(userSays(text), ALL_TOOLS),
      );
    }
    const run = async () => {
      const result = streamText({
        model: createDemoModel({ tokenDelayMs: 0 }),
        prompt: 'Who are you?',
      });
      return { text: await result.text, usage: await result.usage };
    };
    expect(await run()).toEqual(await run());
  });
});

describe('demo model structured output', () => {
  const Summary = z.object({
    summary: z.string(),
    title: z.string(),
    topics: z.array(z.string()),
    tools_used: z.array(z.string()),
  });

  it('writes a summary that parses against the schema', async () => {
    const transcript = [
      'Summarize this session.',
      'Transcript:',
      'user: what time is it in Tokyo?',
      'tool_call: get_current_time {"timezone":"Asia/Tokyo"}',
      'tool_result: {"timezone":"Asia/Tokyo"}',
      'assistant: It is 22:03 in Tokyo.',
      'user: thanks! and what is a good pizza dough recipe?',
    ].join('\n');
    const { output } = await generateText({
      model: createDemoModel(),
      output: Output.object({ schema: Summary }),
      prompt: transcript,
    });

    expect(output.title).toBe('What time is it in Tokyo');
    expect(output.summary).toContain('2 messages');
    expect(output.summary).toContain('"what time is it in Tokyo?"');
    expect(output.tools_used).toEqual(['get_current_time']);
    expect(output.topics).toContain('pizza');
  });

  it('summarises an empty transcript, and keeps only the keys the schema lists', () => {
    const summary = writeDemoSummary(userSays('Summarize this session.\nTranscript:\n'), {
      type: 'object',
      properties: { summary: { type: 'string' }, title: { type: 'string' } },
    });
    expect(summary).toEqual({
      summary: 'No messages were exchanged in this session.',
      title: 'Empty session',
    });
  });
});
