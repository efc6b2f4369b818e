/**
 * The load generator: a separate process that drives a relay (Parley or the floor) through
 * Parley's protocol-v1 client. Commands arrive as JSON lines on stdin; answers leave as JSON
 * lines on stdout, so the harness can measure the server between phases.
 *
 *   {"cmd":"connect","count":N}                  opens N more sessions, waits for session.ready
 *   {"cmd":"run","sessions":S,"rampMs":R,…}      S of them each send one message, read the reply
 *   {"cmd":"exit"}
 *
 * Per token it records the added latency: receive time − the upstream's write time (carried in
 * the token, see clock.ts), corrected by the clock offset to the upstream measured at start.
 */
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { ParleyClient, type WebSocketLike } from '../src/client/index.ts';
import { forEachStamp, wallClockMs } from './clock.ts';
import { round, sortedPercentile } from './stats.ts';

const { values } = parseArgs({
  options: { url: { type: 'string' }, upstream: { type: 'string' } },
});
if (!values.url || !values.upstream) throw new Error('--url and --upstream are required');
const serverUrl = values.url;

export interface RunCommand {
  cmd: 'run';
  sessions: number;
  rampMs: number;
  tokensPerReply: number;
  /** Longest a reply may take beyond its expected duration before the session counts as failed. */
  timeoutMs: number;
  expectedReplyMs: number;
  /** Where to write what each session saw (for the durability check). */
  transcriptPath: string;
}

/** What one session saw, for the durability check. */
export interface SessionTranscript {
  sessionId: string;
  userId: string;
  events: { seq: number; type: 'message.created' | 'response.completed'; text: string }[];
}

interface Session {
  client: ParleyClient;
  userId: string;
  reconnects: number;
}

const sessions: Session[] = [];
let clockOffsetMs = 0;

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Upstream clock − ours, from the GET /clock sample with the shortest round trip. */
async function measureClockOffset(upstream: string): Promise<{ offsetMs: number; rttMs: number }> {
  let best = { offsetMs: 0, rttMs: Infinity };
  for (let attempt = 0; attempt < 30; attempt += 1) {
    const before = wallClockMs();
    const { now } = (await (await fetch(`${upstream}/clock`)).json()) as { now: number };
    const after = wallClockMs();
    if (after - before < best.rttMs)
      best = { offsetMs: now - (before + after) / 2, rttMs: after - before };
  }
  return best;
}

async function connect(count: number): Promise<void> {
  const startedAt = performance.now();
  let failed = 0;
  let next = sessions.length;
  const end = sessions.length + count;
  // A bounded number of handshakes in flight, like real users arriving over a moment.
  const worker = async () => {
    while (next < end) {
      const index = next++;
      const userId = `bench-${index}`;
      const client = new ParleyClient({
        url: serverUrl,
        userId,
        WebSocket: WebSocket as unknown as new (url: string) => WebSocketLike,
        validate: false,
        reconnectDelayMs: 500,
      });
      const session: Session = { client, userId, reconnects: 0 };
      client.onState((state) => {
        if (state === 'reconnecting') session.reconnects += 1;
      });
      const ready = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 30_000);
        void client.next('session.ready').then(() => {
          clearTimeout(timer);
          resolve(true);
        });
        client.connect();
      });
      if (ready) sessions.push(session);
      else {
        failed += 1;
        client.close();
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  emit({
    event: 'connected',
    total: sessions.length,
    failed,
    ms: Math.round(performance.now() - startedAt),
  });
}

async function run(command: RunCommand): Promise<void> {
  const chosen = sessions.slice(0, command.sessions);
  const latencies = new Float64Array(chosen.length * command.tokensPerReply * 2);
  let latencyCount = 0;
  /** Added latency of each reply's first token, kept apart too: it waits for commits. */
  const firstAdded: number[] = [];
  const laterAdded = new Float64Array(latencies.length);
  let laterCount = 0;
  const firstTokenMs: number[] = [];
  const transcripts: SessionTranscript[] = [];
  let tokensReceived = 0;
  let completed = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const startAt = performance.now() + 200;
  const deadline = command.rampMs + command.expectedReplyMs + command.timeoutMs;

  const outcomes = chosen.map(
    (session, index) =>
      new Promise<void>((resolve) => {
        const { client } = session;
        const transcript: SessionTranscript = {
          sessionId: client.sessionId!,
          userId: session.userId,
          events: [],
        };
        transcripts.push(transcript);
        let sentAt = 0;
        let tokens = 0;
        let finished = false;
        const finish = (reason: string | undefined) => {
          if (finished) return;
          finished = true;
          stop();
          clearTimeout(timer);
          if (reason === undefined && tokens === command.tokensPerReply) completed += 1;
          else {
            failed += 1;
            const key = reason ?? `tokens ${tokens}/${command.tokensPerReply}`;
            failures[key] = (failures[key] ?? 0) + 1;
          }
          resolve();
        };
        const stop = client.onEvent((event) => {
          switch (event.type) {
            case 'message.created':
              transcript.events.push({ seq: event.seq, type: event.type, text: event.text });
              break;
            case 'response.text.delta': {
              const receivedAt = wallClockMs() + clockOffsetMs;
              if (tokens === 0) firstTokenMs.push(receivedAt - clockOffsetMs - sentAt);
              forEachStamp(event.delta, (writtenAt) => {
                const added = receivedAt - writtenAt;
                if (tokens === 0) firstAdded.push(added);
                else if (laterCount < laterAdded.length) laterAdded[laterCount++] = added;
                tokens += 1;
                tokensReceived += 1;
                if (latencyCount < latencies.length) latencies[latencyCount++] = added;
              });
              break;
            }
            case 'response.completed':
              transcript.events.push({ seq: event.seq, type: event.type, text: event.text });
              finish(undefined);
              break;
            case 'response.failed':
            case 'response.cancelled':
              finish(event.type);
              break;
            default:
              break;
          }
        });
        const timer = setTimeout(() => finish('timeout'), startAt - performance.now() + deadline);
        // Starts spread evenly over the ramp, so tokens do not all arrive in the same instant.
        const offset = (index / Math.max(1, chosen.length)) * command.rampMs;
        setTimeout(
          () => {
            sentAt = wallClockMs();
            if (!client.send('Tell me something, token by token.')) finish('not connected');
          },
          startAt - performance.now() + offset,
        );
      }),
  );
  await Promise.all(outcomes);
  const sorted = latencies.subarray(0, latencyCount).sort();
  const ttft = Float64Array.from(firstTokenMs).sort();
  const first = Float64Array.from(firstAdded).sort();
  const later = laterAdded.subarray(0, laterCount).sort();
  writeFileSync(command.transcriptPath, JSON.stringify(transcripts));
  emit({
    event: 'result',
    sessions: chosen.length,
    completed,
    failed,
    failures,
    reconnects: chosen.reduce((sum, session) => sum + session.reconnects, 0),
    tokens_expected: chosen.length * command.tokensPerReply,
    tokens_received: tokensReceived,
    added_latency_ms: spread(sorted),
    first_token_added_ms: spread(first),
    later_tokens_added_ms: spread(later),
    first_token_ms: spread(ttft),
    clock_offset_ms: round(clockOffsetMs),
  });
}

/** p50, p99 and max of sorted milliseconds, rounded. */
function spread(sorted: Float64Array): { p50: number; p99: number; max: number } {
  return {
    p50: round(sortedPercentile(sorted, 50)),
    p99: round(sortedPercentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? Number.NaN),
  };
}

const clock = await measureClockOffset(values.upstream);
clockOffsetMs = clock.offsetMs;
emit({ event: 'started', clock_offset_ms: clock.offsetMs, clock_rtt_ms: clock.rttMs });

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line) as { cmd: string; count?: number };
  if (command.cmd === 'connect') await connect(command.count!);
  else if (command.cmd === 'run') await run(command as unknown as RunCommand);
  else if (command.cmd === 'exit') break;
}
for (const session of sessions) session.client.close();
emit({ event: 'exited' });
process.exit(0);
