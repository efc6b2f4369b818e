import { memo, useMemo, type MouseEvent } from 'react';
import { renderMarkdown } from './render-markdown.ts';

/** Copies a code block when its Copy button (rendered inside the Markdown HTML) is clicked. */
function copyCode(event: MouseEvent<HTMLDivElement>): void {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-copy]');
  const code = button?.closest('.code-block')?.querySelector('code')?.textContent;
  if (!button || code === undefined || code === null) return;
  void navigator.clipboard?.writeText(code).then(() => {
    button.textContent = 'Copied';
    setTimeout(() => (button.textContent = 'Copy'), 1500);
  });
}

/**
 * Model text as sanitized Markdown. Memoized on the text: a finished message never renders
 * again, and a streaming one once per published frame.
 */
export const Markdown = memo(function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return (
    <div
      className={streaming ? 'markdown streaming' : 'markdown'}
      onClick={copyCode}
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
});
