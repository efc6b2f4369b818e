import type { MouseEvent } from 'react';
import type { SessionInfo } from '../../../src/client/index.ts';
import { formatDuration, formatWhen } from '../format.ts';

function summaryLine(session: SessionInfo): string {
  if (session.summary) return session.summary;
  if (session.status === 'active') return 'In progress';
  if (session.summary_status === 'pending') return 'Writing the summary…';
  if (session.summary_status === 'failed') return 'No summary: it could not be written.';
  return '';
}

function SessionLink({
  session,
  current,
  fallbackTitle,
  onOpen,
}: {
  session: SessionInfo;
  current: boolean;
  fallbackTitle: string | undefined;
  onOpen(sessionId: string): void;
}) {
  const title = session.title ?? fallbackTitle ?? (session.status === 'active' ? 'Conversation in progress' : 'Untitled conversation');
  const onClick = (event: MouseEvent) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onOpen(session.session_id);
  };
  return (
    <a
      href={`/chat/${session.session_id}`}
      className="session-link"
      aria-current={current ? 'page' : undefined}
      onClick={onClick}
      data-session-id={session.session_id}
    >
      <span className="session-title">
        {title}
        {session.status === 'active' && <span className="live-badge">live</span>}
      </span>
      <span className={`session-summary summary-${session.summary_status ?? 'none'}`}>{summaryLine(session)}</span>
      <span className="session-meta">
        <time dateTime={session.started_at}>{formatWhen(session.started_at)}</time>
        {' · '}
        {formatDuration(session.duration_seconds)}
      </span>
    </a>
  );
}

/** The user's conversations, newest first, with who is signed in and a New button. */
export function Sidebar({
  userId,
  sessions,
  nextCursor,
  openSessionId,
  openTitle,
  open,
  onNew,
  onOpen,
  onLoadMore,
  onChangeUser,
  onClose,
}: {
  userId: string;
  sessions: SessionInfo[];
  nextCursor: string | null;
  openSessionId: string | undefined;
  /** A title for the open conversation while the server has none yet (its first message). */
  openTitle: string | undefined;
  open: boolean;
  onNew(): void;
  onOpen(sessionId: string): void;
  onLoadMore(): void;
  onChangeUser(): void;
  onClose(): void;
}) {
  // Sessions in which nothing was said are noise, unless open.
  const shown = sessions.filter((session) => session.message_count > 0 || session.session_id === openSessionId);
  return (
    <>
      <div className="sidebar-backdrop" hidden={!open} onClick={onClose} />
      <aside id="sidebar" className={open ? 'sidebar open' : 'sidebar'} aria-label="Conversations">
        <div className="sidebar-header">
          <span className="brand">Parley</span>
          <button type="button" className="new-button" onClick={onNew}>
            + New conversation
          </button>
        </div>
        <div className="user-line">
          <span>
            Signed in as <strong>{userId}</strong>
          </span>
          <button type="button" className="link-button" onClick={onChangeUser}>
            Change
          </button>
        </div>
        <nav aria-label="Past conversations" className="session-nav">
          {shown.length === 0 ? (
            <p className="sidebar-empty">Your conversations will be listed here.</p>
          ) : (
            <ul className="session-list">
              {shown.map((session) => (
                <li key={session.session_id}>
                  <SessionLink
                    session={session}
                    current={session.session_id === openSessionId}
                    fallbackTitle={session.session_id === openSessionId ? openTitle : undefined}
                    onOpen={onOpen}
                  />
                </li>
              ))}
            </ul>
          )}
          {nextCursor !== null && (
            <button type="button" className="load-more" onClick={onLoadMore}>
              Show older conversations
            </button>
          )}
        </nav>
      </aside>
    </>
  );
}
