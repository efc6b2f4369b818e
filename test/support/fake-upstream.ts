/**
 * A fake LLM provider over real HTTP, for integration tests and the benchmark.
 *
 * It listens on 127.0.0.1 (a free port) and speaks the providers' real wire protocols, so the
 * AI SDK's own HTTP client, SSE parser and tool-call assembly run exactly as in production:
 * - `POST /v1/chat/completions`: OpenAI Chat Completions (`chat.completion.chunk` SSE, `[DONE]`)
 * - `POST /v1/messages`: Anthropic Messages (`event: <type>` + `data: <json>` SSE)
 *
 * Words used here:
 * - reply: what the fake answers to one request; replies are queued and consumed FIFO, and a
 *   default reply answers when the queue is empty.
 * - chunk: one piece of model output (a text delta or a tool-argument delta) = one SSE event.
 * - dialect: which wire protocol a route speaks (`openai` or `anthropic`).
 * - aborted request: the client closed the connection before the response was finished.
 */
import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

/** The recorded provider streams shared by all of Parley's tests (see its README.md). */
export const fixturesDirectory = new URL('../../../shared/fixtures/upstream/', import.meta.url);

export type Dialect = 'openai' | 'anthropic';

const routes: Record<string, Dialect> = {
  '/v1/chat/completions': 'openai',
  '/v1/messages': 'anthropic',
};

/** Token counts in the AI SDK's words; each dialect renames them on the wire. */
export interface FakeUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface FakeToolCall {
  name: string;
  arguments: Record<string, unknown>;
  id?: string;
}

export type FakeReply =
  | { kind: 'text'; chunks: string[]; delayMs: number; usage: FakeUsage | undefined }
  | { kind: 'json'; value: unknown; delayMs: number }
  | { kind: 'tool-calls'; calls: FakeToolCall[]; splitArguments: boolean; delayMs: number }
  | { kind: 'fixture'; fileName: string; dialect: Dialect; lines: string[]; delayMs: number }
  | { kind: 'status'; code: number; body: unknown; headers: Record<string, string> }
  | { kind: 'stall'; afterChunks: number; chunks: string[] }
  | { kind: 'hang' }
  | { kind: 'destroy'; afterChunks: number; chunks: string[] };

const defaultText = 'Hello from the fake upstream.';

/** Splits text into word-sized chunks that keep their leading whitespace. */
export function splitWords(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

function toChunks(chunks: string[] | string): string[] {
  return typeof chunks === 'string' ? splitWords(chunks) : chunks;
}

/** Streams text, one SSE event per chunk (a string is split into words); non-streaming requests get it whole. */
export function text(
  chunks: string[] | string,
  { delayMs = 0, usage }: { delayMs?: number; usage?: FakeUsage } = {},
): FakeReply {
  return { kind: 'text', chunks: toChunks(chunks), delayMs, usage };
}

/** A JSON answer: a non-streaming completion whose message content is the JSON text, or that text streamed. */
export function json(value: unknown, { delayMs = 0 }: { delayMs?: number } = {}): FakeReply {
  return { kind: 'json', value, delayMs };
}

/**
 * One response with one or several (parallel) tool calls, finish reason `tool_calls`.
 * With `splitArguments` (the default, as real providers do) each call's arguments arrive as
 * several deltas after a first delta that carries the id and name.
 */
export function toolCalls(
  calls: FakeToolCall[],
  { splitArguments = true, delayMs = 0 }: { splitArguments?: boolean; delayMs?: number } = {},
): FakeReply {
  return { kind: 'tool-calls', calls, splitArguments, delayMs };
}

/**
 * Replays a recorded stream from the shared fixtures, one line per SSE event. Files named
 * `anthropic-*` are Anthropic Messages events and are only served on `POST /v1/messages`;
 * the others are OpenAI-style chunks, served on `POST /v1/chat/completions` and ended by `[DONE]`.
 * Throws at once when the file does not exist.
 */
export function fixture(fileName: string, { delayMs = 0 }: { delayMs?: number } = {}): FakeReply {
  const content = readFileSync(new URL(fileName, fixturesDirectory), 'utf8');
  const lines = content.split('\n').filter((line) => line.trim() !== '');
  const dialect = fileName.startsWith('anthropic-') ? 'anthropic' : 'openai';
  return { kind: 'fixture', fileName, dialect, lines, delayMs };
}

/** An HTTP error; without a body, a JSON error in the route's provider shape. */
export function status(
  code: number,
  { body, headers = {} }: { body?: unknown; headers?: Record<string, string> } = {},
): FakeReply {
  return { kind: 'status', code, body, headers };
}

/** Sends `afterChunks` text chunks, then writes nothing more and keeps the connection open. */
export function stall({
  afterChunks,
  chunks = defaultText,
}: {
  afterChunks: number;
  chunks?: string[] | string;
}): FakeReply {
  return { kind: 'stall', afterChunks, chunks: toChunks(chunks) };
}

/** Sends the response headers (200, event stream) and nothing else. */
export function hang(): FakeReply {
  return { kind: 'hang' };
}

/** Sends `afterChunks` text chunks, then destroys the socket: a network error mid-stream. */
export function destroy({
  afterChunks,
  chunks = defaultText,
}: {
  afterChunks: number;
  chunks?: string[] | string;
}): FakeReply {
  return { kind: 'destroy', afterChunks, chunks: toChunks(chunks) };
}

const requestBodySchema = z.looseObject({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  messages: z.array(z.unknown()).optional(),
  tools: z.array(z.unknown()).optional(),
});

export type UpstreamRequestBody = z.infer<typeof requestBodySchema>;

export interface UpstreamRequest {
  method: string;
  path: string;
  body: UpstreamRequestBody;
  headers: IncomingHttpHeaders;
  /** `Date.now()` when the body had been read. */
  receivedAt: number;
  /** Becomes true when the client closes the connection before the response finished. */
  aborted: boolean;
}

export interface FakeUpstream {
  /** Base URL including `/v1`, for `baseURL` of the AI SDK providers. */
  readonly url: string;
  readonly port: number;
  /** Every request received, oldest first. */
  readonly requests: readonly UpstreamRequest[];
  /** Sockets open right now (keep-alive connections included). */
  readonly openConnections: number;
  /** Requests whose client closed the connection before the response finished. */
  readonly aborted: number;
  /** Queues replies; each incoming streaming request takes the oldest one. */
  enqueue(...replies: FakeReply[]): void;
  /**
   * Queues replies for non-streaming requests (`stream` not true), such as session summaries,
   * which have their own queue so a background summary never takes a reply meant for a chat.
   */
  enqueueGenerate(...replies: FakeReply[]): void;
  /** Resolves with the `count`-th request (1-based, counted since start) once it has arrived. */
  waitForRequest(count?: number, options?: { timeoutMs?: number }): Promise<UpstreamRequest>;
  /** Resolves with the `count`-th aborted request once `aborted` has reached `count`. */
  waitForAbort(count?: number, options?: { timeoutMs?: number }): Promise<UpstreamRequest>;
  /** Closes every socket and the server; pending waits reject. */
  close(): Promise<void>;
}

interface Waiter {
  check: () => boolean;
  fail: (error: Error) => void;
}

interface Exchange {
  request: UpstreamRequest;
  dialect: Dialect;
  response: ServerResponse;
  signal: AbortSignal;
  responseId: string;
  usage: FakeUsage;
}

/** Starts the fake upstream on 127.0.0.1 with a free port. */
/** What non-streaming requests get when nothing is queued for them: a summary-shaped JSON. */
export const defaultGenerateValue = {
  summary: 'A conversation summarized by the fake upstream.',
  title: 'Fake summary',
  topics: ['testing'],
  tools_used: [],
};

export async function startFakeUpstream({
  defaultReply = text(defaultText),
  defaultGenerateReply = json(defaultGenerateValue),
}: { defaultReply?: FakeReply; defaultGenerateReply?: FakeReply } = {}): Promise<FakeUpstream> {
  const queue: FakeReply[] = [];
  const generateQueue: FakeReply[] = [];
  const requests: UpstreamRequest[] = [];
  const abortedRequests: UpstreamRequest[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<Waiter>();
  let closing = false;
  let closed: Promise<void> = Promise.resolve();

  const notifyWaiters = () => {
    for (const waiter of waiters) if (waiter.check()) waiters.delete(waiter);
  };

  function waitFor<T>(
    describe: () => string,
    find: () => T | undefined,
    timeoutMs: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(`fake upstream: timed out after ${timeoutMs} ms waiting for ${describe()}`),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        check: () => {
          const found = find();
          if (found === undefined) return false;
          clearTimeout(timer);
          resolve(found);
          return true;
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      if (!waiter.check()) waiters.add(waiter);
    });
  }

  async function handleRequest(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(incoming.url ?? '/', 'http://fake').pathname;
    const dialect = routes[path];
    const rawBody = await readBody(incoming);
    if (incoming.method !== 'POST' || dialect === undefined) {
      sendError(response, {
        dialect: 'openai',
        code: 404,
        message: `fake upstream: no route ${incoming.method} ${path}`,
      });
      return;
    }
    const parsed = requestBodySchema.safeParse(safeJsonParse(rawBody));
    if (!parsed.success) {
      sendError(response, {
        dialect,
        code: 400,
        message: `fake upstream: request body is not a JSON object: ${rawBody.slice(0, 200)}`,
      });
      return;
    }
    const request: UpstreamRequest = {
      method: incoming.method,
      path,
      body: parsed.data,
      headers: incoming.headers,
      receivedAt: Date.now(),
      aborted: false,
    };
    requests.push(request);

    const controller = new AbortController();
    let destroyedOnPurpose = false;
    response.on('close', () => {
      controller.abort();
      if (response.writableFinished || destroyedOnPurpose || closing) return;
      request.aborted = true;
      abortedRequests.push(request);
      notifyWaiters();
    });
    notifyWaiters();

    const reply =
      request.body.stream === true
        ? (queue.shift() ?? defaultReply)
        : (generateQueue.shift() ?? defaultGenerateReply);
    const exchange: Exchange = {
      request,
      dialect,
      response,
      signal: controller.signal,
      responseId: `fake-${requests.length}`,
      usage: { inputTokens: Math.ceil(rawBody.length / 4), outputTokens: 0 },
    };
    const done = await serveReply(exchange, reply);
    if (done === 'destroy') {
      destroyedOnPurpose = true;
      response.socket?.destroy();
    }
  }

  const server = createServer((incoming, response) => {
    handleRequest(incoming, response).catch((error: unknown) => {
      if (response.destroyed) return;
      if (!response.headersSent) {
        sendError(response, {
          dialect: 'openai',
          code: 500,
          message: `fake upstream failed: ${String(error)}`,
        });
      } else {
        response.destroy();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    get openConnections() {
      return sockets.size;
    },
    get aborted() {
      return abortedRequests.length;
    },
    enqueue(...replies) {
      queue.push(...replies);
    },
    enqueueGenerate(...replies) {
      generateQueue.push(...replies);
    },
    waitForRequest(count = 1, { timeoutMs = 5_000 } = {}) {
      return waitFor(
        () => `request #${count} (received ${requests.length})`,
        () => requests[count - 1],
        timeoutMs,
      );
    },
    waitForAbort(count = 1, { timeoutMs = 5_000 } = {}) {
      return waitFor(
        () => `aborted request #${count} (aborted so far: ${abortedRequests.length})`,
        () => abortedRequests[count - 1],
        timeoutMs,
      );
    },
    async close() {
      if (closing) return closed;
      closing = true;
      for (const waiter of waiters) waiter.fail(new Error('fake upstream closed while waiting'));
      waiters.clear();
      const serverClosed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      const socketsClosed = [...sockets].map(
        (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
      );
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      closed = Promise.all([serverClosed, ...socketsClosed]).then(() => undefined);
      return closed;
    },
  };
}

/** Writes one reply; returns 'destroy' when the socket should be destroyed afterwards. */
async function serveReply(exchange: Exchange, reply: FakeReply): Promise<'destroy' | undefined> {
  const { response, dialect, request } = exchange;
  const streaming = request.body.stream === true;
  try {
    switch (reply.kind) {
      case 'status': {
        const body =
          reply.body ??
          errorBody({ dialect, code: reply.code, message: defaultErrorMessage(reply.code) });
        response.writeHead(reply.code, { 'content-type': 'application/json', ...reply.headers });
        response.end(typeof body === 'string' ? body : JSON.stringify(body));
        return undefined;
      }
      case 'hang':
        writeHeaders(response, streaming);
        return undefined;
      case 'stall':
      case 'destroy': {
        writeHeaders(response, streaming);
        if (streaming) {
          const script = textScript(exchange, reply.chunks);
          await writeEvents(
            exchange,
            [...script.head, ...script.body.slice(0, reply.afterChunks)],
            0,
          );
        }
        return reply.kind === 'destroy' ? 'destroy' : undefined;
      }
      case 'fixture': {
        if (reply.dialect !== dialect || !streaming) {
          const expected = reply.dialect === 'openai' ? '/v1/chat/completions' : '/v1/messages';
          const message = `fake upstream: fixture ${reply.fileName} is replayed only as a stream on ${expected}, not on ${request.path} with stream: ${String(request.body.stream)}`;
          sendError(response, { dialect, code: 400, message });
          return undefined;
        }
        const events = reply.lines.map((line) =>
          dialect === 'openai' ? openAiEvent(line) : anthropicEvent(line),
        );
        if (dialect === 'openai') events.push('data: [DONE]\n\n');
        writeHeaders(response, true);
        await writeEvents(exchange, events, reply.delayMs);
        response.end();
        return undefined;
      }
      case 'text':
      case 'json':
      case 'tool-calls': {
        const chunks =
          reply.kind === 'text'
            ? reply.chunks
            : reply.kind === 'json'
              ? jsonChunks(reply.value)
              : [];
        if (reply.kind === 'text' && reply.usage) exchange.usage = reply.usage;
        else
          exchange.usage.outputTokens =
            reply.kind === 'tool-calls' ? reply.calls.length * 10 : chunks.length;
        if (!streaming) {
          const message =
            reply.kind === 'tool-calls' ? { calls: reply.calls } : { text: chunks.join('') };
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify(
              dialect === 'openai'
                ? openAiCompletion(exchange, message)
                : anthropicMessage(exchange, message),
            ),
          );
          return undefined;
        }
        const script =
          reply.kind === 'tool-calls'
            ? toolCallScript(exchange, reply)
            : textScript(exchange, chunks);
        writeHeaders(response, true);
        await writeEvents(exchange, script.head, 0);
        await writeEvents(exchange, script.body, reply.delayMs);
        await writeEvents(exchange, script.tail, 0);
        response.end();
        return undefined;
      }
    }
  } catch (error) {
    // The client went away (or close() ran) while we waited between chunks: nothing to answer.
    if (exchange.signal.aborted) return undefined;
    throw error;
  }
}

/** A streamed answer in three parts, so that stall/destroy can cut it after some body events. */
interface Script {
  head: string[];
  body: string[];
  tail: string[];
}

function textScript(exchange: Exchange, chunks: string[]): Script {
  if (exchange.dialect === 'anthropic') {
    return {
      head: [
        anthropicEvent(anthropicMessageStart(exchange)),
        anthropicEvent({
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'text', text: '' },
        }),
      ],
      body: chunks.map((chunk) =>
        anthropicEvent({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: chunk },
        }),
      ),
      tail: [
        anthropicEvent({ type: 'content_block_stop', index: 0 }),
        ...anthropicMessageEnd(exchange, 'end_turn'),
      ],
    };
  }
  return {
    head:
      chunks.length === 0
        ? [openAiEvent(openAiChunk(exchange, { role: 'assistant', content: '' }))]
        : [],
    body: chunks.map((chunk, index) =>
      openAiEvent(
        openAiChunk(
          exchange,
          index === 0 ? { role: 'assistant', content: chunk } : { content: chunk },
        ),
      ),
    ),
    tail: openAiStreamEnd(exchange, 'stop'),
  };
}

function toolCallScript(
  exchange: Exchange,
  reply: Extract<FakeReply, { kind: 'tool-calls' }>,
): Script {
  const body: string[] = [];
  reply.calls.forEach((call, index) => {
    const argumentsText = JSON.stringify(call.arguments);
    const pieces = reply.splitArguments ? splitFixed(argumentsText, 8) : [argumentsText];
    if (exchange.dialect === 'anthropic') {
      const id = call.id ?? `toolu_fake_${index}`;
      body.push(
        anthropicEvent({
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id, name: call.name, input: {} },
        }),
      );
      for (const piece of pieces) {
        body.push(
          anthropicEvent({
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: piece },
          }),
        );
      }
      body.push(anthropicEvent({ type: 'content_block_stop', index }));
      return;
    }
    const id = call.id ?? `call_fake_${index}`;
    const first = {
      index,
      id,
      type: 'function',
      function: { name: call.name, arguments: reply.splitArguments ? '' : argumentsText },
    };
    body.push(
      openAiEvent(
        openAiChunk(
          exchange,
          index === 0
            ? { role: 'assistant', content: null, tool_calls: [first] }
            : { tool_calls: [first] },
        ),
      ),
    );
    if (!reply.splitArguments) return;
    for (const piece of pieces) {
      body.push(
        openAiEvent(
          openAiChunk(exchange, { tool_calls: [{ index, function: { arguments: piece } }] }),
        ),
      );
    }
  });
  if (exchange.dialect === 'anthropic') {
    return {
      head: [anthropicEvent(anthropicMessageStart(exchange))],
      body,
      tail: anthropicMessageEnd(exchange, 'tool_use'),
    };
  }
  return { head: [], body, tail: openAiStreamEnd(exchange, 'tool_calls') };
}

// --- OpenAI Chat Completions -------------------------------------------------------------

function openAiEvent(payload: string | object): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}

function openAiChunk(
  exchange: Exchange,
  delta: object,
  finishReason: string | null = null,
): object {
  return {
    id: `chatcmpl-${exchange.responseId}`,
    object: 'chat.completion.chunk',
    created: Math.floor(exchange.request.receivedAt / 1000),
    model: exchange.request.body.model ?? 'fake-model',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

function openAiUsage({ inputTokens, outputTokens }: FakeUsage): object {
  return {
    prompt_tokens: inputTokens,
    completion_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
  };
}

function openAiStreamEnd(exchange: Exchange, finishReason: string): string[] {
  const events = [openAiEvent(openAiChunk(exchange, {}, finishReason))];
  if (exchange.request.body.stream_options?.include_usage === true) {
    events.push(
      openAiEvent({
        ...openAiChunk(exchange, {}),
        choices: [],
        usage: openAiUsage(exchange.usage),
      }),
    );
  }
  events.push('data: [DONE]\n\n');
  return events;
}

function openAiCompletion(
  exchange: Exchange,
  message: { text: string } | { calls: FakeToolCall[] },
): object {
  const toolCallsMessage =
    'calls' in message
      ? {
          content: null,
          tool_calls: message.calls.map((call, index) => ({
            id: call.id ?? `call_fake_${index}`,
            type: 'function',
            function: { name: call.name, arguments: JSON.stringify(call.arguments) },
          })),
        }
      : { content: message.text };
  return {
    id: `chatcmpl-${exchange.responseId}`,
    object: 'chat.completion',
    created: Math.floor(exchange.request.receivedAt / 1000),
    model: exchange.request.body.model ?? 'fake-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', ...toolCallsMessage },
        logprobs: null,
        finish_reason: 'calls' in message ? 'tool_calls' : 'stop',
      },
    ],
    usage: openAiUsage(exchange.usage),
  };
}

// --- Anthropic Messages ------------------------------------------------------------------

type AnthropicPayload = { type: string } & Record<string, unknown>;

function anthropicEvent(payload: string | AnthropicPayload): string {
  const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const type =
    typeof payload === 'string'
      ? z.object({ type: z.string() }).parse(JSON.parse(payload)).type
      : payload.type;
  return `event: ${type}\ndata: ${data}\n\n`;
}

function anthropicMessageStart(exchange: Exchange): AnthropicPayload {
  return {
    type: 'message_start',
    message: {
      id: `msg_${exchange.responseId}`,
      type: 'message',
      role: 'assistant',
      model: exchange.request.body.model ?? 'fake-model',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: exchange.usage.inputTokens, output_tokens: 1 },
    },
  };
}

function anthropicMessageEnd(exchange: Exchange, stopReason: string): string[] {
  return [
    anthropicEvent({
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: exchange.usage.outputTokens },
    }),
    anthropicEvent({ type: 'message_stop' }),
  ];
}

function anthropicMessage(
  exchange: Exchange,
  message: { text: string } | { calls: FakeToolCall[] },
): object {
  const content =
    'calls' in message
      ? message.calls.map((call, index) => ({
          type: 'tool_use',
          id: call.id ?? `toolu_fake_${index}`,
          name: call.name,
          input: call.arguments,
        }))
      : [{ type: 'text', text: message.text }];
  return {
    id: `msg_${exchange.responseId}`,
    type: 'message',
    role: 'assistant',
    model: exchange.request.body.model ?? 'fake-model',
    content,
    stop_reason: 'calls' in message ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: exchange.usage.inputTokens, output_tokens: exchange.usage.outputTokens },
  };
}

// --- HTTP helpers ------------------------------------------------------------------------

function defaultErrorMessage(code: number): string {
  if (code === 429) return 'Rate limit reached (fake upstream).';
  if (code === 503 || code === 529) return 'The server is overloaded (fake upstream).';
  return `Fake upstream error ${code}.`;
}

/** The provider's own error shape, so the SDK extracts the message as it would in production. */
function errorBody({
  dialect,
  code,
  message,
}: {
  dialect: Dialect;
  code: number;
  message: string;
}): object {
  if (dialect === 'anthropic') {
    const type =
      code === 429
        ? 'rate_limit_error'
        : code === 529 || code === 503
          ? 'overloaded_error'
          : code >= 500
            ? 'api_error'
            : 'invalid_request_error';
    return { type: 'error', error: { type, message } };
  }
  const type =
    code === 429 ? 'rate_limit_exceeded' : code >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message, type, param: null, code: type } };
}

function sendError(
  response: ServerResponse,
  options: { dialect: Dialect; code: number; message: string },
): void {
  response.writeHead(options.code, { 'content-type': 'application/json' });
  response.end(JSON.stringify(errorBody(options)));
}

function writeHeaders(response: ServerResponse, streaming: boolean): void {
  response.writeHead(
    200,
    streaming
      ? { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
      : { 'content-type': 'application/json' },
  );
  response.flushHeaders();
}

/** Writes SSE events, `delayMs` apart; the last write is awaited so that a destroy does not cut it off. */
async function writeEvents(
  { response, signal }: Exchange,
  events: string[],
  delayMs: number,
): Promise<void> {
  for (const [index, event] of events.entries()) {
    if (delayMs > 0 && index > 0) await sleep(delayMs, undefined, { signal });
    if (response.destroyed) return;
    const last = index === events.length - 1;
    if (!last) {
      response.write(event);
      continue;
    }
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      response.write(event, () => resolve());
    });
  }
}

function readBody(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    incoming.on('data', (part: Buffer) => parts.push(part));
    incoming.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    incoming.on('error', reject);
  });
}

function safeJsonParse(textValue: string): unknown {
  try {
    return JSON.parse(textValue);
  } catch {
    return undefined;
  }
}

function splitFixed(value: string, size: number): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < value.length; start += size)
    pieces.push(value.slice(start, start + size));
  return pieces.length > 0 ? pieces : [''];
}

function jsonChunks(value: unknown): string[] {
  return splitFixed(JSON.stringify(value), 16);
}
