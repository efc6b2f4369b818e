import { memo } from 'react';
import type { AssistantMessage, ConversationItem, UserMessage } from '../conversation/conversation-state.ts';
import { Markdown } from '../markdown/markdown.tsx';
import { ToolCard } from './tool-card.tsx';

const deliveryLabel = { sending: 'Sending…', queued: 'Queued: answered after the current reply', delivered: '', failed: '' };

function UserMessageView({ message, onRetry }: { message: UserMessage; onRetry(key: string): void }) {
  return (
    <article className={`message user delivery-${message.delivery}`} aria-label="You">
      <div className="bubble">{message.text}</div>
      {message.delivery === 'failed' ? (
        <p className="message-status failed" role="alert">
          Not sent{message.error ? `: ${message.error}` : ''}{' '}
          <button type="button" className="link-button" onClick={() => onRetry(message.key)}>
            Retry
          </button>
        </p>
      ) : (
        deliveryLabel[message.delivery] && (
          <p className={`message-status ${message.delivery}`}>{deliveryLabel[message.delivery]}</p>
        )
      )}
    </article>
  );
}

function AssistantMessageView({ message }: { message: AssistantMessage }) {
  const streaming = message.status === 'streaming';
  const lastText = message.parts.findLastIndex((part) => part.kind === 'text');
  return (
    <article className={`message assistant status-${message.status}`} aria-label="Parley" aria-busy={streaming}>
      {message.parts.map((part, index) =>
        part.kind === 'tool' ? (
          <ToolCard key={part.call.callId} call={part.call} />
        ) : (
          <Markdown key={`text-${index}`} text={part.text} streaming={streaming && index === lastText} />
        ),
      )}
      {streaming && (message.parts.length === 0 || message.parts.at(-1)?.kind === 'tool') && (
        <p className="typing" aria-label="Parley is answering">
          <span />
          <span />
          <span />
        </p>
      )}
      {message.status === 'cancelled' && (
        <p className="message-status">Stopped{message.cancelReason && message.cancelReason !== 'client' ? ` (${message.cancelReason.replace('_', ' ')})` : ''}</p>
      )}
      {message.status === 'interrupted' && <p className="message-status">Interrupted: the server stopped while answering</p>}
      {message.status === 'failed' && (
        <p className="message-status failed" role="alert">
          The reply failed: {message.error?.message ?? 'unknown error'}
        </p>
      )}
    </article>
  );
}

/** One message; memoized, so only the message that changed renders again. */
export const MessageView = memo(function MessageView({
  item,
  onRetry,
}: {
  item: ConversationItem;
  onRetry(key: string): void;
}) {
  return item.kind === 'user' ? <UserMessageView message={item} onRetry={onRetry} /> : <AssistantMessageView message={item} />;
});
