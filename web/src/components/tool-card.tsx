import { memo } from 'react';
import type { ToolCall } from '../conversation/conversation-state.ts';
import { pretty, preview } from '../format.ts';

const statusLabel = { running: 'running…', done: 'done', error: 'failed' } as const;

/**
 * One tool call, inline in the reply: name, arguments and status at a glance; arguments and
 * result (or error) in full when opened.
 */
export const ToolCard = memo(function ToolCard({ call }: { call: ToolCall }) {
  const outcome = call.status === 'error' ? call.error?.message : call.status === 'done' ? preview(call.result, 60) : undefined;
  return (
    <details className={`tool-card tool-${call.status}`} data-tool={call.name}>
      <summary>
        <span className="tool-icon" aria-hidden="true">
          {call.status === 'running' ? '⋯' : call.status === 'error' ? '!' : '✓'}
        </span>
        <span className="tool-name">{call.name}</span>
        <span className="tool-args">({preview(call.arguments, 48)})</span>
        <span className="tool-meta">
          <span className="tool-status">{statusLabel[call.status]}</span>
          {call.durationMs !== undefined && <span className="tool-duration"> · {Math.round(call.durationMs)} ms</span>}
        </span>
        {outcome !== undefined && <span className="tool-outcome">→ {outcome}</span>}
      </summary>
      <div className="tool-body">
        <div className="tool-section">
          <h4>Arguments</h4>
          <pre>{pretty(call.arguments)}</pre>
        </div>
        {call.status === 'error' && call.error ? (
          <div className="tool-section tool-error-body">
            <h4>Error ({call.error.code})</h4>
            <pre>{call.error.message}</pre>
          </div>
        ) : (
          <div className="tool-section">
            <h4>Result</h4>
            <pre>{call.status === 'running' ? 'Waiting for the tool…' : pretty(call.result)}</pre>
          </div>
        )}
      </div>
    </details>
  );
});
