/**
 * The floor: the least a relay can do with the same load. Plain `ws` and `fetch`, no
 * framework, no database, no validation beyond JSON.parse. It speaks just enough of protocol
 * v1 (session.ready, message.created, response.started, response.text.delta,
 * response.completed) for the same load generator to drive it. Every Parley figure is shown
 * beside this one, measured in the same run on the same machine.
 *
 *   node bench/floor-relay.ts --upstream http://127.0.0.1:N/v1     prints {"port": N}
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, upstream: { type: 'string' } },
});
if (!values.upstream) throw new Error('--upstream is required');
const completionsUrl = `${values.upstream.replace(/\/$/, '')}/chat/completions`;

let loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let sockets = 0;

const server = createServer(function metrics(request, response) {
  if (request.url !== '/metrics') {
    response.writeHead(404).end();
    return;
  }
  const sample = loopDelay;
  loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  sample.disable();
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      rss_bytes: process.memoryUsage.rss(),
      heap_used_bytes: process.memoryUsage().heapUsed,
      connected_sockets: sockets,
      event_loop_delay_ms: {
        p50: Math.round(sample.percentile(50) / 1e4) / 100,
        p99: Math.round(sample.percentile(99) / 1e4) / 100,
        max: Math.round(sample.max / 1e4) / 100,
      },
    }),
  );
});

const wss = new WebSocketServer({ server, path: '/ws/session' });
wss.on('connection', function relay(socket: WebSocket) {
  sockets += 1;
  const sessionId = randomUUID();
  let seq = 0;
  const send = (event: Record<string, unknown>) => {
    if (socket.readyState === socket.OPEN)
      socket.send(JSON.stringify({ ...event, session_id: sessionId, seq }));
  };
  send({
    type: 'session.ready',
    protocol: 1,
    user_id: 'floor',
    resumed: false,
    model: 'bench',
    provider: 'floor',
    demo: false,
    last_seq: 0,
    response_in_flight: false,
  });
  socket.on('close', () => (sockets -= 1));
  socket.on('message', (data) => {
    let frame: { type?: string; text?: string };
    try {
      frame = JSON.parse(String(data));
    } catch {
      return;
    }
    if (frame.type !== 'user.message' || typeof frame.text !== 'string') return;
    const messageId = randomUUID();
    const responseId = randomUUID();
    seq += 1;
    send({
      type: 'message.created',
      message_id: messageId,
      role: 'user',
      text: frame.text,
      queued: false,
    });
    seq += 1;
    send({ type: 'response.started', response_id: responseId, message_id: messageId });
    void streamReply(frame.text, (delta) => {
      seq += 1;
      send({ type: 'response.text.delta', response_id: responseId, delta });
    }).then(
      (text) => {
        seq += 1;
        send({
          type: 'response.completed',
          response_id: responseId,
          text,
          finish_reason: 'stop',
          usage: { input_tokens: 0, output_tokens: 0 },
        });
      },
      (error: unknown) => {
        seq += 1;
        send({
          type: 'response.failed',
          response_id: responseId,
          text: '',
          error: { code: 'upstream_error', message: String(error) },
        });
      },
    );
  });
});

/** Streams one completion from the upstream; returns the whole text. */
async function streamReply(text: string, onDelta: (delta: string) => void): Promise<string> {
  const response = await fetch(completionsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'bench',
      stream: true,
      messages: [{ role: 'user', content: text }],
    }),
  });
  if (!response.ok || !response.body) throw new Error(`upstream answered ${response.status}`);
  const decoder = new TextDecoder();
  let pending = '';
  let whole = '';
  for await (const bytes of response.body) {
    pending += decoder.decode(bytes, { stream: true });
    let end = pending.indexOf('\n\n');
    while (end !== -1) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 2);
      end = pending.indexOf('\n\n');
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      const content = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
      if (typeof content === 'string' && content.length > 0) {
        whole += content;
        onDelta(content);
      }
    }
  }
  return whole;
}

server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
