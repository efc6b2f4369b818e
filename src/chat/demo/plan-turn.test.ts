import type { LanguageModelV4Prompt } from '@ai-sdk/provider';
import { streamText } from 'ai';
import { describe, expect, it } from 'vitest';
import { createDemoModel } from './index.ts';
import { planDemoTurn } from './plan-turn.ts';

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
