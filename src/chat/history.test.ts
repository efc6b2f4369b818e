import { describe, expect, test } from 'vitest';
import {
  buildModelMessages,
  Transcript,
  type StoredEvent,
  type TranscriptEntry,
} from './history.ts';

let seq = 0;
const event = (
  eventType: string,
  content: string | null,
  metadata: Record<string, unknown> = {},
): StoredEvent => ({
  seq: ++seq,
  eventType,
  content,
  metadata,
});

describe('Transcript', () => {
  test('places a queued message after the answer that was streaming when it arrived', () => {
    const transcript = new Transcript([
      event('user_message', 'one', { message_id: 'm1' }),
      event('response_started', null, { message_id: 'm1', response_id: 'r1' }),
      event('user_message', 'two', { message_id: 'm2' }),
      event('assistant_message', 'answer one', { response_id: 'r1' }),
    ]);
    expect(transcript.entries).toEqual([
      { kind: 'user', text: 'one' },
      { kind: 'assistant', text: 'answer one' },
    ]);
    expect(transcript.unanswered).toEqual([{ messageId: 'm2', text: 'two' }]);
    transcript.add(event('response_started', null, { message_id: 'm2', response_id: 'r2' }));
    expect(transcript.entries.at(-1)).toEqual({ kind: 'user', text: 'two' });
    expect(transcript.unanswered).toEqual([]);
  });

  test('keeps partial text of cancelled and failed answers, skips empty ones', () => {
    const transcript = new Transcript([
      event('user_message', 'a', { message_id: 'm1' }),
      event('response_started', null, { message_id: 'm1' }),
      event('response_cancelled', 'half an ans', {}),
      event('user_message', 'b', { message_id: 'm2' }),
      event('response_started', null, { message_id: 'm2' }),
      event('response_failed', '', {}),
    ]);
    expect(transcript.entries).toEqual([
      { kind: 'user', text: 'a' },
      { kind: 'assistant', text: 'half an ans' },
      { kind: 'user', text: 'b' },
    ]);
  });
});

describe('buildModelMessages', () => {
  const turn = (index: number, size = 40): TranscriptEntry[] => [
    { kind: 'user', text: `question ${index} ${'x'.repeat(size)}` },
    { kind: 'assistant', text: `answer ${index} ${'y'.repeat(size)}` },
  ];

  test('groups parallel tool calls and results into one assistant and one tool message', () => {
    const messages = buildModelMessages(
      [
        { kind: 'user', text: 'time and math' },
        { kind: 'tool_call', callId: 'c1', name: 'calculate', input: { expression: '1+1' } },
        { kind: 'tool_call', callId: 'c2', name: 'get_current_time', input: {} },
        { kind: 'tool_result', callId: 'c1', name: 'calculate', result: { result: '2' } },
        { kind: 'tool_result', callId: 'c2', name: 'get_current_time', error: 'boom' },
        { kind: 'assistant', text: 'Two, and the clock failed.' },
      ],
      10_000,
    );
    expect(messages.map((message) => message.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);
    expect(messages[1]!.content).toHaveLength(2);
    expect(messages[2]!.content).toEqual([
      {
        type: 'tool-result',
        toolCallId: 'c1',
        toolName: 'calculate',
        output: { type: 'json', value: { result: '2' } },
      },
      {
        type: 'tool-result',
        toolCallId: 'c2',
        toolName: 'get_current_time',
        output: { type: 'error-text', value: 'boom' },
      },
    ]);
  });

  test('drops a tool call that never got its result (a crash mid-tool)', () => {
    const messages = buildModelMessages(
      [
        { kind: 'user', text: 'hi' },
        { kind: 'tool_call', callId: 'lost', name: 'calculate', input: {} },
        { kind: 'user', text: 'again' },
      ],
      10_000,
    );
    expect(messages).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'user', content: 'again' },
    ]);
  });

  test('keeps the newest whole turns within the budget, and always the last turn', () => {
    const entries = Array.from({ length: 50 }, (_, index) => turn(index)).flat();
    const messages = buildModelMessages(entries, 200);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.length).toBeLessThan(entries.length);
    expect(messages[0]!.role).toBe('user');
    expect(messages.at(-1)).toEqual({
      role: 'assistant',
      content:
        entries.at(-1)!.kind === 'assistant' ? (entries.at(-1) as { text: string }).text : '',
    });
    const huge = buildModelMessages(turn(1, 100_000), 100);
    expect(huge).toHaveLength(2);
  });
});
