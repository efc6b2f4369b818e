/**
 * The bench upstream: a fake OpenAI-compatible provider in its own process. Every streamed
 * chat completion sends `tokens` tokens at `rate` tokens per second; each token's text is the
 * wall-clock time it was written (see clock.ts), so whoever receives it can compute the delay
 * added after the upstream. Non-streaming requests (e.g. a summary) get a small JSON answer.
 *
 *   node bench/upstream.ts --tokens 100 --rate 20      prints {"port": N} once listening
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { stampedToken, wallClockMs } from './clock.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    tokens: { type: 'string', default: '100' },
    rate: { type: 'string', default: '20' },
  },
});
const tokens = Number(values.tokens);
const intervalMs = 1000 / Number(values.rate);

let streams = 0;
let tokensWritten = 0;

function chunk(
  id: string,
  delta: Record<string, unknown>,
  finishReason: string | null = null,
): string {
  return `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: 'bench',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  })}\n\n`;
}

function stream(response: ServerResponse, includeUsage: boolean): void {
  streams += 1;
  const id = `chatcmpl-${streams}`;
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  response.write(chunk(id, { role: 'assistant', content: '' }));
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const startedAt = performance.now();
  const next = () => {
    if (response.destroyed) return;
    // The stamp is taken right before the write: the upstream's own timer lateness is not
    // counted against the relay.
    response.write(chunk(id, { content: stampedToken() }));
    sent += 1;
    tokensWritten += 1;
    if (sent === tokens) {
      response.write(chunk(id, {}, 'stop'));
      if (includeUsage) {
        response.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: 'bench', choices: [], usage: { prompt_tokens: 10, completion_tokens: tokens, total_tokens: 10 + tokens } })}\n\n`,
        );
      }
      response.end('data: [DONE]\n\n');
      return;
    }
    // Scheduled against the start, so tokens keep their rate even when one timer fires late.
    timer = setTimeout(next, Math.max(0, startedAt + sent * intervalMs - performance.now()));
  };
  response.on('close', () => clearTimeout(timer));
  next();
}

function complete(response: ServerResponse): void {
  const content = JSON.stringify({
    title: 'Bench',
    summary: 'A benchmark session.',
    topics: ['bench'],
    tools_used: [],
  });
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      id: 'chatcmpl-json',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: 'bench',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
    }),
  );
}

const server = createServer(function handle(request: IncomingMessage, response: ServerResponse) {
  if (request.method === 'GET' && request.url === '/clock') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ now: wallClockMs() }));
    return;
  }
  if (request.method === 'GET' && request.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ streams, tokensWritten }));
    return;
  }
  if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
    response.writeHead(404).end();
    return;
  }
  const parts: Buffer[] = [];
  request.on('data', (part: Buffer) => parts.push(part));
  request.on('end', () => {
    let body: { stream?: boolean; stream_options?: { include_usage?: boolean } };
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      response.writeHead(400).end();
      return;
    }
    if (body.stream) stream(response, body.stream_options?.include_usage === true);
    else complete(response);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
