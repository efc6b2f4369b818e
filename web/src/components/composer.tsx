import { useRef, useState, type FormEvent, type KeyboardEvent } from 'react';

/**
 * Where the user writes. Enter sends, Shift+Enter adds a line; while a reply streams a message
 * still sends (it queues behind the reply).
 */
export function Composer({
  streaming,
  disabled,
  onSend,
}: {
  streaming: boolean;
  disabled: boolean;
  onSend(text: string): void;
}) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const message = text.trim();
    if (message === '' || disabled) return;
    onSend(message);
    setText('');
    input.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer" onSubmit={submit} aria-label="Send a message">
      <div className="composer-box">
        <textarea
          ref={input}
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          rows={1}
          placeholder={streaming ? 'Write the next message: it waits for this reply…' : 'Message Parley…'}
          aria-label="Message"
          aria-describedby="composer-hint"
          disabled={disabled}
          autoFocus
        />
        <button type="submit" className="send-button" disabled={disabled || text.trim() === ''}>
          Send
        </button>
      </div>
      <p id="composer-hint" className="composer-hint">
        Enter to send · Shift+Enter for a new line · Esc stops a reply
      </p>
    </form>
  );
}
