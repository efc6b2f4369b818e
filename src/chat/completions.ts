/**
 * Parley's own client for OpenAI-compatible Chat Completions streams (`POST
 * {baseURL}/chat/completions` with `stream: true`): Ollama, vLLM, LM Studio, llama.cpp and any
 * server that speaks that wire. It does for these servers what `streamText` does — several
 * steps with server-side tool calls, retries with backoff, a stall timeout, cancellation — but
 * on the token path it parses each SSE event once with `JSON.parse` and hands the text straight
 * to the sink, without the chain of web streams and the per-chunk schema validation that the
 * benchmark's CPU profiles found to be most of the cost of a relayed token (README
 * "Performance"). Other providers keep using the AI SDK (`run-response.ts`).
 *
 * Words used here:
 * - step: one request to the server and its streamed answer; a step that ends in tool calls is
 *   followed by another step carrying the tool results, up to `maxSteps`.
 * - chunk: one `chat.completion.chunk` object, the data of one SSE event.
 */
import { randomUUID } from 'node:crypto';
import { asSchema, type JSONSchema7, type ModelMessage } from 'ai';
import { createParser } from 'eventsource-parser';
import { ErrorCode, type ErrorBody, type Usage } from '../protocol/index.ts';
import { errorMessage } from '../errors.ts';
import type { ResponseOutcome, ResponseSink, RunResponseOptions } from './run-response.ts';
import type { ResponseTool } from './tool-set.ts';
import { postForStream, type StreamingResponse } from './http-post.ts';
import { attempts, truncate, upstreamFailure } from './upstream-errors.ts';

/** Where an OpenAI-compatible server is and which model to ask for. */
export interface CompletionsEndpoint {
  /** Base URL ending in the API version, e.g. `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
}

export interface RunCompletionsOptions extends Omit<RunResponseOptions, 'chatModel'> {
  endpoint: CompletionsEndpoint;
  /** First retry delay; doubled for each further retry unless the server says how long to wait. */
  retryDelayMs?: number;
}

/** An OpenAI Chat Completions message, as sent. */
type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: WireToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

interface StepResult {
  text: string;
  calls: WireToolCall[];
  finishReason: string;
  usage: Usage;
  /** The model refused (`delta.refusal`); its reason is the text. */
  refused?: boolean;
}

/**
 * A failure of one request. `retryable` ones (no answer, or an HTTP status worth another try)
 * are tried again; once a 200 answer has begun, a failure is final, as with the AI SDK.
 */
class UpstreamFailure extends Error {
  /** The failure in words, given how many tries it took (`attempts(n)`). */
  readonly describe: (tried: string) => ErrorBody;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    describe: ErrorBody | ((tried: string) => ErrorBody),
    { retryable = false, retryAfterMs = undefined as number | undefined } = {},
  ) {
    const describeTried = typeof describe === 'function' ? describe : () => describe;
    super(describeTried('').message);
    this.describe = describeTried;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Runs one response against an OpenAI-compatible server. Never throws; every ending is an outcome. */
export async function runCompletions(options: RunCompletionsOptions): Promise<ResponseOutcome> {
  const { sink, signal } = options;
  let text = '';
  let usage: Usage = { input_tokens: 0, output_tokens: 0 };
  let finishReason = 'stop';
  try {
    const messages = toWireMessages(options.instructions, options.messages);
    const tools = options.tools.length > 0 ? await describeTools(options.tools) : undefined;
    for (let step = 1; step <= options.maxSteps; step += 1) {
      const result = await withRetries(options, () =>
        streamStep(options, { messages, tools }, (delta) => {
          text += delta;
          sink.textDelta(delta);
        }),
      );
      usage = {
        input_tokens: usage.input_tokens + result.usage.input_tokens,
        output_tokens: usage.output_tokens + result.usage.output_tokens,
      };
      finishReason = result.finishReason;
      if (result.calls.length === 0) break;
      messages.push({ role: 'assistant', content: result.text || null, tool_calls: result.calls });
      const outputs = await runToolCalls(result.calls, options.tools, sink, signal);
      if (signal.aborted) break;
      messages.push(...outputs);
    }
  } catch (error) {
    if (signal.aborted) return { status: 'cancelled', text, usage };
    const body =
      error instanceof UpstreamFailure
        ? error.describe('')
        : upstreamFailure.other(errorMessage(error));
    return { status: 'failed', text, error: body, usage };
  }
  if (signal.aborted) return { status: 'cancelled', text, usage };
  return { status: 'completed', text, finishReason, usage };
}

/** Tries a step again on a retryable failure before anything of it was streamed. */
async function withRetries(
  options: RunCompletionsOptions,
  attempt: () => Promise<StepResult>,
): Promise<StepResult> {
  const firstDelay = options.retryDelayMs ?? 2_000;
  for (let tries = 1; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (
        !(error instanceof UpstreamFailure) ||
        !error.retryable ||
        tries > options.maxRetries ||
        options.signal.aborted
      ) {
        if (error instanceof UpstreamFailure && tries > 1) {
          throw new UpstreamFailure(error.describe(attempts(tries)));
        }
        throw error;
      }
      const backoff = firstDelay * 2 ** (tries - 1);
      const delay =
        error.retryAfterMs !== undefined &&
        (error.retryAfterMs < 60_000 || error.retryAfterMs < backoff)
          ? error.retryAfterMs
          : backoff;
      await sleep(delay, options.signal);
    }
  }
}

/** One request and its streamed answer; text deltas go to `onText` as they are parsed. */
async function streamStep(
  options: RunCompletionsOptions,
  { messages, tools }: { messages: WireMessage[]; tools: unknown[] | undefined },
  onText: (delta: string) => void,
): Promise<StepResult> {
  const { endpoint, stallTimeoutMs } = options;
  const stalled = new AbortController();
  const signal = AbortSignal.any([options.signal, stalled.signal]);
  const stallTimer = setTimeout(() => stalled.abort(), stallTimeoutMs);
  const stallFailure = () => new UpstreamFailure(upstreamFailure.stalled(stallTimeoutMs));

  let response: StreamingResponse;
  try {
    response = await postForStream(`${endpoint.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
      headers: {
        'content-type': 'application/json',
        ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: endpoint.model,
        messages,
        ...(tools ? { tools } : {}),
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal,
    });
  } catch (error) {
    clearTimeout(stallTimer);
    if (options.signal.aborted) throw error;
    if (stalled.signal.aborted) throw stallFailure();
    throw new UpstreamFailure((tried) => upstreamFailure.unreachable(describeCause(error), tried), {
      retryable: true,
    });
  }

  if (!response.ok) {
    // The stall timer still runs: a server that sends an error status and then hangs is let go.
    try {
      throw await httpFailure(response);
    } finally {
      clearTimeout(stallTimer);
    }
  }

  const step: StepResult = {
    text: '',
    calls: [],
    finishReason: '',
    usage: { input_tokens: 0, output_tokens: 0 },
  };
  let streamError: UpstreamFailure | undefined;
  const parser = createParser({
    onEvent({ data }) {
      if (streamError || data === '[DONE]') return;
      let chunk: unknown;
      try {
        chunk = JSON.parse(data);
      } catch {
        chunk = undefined;
      }
      if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) {
        streamError = new UpstreamFailure({
          code: ErrorCode.upstreamError,
          message: `The model provider sent a chunk that is not a JSON object: ${truncate(data)}`,
        });
        return;
      }
      streamError = readChunk(chunk as Chunk, step, onText);
    },
  });
  try {
    await response.read((text) => {
      stallTimer.refresh();
      parser.feed(text);
      if (streamError) throw streamError;
    });
  } catch (error) {
    if (error instanceof UpstreamFailure || options.signal.aborted) throw error;
    if (stalled.signal.aborted) throw stallFailure();
    throw new UpstreamFailure(upstreamFailure.brokeOff(describeCause(error)));
  } finally {
    clearTimeout(stallTimer);
  }
  if (!step.finishReason) {
    // A cut-short stream, or a 200 answer that was not a stream at all.
    throw new UpstreamFailure({
      code: ErrorCode.upstreamError,
      message: `The model provider's answer ended without a finish reason (${response.header('content-type') ?? 'no content type'}).`,
    });
  }
  step.calls = step.calls.filter(Boolean);
  if (step.calls.length > 0 && step.finishReason === 'stop') step.finishReason = 'tool-calls';
  return step;
}

/**
 * The parts of a `chat.completion.chunk` Parley reads; everything else is ignored. Servers
 * vary, so every field is checked where it is read rather than trusted to have this type.
 */
interface Chunk {
  error?: { message?: string } | string;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  /** Groq reports usage here (too). */
  x_groq?: { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null } | null;
  choices?: {
    delta?: {
      content?: string | { text?: unknown }[] | null;
      refusal?: string | null;
      tool_calls?: {
        index?: number;
        id?: unknown;
        function?: { name?: unknown; arguments?: unknown };
      }[];
    } | null;
    finish_reason?: string | null;
  }[];
}

/** Folds one chunk into the step; returns a failure when the server reported one in-stream. */
function readChunk(
  chunk: Chunk,
  step: StepResult,
  onText: (delta: string) => void,
): UpstreamFailure | undefined {
  if (chunk.error) {
    const message = typeof chunk.error === 'string' ? chunk.error : chunk.error.message;
    return new UpstreamFailure({
      code: ErrorCode.upstreamError,
      message: `The model provider reported an error mid-stream: ${truncate(message ?? JSON.stringify(chunk.error))}`,
    });
  }
  const usage = chunk.usage ?? chunk.x_groq?.usage;
  if (usage) {
    step.usage = {
      input_tokens: count(usage.prompt_tokens),
      output_tokens: count(usage.completion_tokens),
    };
  }
  const choice = chunk.choices?.[0];
  if (!choice) return undefined;
  const delta = choice.delta;
  if (delta) {
    // Text comes as a string, as an array of parts (some servers), or as a refusal.
    const content = Array.isArray(delta.content)
      ? delta.content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('')
      : (delta.content ?? delta.refusal);
    if (typeof content === 'string' && content.length > 0) {
      step.text += content;
      onText(content);
    }
    if (typeof delta.refusal === 'string' && delta.refusal.length > 0) {
      step.refused = true;
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const part of delta.tool_calls) {
        // Without an index, a delta with an id opens a call and one without continues the last.
        const index =
          typeof part.index === 'number' && Number.isSafeInteger(part.index) && part.index >= 0
            ? part.index
            : part.id || step.calls.length === 0
              ? step.calls.length
              : step.calls.length - 1;
        const call = (step.calls[index] ??= {
          id: '',
          type: 'function',
          function: { name: '', arguments: '' },
        });
        if (typeof part.id === 'string' && part.id) call.id = part.id;
        const fn = part.function;
        if (typeof fn?.name === 'string' && fn.name) call.function.name = fn.name;
        if (typeof fn?.arguments === 'string') call.function.arguments += fn.arguments;
      }
    }
  }
  if (typeof choice.finish_reason === 'string' && choice.finish_reason) {
    step.finishReason = step.refused ? 'content-filter' : finishReasonOf(choice.finish_reason);
  }
  return undefined;
}

/** A token count as the server sent it, if it is one. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** The finish reason in the AI SDK's words, so both paths report the same values. */
function finishReasonOf(reason: string): string {
  switch (reason) {
    case 'stop':
    case 'length':
      return reason;
    case 'content_filter':
      return 'content-filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    default:
      return 'other';
  }
}

/** Runs a step's tool calls side by side; returns the tool messages for the next step. */
async function runToolCalls(
  calls: WireToolCall[],
  tools: readonly ResponseTool[],
  sink: ResponseSink,
  signal: AbortSignal,
): Promise<WireMessage[]> {
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  const prepared = calls.map((call) => {
    // A server that sends no id still needs one per call, unique in the response.
    call.id ||= `call_${randomUUID()}`;
    const { input, parseError } = parseArguments(call.function.arguments);
    sink.toolCall({ callId: call.id, name: call.function.name, input });
    return { call, tool: byName.get(call.function.name), input, parseError };
  });
  return Promise.all(
    prepared.map(async ({ call, tool, input, parseError }): Promise<WireMessage> => {
      const { id: callId, function: fn } = call;
      let failure: string | undefined;
      let result: unknown;
      if (!tool) {
        failure = `Model tried to call unavailable tool '${fn.name}'. Available tools: ${[...byName.keys()].join(', ') || 'none'}.`;
      } else if (parseError) {
        failure = `Invalid input for tool ${fn.name}: ${parseError}`;
      } else {
        const parsed = tool.inputSchema.safeParse(input);
        if (!parsed.success) {
          failure = `Invalid input for tool ${fn.name}: ${parsed.error.message}`;
        } else {
          try {
            result = await tool.run(parsed.data, { callId, signal });
          } catch (error) {
            failure = errorMessage(error);
          }
        }
      }
      if (failure !== undefined) {
        sink.toolResult({
          callId,
          name: fn.name,
          error: { code: ErrorCode.toolError, message: failure },
        });
        return { role: 'tool', tool_call_id: callId, content: failure };
      }
      sink.toolResult({ callId, name: fn.name, result });
      return { role: 'tool', tool_call_id: callId, content: JSON.stringify(result ?? null) };
    }),
  );
}

function parseArguments(text: string): { input: unknown; parseError?: string } {
  if (text.trim() === '') return { input: {} };
  try {
    return { input: JSON.parse(text) as unknown };
  } catch (error) {
    return { input: text, parseError: errorMessage(error) };
  }
}

/** Tool definitions in the Chat Completions format, converted once per schema. */
const toolParameters = new WeakMap<object, Promise<JSONSchema7>>();
async function describeTools(tools: readonly ResponseTool[]): Promise<unknown[]> {
  return Promise.all(
    tools.map(async (tool) => {
      let parameters = toolParameters.get(tool.inputSchema);
      if (!parameters) {
        parameters = Promise.resolve(asSchema(tool.inputSchema).jsonSchema);
        toolParameters.set(tool.inputSchema, parameters);
        parameters.catch(() => toolParameters.delete(tool.inputSchema));
      }
      return {
        type: 'function',
        function: { name: tool.name, description: tool.description, parameters: await parameters },
      };
    }),
  );
}

/** The conversation in the Chat Completions format, instructions first. */
export function toWireMessages(
  instructions: string,
  messages: readonly ModelMessage[],
): WireMessage[] {
  const wire: WireMessage[] = instructions ? [{ role: 'system', content: instructions }] : [];
  for (const message of messages) {
    if (typeof message.content === 'string') {
      if (message.role === 'tool') continue;
      wire.push({ role: message.role, content: message.content } as WireMessage);
      continue;
    }
    switch (message.role) {
      case 'user':
        wire.push({ role: 'user', content: joinText(message.content) });
        break;
      case 'assistant': {
        const calls: WireToolCall[] = [];
        for (const part of message.content) {
          if (part.type !== 'tool-call') continue;
          calls.push({
            id: part.toolCallId,
            type: 'function',
            function: { name: part.toolName, arguments: JSON.stringify(part.input ?? {}) },
          });
        }
        const content = joinText(message.content);
        wire.push({
          role: 'assistant',
          content: content || null,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        });
        break;
      }
      case 'tool':
        for (const part of message.content) {
          if (part.type !== 'tool-result') continue;
          const output = part.output;
          const content =
            output.type === 'text' || output.type === 'error-text'
              ? output.value
              : output.type === 'execution-denied'
                ? (output.reason ?? 'The tool call was denied.')
                : JSON.stringify('value' in output ? output.value : null);
          wire.push({ role: 'tool', tool_call_id: part.toolCallId, content });
        }
        break;
      default:
        break;
    }
  }
  return wire;
}

function joinText(parts: readonly { type: string; text?: string }[]): string {
  return parts
    .filter((part) => part.type === 'text')
    .map((part) => part.text ?? '')
    .join('');
}

/** Maps a non-2xx answer to a failure, reading the provider's own error message when it sent one. */
async function httpFailure(response: StreamingResponse): Promise<UpstreamFailure> {
  const status = response.status;
  let detail = '';
  try {
    const body = await response.text();
    try {
      const parsed = JSON.parse(body) as {
        error?: { message?: string } | string;
        message?: string;
      };
      detail =
        (typeof parsed.error === 'string' ? parsed.error : parsed.error?.message) ??
        parsed.message ??
        body;
    } catch {
      detail = body;
    }
  } catch {
    // The body broke off; the status says enough.
  }
  const location = response.header('location');
  if (status >= 300 && status < 400 && location) {
    detail = `redirects to ${truncate(location)}; set LLM_BASE_URL to the address it ends at`;
  }
  const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  return new UpstreamFailure(
    (tried) =>
      status === 429
        ? upstreamFailure.rateLimited(tried)
        : upstreamFailure.httpStatus(status, detail || response.statusText, tried),
    { retryable, retryAfterMs: retryAfter(response) },
  );
}

/** The wait a server asks for in `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
function retryAfter(response: StreamingResponse): number | undefined {
  const ms = Number.parseFloat(response.header('retry-after-ms') ?? '');
  if (!Number.isNaN(ms)) return ms >= 0 ? ms : undefined;
  const value = response.header('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  const wait = Number.isNaN(seconds) ? Date.parse(value) - Date.now() : seconds * 1_000;
  return Number.isNaN(wait) || wait < 0 ? undefined : wait;
}

function describeCause(error: unknown): string {
  const cause =
    error instanceof Error && error.cause !== undefined ? ` (${errorMessage(error.cause)})` : '';
  return `${errorMessage(error)}${cause}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
