// @vitest-environment jsdom
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { ToolCall } from '../conversation/conversation-state.ts';
import { ToolCard } from './tool-card.tsx';

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

function render(call: ToolCall): HTMLDetailsElement {
  act(() => root.render(<ToolCard call={call} />));
  return container.querySelector('details')!;
}

test('a finished call shows name, arguments, result and duration; collapsed until opened', () => {
  const card = render({
    callId: 'c1',
    name: 'calculate',
    arguments: { expression: '12*(3+4)' },
    status: 'done',
    result: { result: '84', value: 84 },
    durationMs: 3.4,
  });
  const summary = card.querySelector('summary')!;
  expect(summary.querySelector('.tool-name')?.textContent).toBe('calculate');
  expect(summary.textContent).toContain('"expression":"12*(3+4)"');
  expect(summary.textContent).toContain('done');
  expect(summary.textContent).toContain('3 ms');
  expect(summary.textContent).toContain('→ {"result":"84","value":84}');
  expect(card.open).toBe(false);
  const sections = [...card.querySelectorAll('.tool-section')].map((section) => section.textContent);
  expect(sections[0]).toContain('"expression": "12*(3+4)"');
  expect(sections[1]).toContain('"value": 84');
  card.open = true;
  expect(card.open).toBe(true);
});

test('a running call says so; a failed one shows its error', () => {
  let card = render({ callId: 'c2', name: 'get_current_time', arguments: { timezone: 'Asia/Tokyo' }, status: 'running' });
  expect(card.className).toContain('tool-running');
  expect(card.textContent).toContain('running…');
  expect(card.textContent).toContain('Waiting for the tool');
  card = render({
    callId: 'c2',
    name: 'get_current_time',
    arguments: { timezone: 'Mars/Base' },
    status: 'error',
    error: { code: 'invalid_timezone', message: 'Unknown time zone "Mars/Base"' },
    durationMs: 1,
  });
  expect(card.className).toContain('tool-error');
  expect(card.querySelector('.tool-outcome')?.textContent).toBe('→ Unknown time zone "Mars/Base"');
  expect(card.querySelector('.tool-error-body')?.textContent).toContain('invalid_timezone');
});
