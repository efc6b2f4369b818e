import type { ModelMessage } from 'ai';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import {
  destroy,
  stall,
  startFakeUpstream,
  status,
  text,
  toolCalls,
  type FakeReply,
  type FakeUpstream,
} from '../../test/support/fake-upstream.ts';
import { ErrorCode } from '../protocol/index.ts';
import { defineTool, type ParleyTool } from '../tools/types.ts';
import { runCompletions, toWireMessages, type RunCompletionsOptions } from './completions.ts';
import type { ResponseSink } from './run-response.ts';
import { createToolSet } from './tool-set.ts';

// One fake upstream per test, so that request counts and queued replies never leak between tests.
let upstream: FakeUpstream;
beforeEach(async () => {
  upstream = await startFakeUpstream();
});
afterEach(async () => upstream.close());

const forecast = defineTool({
  name: 'forecast',
  description: 'The weather for a city, a few days ahead.',
  inputSchema: z.object({ city: z.string(), days: z.number().int().min(1).max(7) }),
  async execute({ city, days }) {
    return { city, days, sky: 'sunny' };
  },
});

/** Resolves only when the response is cancelled, as a well-behaved slow tool does. */
const waitForCancel = defineTool({
  name: 'wait_for_cancel',
  description: 'Waits until the response is cancelled.',
  inputSchema: z.object({}),
  execute: (_input, { signal }) =>
    new Promise((resolve) => signal.addEventListener('abort', () => resolve('stopped'))),
});

type ToolCallSeen = Parameters<ResponseSink['toolCall']>[0];
type ToolResultSeen = Parameters<ResponseSink['toolResult']>[0];

/** Runs one response against the fake upstream and records what reached the sink. */
function run({
  tools = [forecast],
  onTextDelta,
  onToolCall,
  ...overrides
}: Partial<Omit<RunCompletionsOptions, 'tools' | 'sink'>> & {
  tools?: readonly ParleyTool[];
  onTextDelta?: (deltas: string[]) => void;
  onToolCall?: (call: ToolCallSeen) => void;
} = {}) {
  const deltas: string[] = [];
  const calls: ToolCallSeen[] = [];
  const results: ToolResultSeen[] = [];
  const outcome = runCompletions({
    endpoint: { baseUrl: upstream.url, apiKey: 'k', model: 'm' },
    instructions: 'Be brief.',
    messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    tools: createToolSet({
      tools,
      context: {
        userId: 'u',
        sessionId: 's',
        db: undefined as never,
        stats: { activeSessions: () => 0, connectedSockets: () => 0 },
      },
      timeoutMs: 2_000,
      onDuration: () => {},
    }),
    maxSteps: 4,
    maxRetries: 0,
    stallTimeoutMs: 5_000,
    signal: new AbortController().signal,
    retryDelayMs: 10,
    ...overrides,
    sink: {
      textDelta: (delta) => {
        deltas.push(delta);
        onTextDelta?.(deltas);
      },
      toolCall: (call) => {
        calls.push(call);
        onToolCall?.(call);
      },
      toolResult: (result) => results.push(result),
    },
  });
  return { outcome, deltas, calls, results };
}

/**
 * A 200 event stream made of exactly these SSE data lines, for what the fake's scripted replies
 * never send (bad JSON, in-stream errors, broken tool arguments).
 */
function rawStream(...data: string[]): FakeReply {
  return status(200, {
    body: data.map((line) => `data: ${line}\n\n`).join(''),
    headers: { 'content-type': 'text/event-stream' },
  });
}

function chunk(delta: object, finishReason: string | null = null): string {
  return JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finishReason }] });
}

/** The fake bills a request's input as a quarter of its body's length (see fake-upstream.ts). */
function billedInput(index: number): number {
  return Math.ceil(JSON.stringify(upstream.requests[index]!.body).length / 4);
}

describe('the request', () => {
  test('posts a streaming chat completion with instructions first, tools as JSON schema and the API key', async () => {
    upstream.enqueue(text('Sunny.'));
    const { outcome, deltas } = run();
    expect(await outcome).toMatchObject({ status: 'completed', text: 'Sunny.' });
    expect(deltas.join('')).toBe('Sunny.');

    expect(upstream.requests).toHaveLength(1);
    const [request] = upstream.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(request!.headers.authorization).toBe('Bearer k');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.body).toMatchObject({
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Oslo?' },
      ],
    });
    expect(request!.body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'forecast',
          description: 'The weather for a city, a few days ahead.',
          parameters: expect.objectContaining({
            type: 'object',
            properties: {
              city: { type: 'string' },
              days: expect.objectContaining({ type: 'integer', minimum: 1, maximum: 7 }),
            },
            required: ['city', 'days'],
          }),
        },
      },
    ]);
  });

  test('without an API key, tools or instructions, sends no authorization, no tools and no system message', async () => {
    upstream.enqueue(text('Hi.'));
    const { outcome } = run({
      // A trailing slash on the base URL must not produce `//chat/completions`.
      endpoint: { baseUrl: `${upstream.url}/`, apiKey: undefined, model: 'm' },
      instructions: '',
      tools: [],
    });
    expect(await outcome).toMatchObject({ status: 'completed', text: 'Hi.' });
    const [request] = upstream.requests;
    expect(request!.path).toBe('/v1/chat/completions');
    expect(request!.headers.authorization).toBeUndefined();
    expect(request!.body).not.toHaveProperty('tools');
    expect(request!.body.messages).toEqual([{ role: 'user', content: 'Weather in Oslo?' }]);
  });
});

describe('what servers send', () => {
  test('text as an array of parts, a refusal, and usage reported only under x_groq are all read', async () => {
    upstream.enqueue(
      rawStream(
        chunk({
          content: [
            { type: 'text', text: 'Par' },
            { type: 'text', text: 'ts' },
          ],
        }),
        chunk({ refusal: ' and no more' }),
        JSON.stringify({
          choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
          x_groq: { usage: { prompt_tokens: 12, completion_tokens: 3 } },
        }),
        '[DONE]',
      ),
    );
    const { outcome, deltas } = run({ tools: [] });
    expect(await outcome).toMatchObject({
      status: 'completed',
      text: 'Parts and no more',
      finishReason: 'content-filter',
      usage: { input_tokens: 12, output_tokens: 3 },
    });
    expect(deltas).toStrictEqual(['Parts', ' and no more']);
  });

  test('token counts that are not whole numbers count as zero', async () => {
    upstream.enqueue(
      rawStream(
        chunk({ content: 'ok' }),
        JSON.stringify({
          choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
          usage: { prompt_tokens: '12', completion_tokens: 2.5 },
        }),
      ),
    );
    const { outcome } = run({ tools: [] });
    expect(await outcome).toMatchObject({
      status: 'completed',
      usage: { input_tokens: 0, output_tokens: 0 },
    });
  });
});

describe('redirects', () => {
  test('a 308 is followed with the same body and key; a 301 fails naming where it points', async () => {
    const target = `${upstream.url}/chat/completions`;
    upstream.enqueue(status(308, { headers: { location: target } }), text('moved'));
    const followed = run({ tools: [] });
    expect(await followed.outcome).toMatchObject({ status: 'completed', text: 'moved' });
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests[1]!.body).toStrictEqual(upstream.requests[0]!.body);
    expect(upstream.requests[1]!.headers.authorization).toBe('Bearer k');

    upstream.enqueue(status(301, { headers: { location: 'https://elsewhere.example/v1' } }));
    const refused = run({ tools: [] });
    expect(await refused.outcome).toMatchObject({
      status: 'failed',
      error: { code: 'upstream_error' },
    });
    const failed = (await refused.outcome) as { error: { message: string } };
    expect(failed.error.message).toContain('HTTP 301');
    expect(failed.error.message).toContain('redirects to https://elsewhere.example/v1');
  });
});

describe('toWireMessages', () => {
  test('turns tool calls into assistant tool_calls and tool results into tool messages', () => {
    const history: ModelMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather in ' },
          { type: 'text', text: 'Oslo and Bergen?' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          {
            type: 'tool-call',
            toolCallId: 'c1',
            toolName: 'forecast',
            input: { city: 'Oslo', days: 2 },
          },
          {
            type: 'tool-call',
            toolCallId: 'c2',
            toolName: 'forecast',
            input: { city: 'Bergen', days: 9 },
          },
        ],
      },
      {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: 'c1',
            toolName: 'forecast',
            output: { type: 'json', value: { sky: 'sunny' } },
          },
          {
            type: 'tool-result',
            toolCallId: 'c2',
            toolName: 'forecast',
            output: { type: 'error-text', value: 'days must be at most 7' },
          },
        ],
      },
      { role: 'assistant', content: 'Sunny in Oslo; Bergen is too far ahead.' },
    ];

    expect(toWireMessages('Be brief.', history)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo and Bergen?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'forecast', arguments: '{"city":"Oslo","days":2}' },
          },
          {
            id: 'c2',
            type: 'function',
            function: { name: 'forecast', arguments: '{"city":"Bergen","days":9}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '{"sky":"sunny"}' },
      { role: 'tool', tool_call_id: 'c2', content: 'days must be at most 7' },
      { role: 'assistant', content: 'Sunny in Oslo; Bergen is too far ahead.' },
    ]);
  });

  test('an assistant message of tool calls only has null content', () => {
    const [message] = toWireMessages('', [
      {
        role: 'assistant',
        content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'forecast', input: {} }],
      },
    ]);
    expect(message).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'forecast', arguments: '{}' } }],
    });
  });
});

describe('steps', () => {
  test('a tool call step, then a text step that sees the call and its result; usage is summed', async () => {
    upstream.enqueue(
      toolCalls([{ id: 'call_1', name: 'forecast', arguments: { city: 'Oslo', days: 2 } }]),
      text('Sunny in Oslo.', { usage: { inputTokens: 30, outputTokens: 4 } }),
    );
    const { outcome, calls, results, deltas } = run();
    const ended = await outcome;

    expect(upstream.requests).toHaveLength(2);
    expect(ended).toEqual({
      status: 'completed',
      text: 'Sunny in Oslo.',
      finishReason: 'stop',
      // The fake bills a tool call step 10 output tokens per call.
      usage: { input_tokens: billedInput(0) + 30, output_tokens: 10 + 4 },
    });
    expect(deltas.join('')).toBe('Sunny in Oslo.');
    expect(calls).toEqual([
      { callId: 'call_1', name: 'forecast', input: { city: 'Oslo', days: 2 } },
    ]);
    expect(results).toEqual([
      { callId: 'call_1', name: 'forecast', result: { city: 'Oslo', days: 2, sky: 'sunny' } },
    ]);
    expect(upstream.requests[1]!.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'forecast', arguments: '{"city":"Oslo","days":2}' },
          },
        ],
      },
      {
        role: 'tool',
        tool_call_id: 'call_1',
        content: JSON.stringify({ city: 'Oslo', days: 2, sky: 'sunny' }),
      },
    ]);
  });

  test('at maxSteps a step that still calls tools ends the response with finish reason tool-calls', async () => {
    upstream.enqueue(
      toolCalls([{ id: 'a', name: 'forecast', arguments: { city: 'Oslo', days: 1 } }]),
      toolCalls([{ id: 'b', name: 'forecast', arguments: { city: 'Bergen', days: 1 } }]),
      text('never asked for'),
    );
    const { outcome, calls, results, deltas } = run({ maxSteps: 2 });
    expect(await outcome).toMatchObject({
      status: 'completed',
      text: '',
      finishReason: 'tool-calls',
    });
    expect(upstream.requests).toHaveLength(2);
    expect(deltas).toEqual([]);
    // Every call the client was shown gets its result, the last step's too.
    expect(calls.map((call) => call.callId)).toEqual(['a', 'b']);
    expect(results.map((result) => result.callId)).toEqual(['a', 'b']);
  });
});

describe('tool input errors', () => {
  test('arguments that fail the schema and an unknown tool become tool_error results the model reads', async () => {
    upstream.enqueue(
      toolCalls([
        { id: 'bad', name: 'forecast', arguments: { city: 'Oslo', days: 'two' } },
        { id: 'unknown', name: 'teleport', arguments: { to: 'Mars' } },
      ]),
      text('Sorry about that.'),
    );
    const { outcome, results } = run();
    expect(await outcome).toMatchObject({ status: 'completed', text: 'Sorry about that.' });

    const byId = Object.fromEntries(results.map((result) => [result.callId, result]));
    expect(byId.bad).toMatchObject({ name: 'forecast', error: { code: 'tool_error' } });
    expect(byId.bad).not.toHaveProperty('result');
    expect(byId.bad!.error!.message).toMatch(/^Invalid input for tool forecast: /);
    expect(byId.bad!.error!.message).toContain('days');
    expect(byId.unknown).toMatchObject({
      name: 'teleport',
      error: {
        code: 'tool_error',
        message: "Model tried to call unavailable tool 'teleport'. Available tools: forecast.",
      },
    });

    const toolMessages = upstream.requests[1]!.body.messages!.filter(
      (message) => (message as { role: string }).role === 'tool',
    );
    expect(toolMessages).toEqual([
      { role: 'tool', tool_call_id: 'bad', content: byId.bad!.error!.message },
      { role: 'tool', tool_call_id: 'unknown', content: byId.unknown!.error!.message },
    ]);
  });

  test('arguments that are not JSON become a tool_error result', async () => {
    upstream.enqueue(
      rawStream(
        chunk({
          role: 'assistant',
          tool_calls: [
            { index: 0, id: 'c1', type: 'function', function: { name: 'forecast', arguments: '' } },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Os' } }] }),
        chunk({}, 'tool_calls'),
        '[DONE]',
      ),
      text('Let me try again.'),
    );
    const { outcome, results } = run();
    expect(await outcome).toMatchObject({ status: 'completed', text: 'Let me try again.' });
    expect(results).toEqual([
      {
        callId: 'c1',
        name: 'forecast',
        error: {
          code: 'tool_error',
          message: expect.stringMatching(/^Invalid input for tool forecast: .*JSON/),
        },
      },
    ]);
    expect(JSON.stringify(upstream.requests[1]!.body.messages)).toContain(
      'Invalid input for tool forecast',
    );
  });
});

describe('retries', () => {
  test.each([408, 409, 429, 500, 502, 503])('HTTP %i is retried', async (code) => {
    upstream.enqueue(status(code), text('Recovered.'));
    const { outcome, deltas } = run({ maxRetries: 2 });
    expect(await outcome).toMatchObject({ status: 'completed', text: 'Recovered.' });
    expect(deltas.join('')).toBe('Recovered.');
    expect(upstream.requests).toHaveLength(2);
  });

  test.each([400, 401, 404, 422])(
    'HTTP %i is not retried and carries the provider message',
    async (code) => {
      upstream.enqueue(
        status(code, { body: { error: { message: 'model m does not exist' } } }),
        text('never asked for'),
      );
      const { outcome } = run({ maxRetries: 3 });
      expect(await outcome).toMatchObject({
        status: 'failed',
        text: '',
        error: {
          code: ErrorCode.upstreamError,
          message: `The model provider answered HTTP ${code}: model m does not exist`,
        },
      });
      expect(upstream.requests).toHaveLength(1);
    },
  );

  test('a server that keeps failing fails the response after maxRetries, saying how often it was tried', async () => {
    upstream.enqueue(status(503), status(503), text('never asked for'));
    const { outcome } = run({ maxRetries: 1 });
    const ended = await outcome;
    expect(ended).toMatchObject({ status: 'failed', error: { code: ErrorCode.upstreamError } });
    expect(ended.status === 'failed' && ended.error.message).toMatch(/HTTP 503.*after 2 attempts/);
    expect(upstream.requests).toHaveLength(2);
  });

  // The backoff alone would wait 10 ms; timers may fire a millisecond or two early.
  test.each([
    { code: 429, header: 'retry-after-ms', value: '150', atLeast: 148 },
    { code: 503, header: 'retry-after', value: '0.2', atLeast: 198 },
  ])(
    '$header: $value is waited for instead of the backoff',
    async ({ code, header, value, atLeast }) => {
      upstream.enqueue(status(code, { headers: { [header]: value } }), text('ok'));
      const { outcome } = run({ maxRetries: 1 });
      expect(await outcome).toMatchObject({ status: 'completed', text: 'ok' });
      const [first, second] = upstream.requests;
      expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(atLeast);
    },
  );

  test('cancelling while waiting to retry ends the response at once, without another request', async () => {
    upstream.enqueue(status(503, { headers: { 'retry-after-ms': '10000' } }), text('never'));
    const controller = new AbortController();
    const started = performance.now();
    const { outcome } = run({ maxRetries: 3, signal: controller.signal });
    await upstream.waitForRequest(1);
    setTimeout(() => controller.abort(), 50);
    expect(await outcome).toMatchObject({ status: 'cancelled', text: '' });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('a stream that breaks', () => {
  test('a connection cut mid-stream fails with upstream_unavailable, keeps the partial text and is not retried', async () => {
    upstream.enqueue(
      destroy({ afterChunks: 2, chunks: ['Half ', 'a ', 'story.'] }),
      text('A second try must not happen.'),
    );
    const { outcome, deltas } = run({ maxRetries: 3 });
    const ended = await outcome;
    expect(ended).toMatchObject({
      status: 'failed',
      text: 'Half a ',
      error: { code: ErrorCode.upstreamUnavailable },
    });
    expect(ended.status === 'failed' && ended.error.message).toMatch(/broke off mid-stream/);
    expect(deltas).toEqual(['Half ', 'a ']);
    expect(upstream.requests).toHaveLength(1);
  });

  test('a data line that is not JSON fails with upstream_error and is not retried', async () => {
    upstream.enqueue(rawStream(chunk({ content: 'Par' }), 'not json at all'), text('never'));
    const { outcome } = run({ maxRetries: 2 });
    expect(await outcome).toMatchObject({
      status: 'failed',
      text: 'Par',
      error: {
        code: ErrorCode.upstreamError,
        message: 'The model provider sent a chunk that is not a JSON object: not json at all',
      },
    });
    expect(upstream.requests).toHaveLength(1);
  });

  test('an error the server reports in-stream fails with upstream_error and its message', async () => {
    upstream.enqueue(
      rawStream(
        chunk({ content: 'Par' }),
        JSON.stringify({ error: { message: 'model overloaded, try later' } }),
        chunk({ content: 'ley' }),
      ),
    );
    const { outcome, deltas } = run();
    expect(await outcome).toMatchObject({
      status: 'failed',
      text: 'Par',
      error: {
        code: ErrorCode.upstreamError,
        message: 'The model provider reported an error mid-stream: model overloaded, try later',
      },
    });
    expect(deltas).toEqual(['Par']);
  });

  test('a data line that is JSON but not a chunk object fails with upstream_error, not as a broken connection', async () => {
    upstream.enqueue(rawStream(chunk({ content: 'Par' }), 'null'));
    const { outcome } = run();
    expect(await outcome).toMatchObject({
      status: 'failed',
      text: 'Par',
      error: { code: ErrorCode.upstreamError },
    });
  });

  // Every recorded provider stream ends its last choice with a finish_reason; the AI SDK path
  // fails a stream without one ("Response stream ended without a finish reason.").
  test.each([
    ['a stream cut short cleanly', rawStream(chunk({ content: 'Par' }))],
    [
      'a 200 answer that is not an event stream',
      status(200, { body: { error: { message: 'no such model' } } }),
    ],
  ])('%s fails instead of passing for a complete answer', async (_name, reply) => {
    upstream.enqueue(reply);
    const { outcome } = run();
    expect(await outcome).toMatchObject({
      status: 'failed',
      error: { code: ErrorCode.upstreamError },
    });
  });
});

describe('cancellation', () => {
  test('aborting mid-stream cancels with the partial text and closes the upstream request', async () => {
    upstream.enqueue(stall({ afterChunks: 2, chunks: ['Half ', 'a ', 'story.'] }));
    const controller = new AbortController();
    const { outcome, deltas } = run({
      signal: controller.signal,
      onTextDelta: (seen) => {
        if (seen.length === 2) controller.abort();
      },
    });
    expect(await outcome).toMatchObject({ status: 'cancelled', text: 'Half a ' });
    expect(deltas).toEqual(['Half ', 'a ']);
    const aborted = await upstream.waitForAbort(1);
    expect(aborted).toBe(upstream.requests[0]);
  });

  test('aborting while a tool runs cancels without asking the model again', async () => {
    upstream.enqueue(
      toolCalls([{ id: 'w', name: 'wait_for_cancel', arguments: {} }]),
      text('never asked for'),
    );
    const controller = new AbortController();
    const { outcome, results } = run({
      tools: [waitForCancel],
      signal: controller.signal,
      onToolCall: () => setTimeout(() => controller.abort(), 20),
    });
    expect(await outcome).toMatchObject({ status: 'cancelled', text: '' });
    expect(upstream.requests).toHaveLength(1);
    expect(results).toEqual([{ callId: 'w', name: 'wait_for_cancel', result: 'stopped' }]);
  });
});
