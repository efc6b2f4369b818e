import { describe, expect, test } from 'vitest';
import { ResponseTexts } from '../../../src/client/index.ts';
import type { ServerEvent } from '../../../src/protocol/index.ts';
import {
  addLocalMessage,
  applyEvent,
  emptyConversation,
  settleHistory,
  streamingResponse,
  type AssistantMessage,
  type ConversationState,
  type UserMessage,
} from './conversation-state.ts';

const session_id = 'session-1';
let seq = 0;
/** Builds a session event with the next seq. */
function event<T extends ServerEvent['type']>(type: T, fields: Omit<Extract<ServerEvent, { type: T }>, 'type' | 'session_id' | 'seq'>) {
  return { type, session_id, seq: ++seq, ...fields } as unknown as ServerEvent;
}
function applyAll(events: ServerEvent[], state: ConversationState = emptyConversation): ConversationState {
  return events.reduce(applyEvent, state);
}
const created = (message_id: string, text: string, queued = false) =>
  event('message.created', { message_id, role: 'user', text, queued });
const started = (response_id: string, message_id: string) => event('response.started', { response_id, message_id });
const delta = (response_id: string, text: string) => event('response.text.delta', { response_id, delta: text });
const completed = (response_id: string, text: string) =>
  event('response.completed', { response_id, text, finish_reason: 'stop', usage: { input_tokens: 1, output_tokens: 1 } });

function assistant(state: ConversationState, index: number): AssistantMessage {
  const item = state.items[index];
  if (item?.kind !== 'assistant') throw new Error(`item ${index} is not a response`);
  return item;
}

describe('a streamed response', () => {
  test('deltas build the text; tool calls sit inline where they happened', () => {
    const state = applyAll([
      created('m1', 'what is 12*(3+4)?'),
      started('r1', 'm1'),
      delta('r1', 'Let me '),
      delta('r1', 'compute. '),
      event('tool.call', { response_id: 'r1', call_id: 'c1', name: 'calculate', arguments: { expression: '12*(3+4)' } }),
      event('tool.result', { response_id: 'r1', call_id: 'c1', name: 'calculate', result: { value: 84 }, duration_ms: 3 }),
      delta('r1', 'It is '),
      delta('r1', '84.'),
    ]);
    const response = assistant(state, 1);
    expect(response.status).toBe('streaming');
    expect(response.text).toBe('Let me compute. It is 84.');
    expect(response.parts).toEqual([
      { kind: 'text', text: 'Let me compute. ' },
      {
        kind: 'tool',
        call: { callId: 'c1', name: 'calculate', arguments: { expression: '12*(3+4)' }, status: 'done', result: { value: 84 }, durationMs: 3 },
      },
      { kind: 'text', text: 'It is 84.' },
    ]);
    expect(streamingResponse(state)?.responseId).toBe('r1');
    const done = applyEvent(state, completed('r1', 'Let me compute. It is 84.'));
    expect(assistant(done, 1).status).toBe('completed');
    expect(assistant(done, 1).parts).toEqual(response.parts);
    expect(streamingResponse(done)).toBeUndefined();
  });

  test('a tool error is kept on its card', () => {
    const state = applyAll([
      started('r2', 'm0'),
      event('tool.call', { response_id: 'r2', call_id: 'c2', name: 'get_current_time', arguments: { timezone: 'Mars/Base' } }),
      event('tool.result', { response_id: 'r2', call_id: 'c2', name: 'get_current_time', error: { code: 'invalid_timezone', message: 'Unknown time zone' }, duration_ms: 1 }),
    ]);
    const part = assistant(state, 0).parts[0];
    expect(part).toMatchObject({ kind: 'tool', call: { status: 'error', error: { code: 'invalid_timezone' } } });
  });

  test('a snapshot replaces the text; later deltas append to it; repeats by seq are ignored', () => {
    let state = applyAll([started('r3', 'm3'), delta('r3', 'Hel')]);
    const repeat = { ...(delta('r3', 'lo') as ServerEvent), seq: state.lastSeq };
    expect(applyEvent(state, repeat)).toBe(state);
    state = applyEvent(state, { type: 'response.snapshot', session_id, seq: state.lastSeq, response_id: 'r3', text: 'Hello, wor', status: 'streaming' });
    state = applyEvent(state, delta('r3', 'ld'));
    expect(assistant(state, 0).text).toBe('Hello, world');
  });

  test('an ending whose text differs from the deltas wins', () => {
    const state = applyAll([started('r4', 'm4'), delta('r4', 'draft'), event('response.cancelled', { response_id: 'r4', text: 'final', reason: 'client' })]);
    expect(assistant(state, 0)).toMatchObject({ text: 'final', status: 'cancelled', cancelReason: 'client', parts: [{ kind: 'text', text: 'final' }] });
  });

  test('gives the same text as ResponseTexts for the same events', () => {
    const events = [
      started('r5', 'm5'),
      ...'The quick brown fox jumps'.split(' ').map((word) => delta('r5', `${word} `)),
      event('response.snapshot', { response_id: 'r5', text: 'The quick brown fox jumps over ', status: 'streaming' }),
      delta('r5', 'the dog.'),
    ];
    const texts = new ResponseTexts();
    for (const each of events) texts.apply(each);
    expect(assistant(applyAll(events), 0).text).toBe(texts.get('r5')!.text);
  });
});

describe('user messages', () => {
  test('a message typed here is acknowledged in place, queued, then answered', () => {
    let state = addLocalMessage(emptyConversation, { key: 'local-1', text: 'first' });
    state = applyAll([created('m1', 'first'), started('r1', 'm1')], state);
    state = addLocalMessage(state, { key: 'local-2', text: 'second' });
    expect((state.items[2] as UserMessage).delivery).toBe('sending');
    state = applyEvent(state, created('m2', 'second', true));
    expect(state.items[2]).toMatchObject({ key: 'local-2', messageId: 'm2', delivery: 'queued' });
    state = applyAll([completed('r1', 'one'), started('r2', 'm2')], state);
    expect(state.items.map((item) => item.key)).toEqual(['local-1', 'r1', 'local-2', 'r2']);
    expect(state.items[2]).toMatchObject({ delivery: 'delivered' });
  });

  test('an answer goes after its question, before messages still waiting', () => {
    let state = applyAll([created('m1', 'one')]);
    state = addLocalMessage(state, { key: 'local-9', text: 'two' });
    state = applyEvent(state, started('r1', 'm1'));
    expect(state.items.map((item) => item.key)).toEqual(['m1', 'r1', 'local-9']);
  });

  test('a history without a live connection settles', () => {
    const state = settleHistory(applyAll([created('m1', 'one'), started('r1', 'm1'), delta('r1', 'partial'), created('m2', 'two', true)]));
    expect(assistant(state, 1).status).toBe('interrupted');
    expect(state.items[2]).toMatchObject({ delivery: 'delivered' });
  });
});
