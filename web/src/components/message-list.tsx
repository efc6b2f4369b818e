import type { ConversationItem } from '../conversation/conversation-state.ts';
import { useAutoScroll } from '../hooks/use-auto-scroll.ts';
import { MessageView } from './message-view.tsx';

const suggestions = ['What time is it in Tokyo?', 'What is 12*(3+4)?', 'Give me a long answer about Parley'];

/** The conversation, following new text unless the user has scrolled up to read. */
export function MessageList({
  items,
  loading,
  streaming,
  onRetry,
  onSuggestion,
  onStop,
}: {
  items: readonly ConversationItem[];
  loading: boolean;
  streaming: boolean;
  onRetry(key: string): void;
  onSuggestion(text: string): void;
  onStop(): void;
}) {
  const { ref, onScroll, behind, jumpToLatest } = useAutoScroll<HTMLDivElement>(items);
  return (
    <div className="messages-frame">
      <div ref={ref} className="messages" onScroll={onScroll} role="log" aria-label="Conversation" aria-live="polite">
        <div className="messages-inner">
          {loading && <p className="empty">Loading the conversation…</p>}
          {!loading && items.length === 0 && (
            <div className="empty">
              <h2>Start a conversation</h2>
              <p>Ask anything. Replies stream in as they are written; tools run on the server.</p>
              <ul className="suggestions" aria-label="Suggestions">
                {suggestions.map((text) => (
                  <li key={text}>
                    <button type="button" onClick={() => onSuggestion(text)}>
                      {text}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )}
          {items.map((item) => (
            <MessageView key={item.key} item={item} onRetry={onRetry} />
          ))}
        </div>
      </div>
      {/* Floats over the conversation: showing it moves nothing. */}
      {streaming && (
        <button type="button" className="stop-button" onClick={onStop} title="Stop the reply (Esc)">
          <span aria-hidden="true">■</span> Stop
        </button>
      )}
      {behind && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          ↓ Latest
        </button>
      )}
    </div>
  );
}
