// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import type { AssistantMessage, ConversationItem } from '../conversation/conversation-state.ts';
import { renderMarkdown } from '../markdown/render-markdown.ts';
import { MessageList } from './message-list.tsx';

vi.mock('../markdown/render-markdown.ts', { spy: true });
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLElement;
let root: Root;
beforeEach(() => {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});
afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

function response(key: string, text: string, status: AssistantMessage['status']): AssistantMessage {
  return { kind: 'assistant', key, responseId: key, messageId: undefined, parts: [{ kind: 'text', text }], text, status };
}

function render(items: ConversationItem[]) {
  act(() => root.render(<MessageList items={items} loading={false} streaming={false} onRetry={() => {}} onSuggestion={() => {}} onStop={() => {}} />));
}

test('while a reply streams, only that message renders its markdown again', () => {
  const finished = response('r1', 'Earlier answer with a list:\n\n- a\n- b', 'completed');
  const question: ConversationItem = { kind: 'user', key: 'm2', messageId: 'm2', text: 'And **now**?', delivery: 'delivered' };
  let streamed = '';
  const words = ['Here', ' is', ' a', ' `code`', ' word', ' and', ' a', ' table:\n\n| x |\n| - |\n| 1 |'];
  for (const word of words) {
    streamed += word;
    render([finished, question, response('r2', streamed, 'streaming')]);
  }
  const calls = vi.mocked(renderMarkdown).mock.calls.map(([text]) => text);
  expect(calls.filter((text) => text === finished.text)).toHaveLength(1);
  expect(calls.filter((text) => text !== finished.text)).toHaveLength(words.length);

  const messages = container.querySelectorAll('article');
  expect(messages).toHaveLength(3);
  // The user's text is shown as typed, not as markdown.
  expect(messages[1]!.textContent).toBe('And **now**?');
  const streaming = messages[2]!;
  expect(streaming.getAttribute('aria-busy')).toBe('true');
  expect(streaming.querySelector('.markdown.streaming code')?.textContent).toBe('code');
  expect(streaming.querySelector('table td')?.textContent).toBe('1');

  render([finished, question, response('r2', streamed, 'cancelled')]);
  expect(container.querySelectorAll('article')[2]!.textContent).toContain('Stopped');
  expect(container.querySelector('.markdown.streaming')).toBeNull();
});

test('queued and failed messages say so; failed ones can be retried', () => {
  const onRetry = vi.fn();
  act(() =>
    root.render(
      <MessageList
        items={[
          { kind: 'user', key: 'local-1', messageId: 'm1', text: 'next one', delivery: 'queued' },
          { kind: 'user', key: 'local-2', messageId: undefined, text: 'too big', delivery: 'failed', error: 'The message is too large.' },
        ]}
        loading={false}
        streaming={false}
        onRetry={onRetry}
        onSuggestion={() => {}}
        onStop={() => {}}
      />,
    ),
  );
  const [queued, failed] = container.querySelectorAll('article');
  expect(queued!.textContent).toContain('Queued');
  expect(failed!.textContent).toContain('Not sent: The message is too large.');
  act(() => failed!.querySelector('button')!.click());
  expect(onRetry).toHaveBeenCalledWith('local-2');
});
