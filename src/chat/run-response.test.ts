import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import {
  startFakeUpstream,
  text,
  toolCalls,
  type FakeUpstream,
} from '../../test/support/fake-upstream.ts';
import { defineTool, type ParleyTool } from '../tools/types.ts';
import { runResponse, type ResponseSink } from './run-response.ts';
import { createToolSet } from './tool-set.ts';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => upstream.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const slow = defineTool({
  name: 'slow',
  description: 'Waits 300 ms.',
  inputSchema: z.object({ label: z.string() }),
  async execute({ label }) {
    const started = performance.now();
    await sleep(300);
    return { label, started, finished: performance.now() };
  },
});
const stubborn = defineTool({
  name: 'stubborn',
  description: 'Never finishes and ignores its signal.',
  inputSchema: z.object({}),
  execute: () => new Promise(() => {}),
});
const broken = defineTool({
  name: 'broken',
  description: 'Throws.',
  inputSchema: z.object({}),
  async execute() {
    throw new Error('the disk is on fire');
  },
});

type Path = 'streamText' | 'completions';

function run(path: Path, tools: readonly ParleyTool[], { timeoutMs = 5_000 } = {}) {
  const results: Parameters<ResponseSink['toolResult']>[0][] = [];
  const durations = new Map<string, number>();
  const chatModel = {
    model: createOpenAICompatible({
      name: 'fake',
      baseURL: upstream.url,
      includeUsage: true,
    }).chatModel('fake'),
    provider: 'openai-compatible',
    modelId: 'fake',
    demo: false,
    ...(path === 'completions'
      ? { completions: { baseUrl: upstream.url, apiKey: undefined, model: 'fake' } }
      : {}),
  };
  const outcome = runResponse({
    chatModel,
    instructions: 'test',
    messages: [{ role: 'user', content: 'go' }],
    tools: createToolSet({
      tools,
      context: {
        userId: 'u',
        sessionId: 's',
        db: undefined as never,
        stats: { activeSessions: () => 0, connectedSockets: () => 0 },
      },
      timeoutMs,
      onDuration: (callId, ms) => durations.set(callId, ms),
    }),
    maxSteps: 4,
    maxRetries: 0,
    stallTimeoutMs: 5_000,
    signal: new AbortController().signal,
    sink: { textDelta: () => {}, toolCall: () => {}, toolResult: (result) => results.push(result) },
  });
  return { outcome, results, durations };
}

describe.each<Path>(['streamText', 'completions'])('tool calls in a response (%s)', (path) => {
  test('parallel calls in one step run at the same time', async () => {
    upstream.enqueue(
      toolCalls([
        { name: 'slow', arguments: { label: 'a' } },
        { name: 'slow', arguments: { label: 'b' } },
        { name: 'slow', arguments: { label: 'c' } },
      ]),
      text('done'),
    );
    const started = performance.now();
    const { outcome, results } = run(path, [slow]);
    expect((await outcome).status).toBe('completed');
    const elapsed = performance.now() - started;
    expect(results).toHaveLength(3);
    // Three 300 ms tools one after another would take 900 ms.
    expect(elapsed).toBeLessThan(750);
    const windows = results.map((result) => result.result as { started: number; finished: number });
    const latestStart = Math.max(...windows.map((window) => window.started));
    const earliestEnd = Math.min(...windows.map((window) => window.finished));
    expect(latestStart).toBeLessThan(earliestEnd);
  });

  test('a tool past its deadline and a tool that throws become error results; the model sees both', async () => {
    upstream.enqueue(
      toolCalls([
        { name: 'stubborn', arguments: {} },
        { name: 'broken', arguments: {} },
      ]),
      text('both failed'),
    );
    const { outcome, results, durations } = run(path, [stubborn, broken], { timeoutMs: 200 });
    const ended = await outcome;
    expect(ended).toMatchObject({ status: 'completed', text: 'both failed' });
    const byName = Object.fromEntries(results.map((result) => [result.name, result]));
    expect(byName.stubborn!.error?.message).toMatch(/timed out after 200 ms/);
    expect(byName.broken!.error?.message).toMatch(/the disk is on fire/);
    expect([...durations.values()].some((ms) => ms >= 195 && ms < 1_000)).toBe(true);
    const toolMessages = JSON.stringify(upstream.requests.at(-1)!.body.messages);
    expect(toolMessages).toContain('timed out after 200 ms');
    expect(toolMessages).toContain('the disk is on fire');
  });
});
