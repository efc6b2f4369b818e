import type { LanguageModelV4Prompt, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { isStepCount, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDemoModel } from './index.ts';

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
