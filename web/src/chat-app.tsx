import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { ParleyHistory, type ModelInfo } from '../../src/client/index.ts';
import { Composer } from './components/composer.tsx';
import { ConnectionBadge, connectionLabel } from './components/connection-badge.tsx';
import { DemoBanner } from './components/demo-banner.tsx';
import { MessageList } from './components/message-list.tsx';
import { Sidebar } from './components/sidebar.tsx';
import { ConversationStore, type ConversationSnapshot } from './conversation/conversation-store.ts';
import { emptyConversation } from './conversation/conversation-state.ts';
import { useOnline } from './hooks/use-online.ts';
import { useRoute } from './hooks/use-route.ts';
import { useSessionList } from './hooks/use-session-list.ts';

const noStore: ConversationSnapshot = {
  conversation: emptyConversation,
  sessionId: undefined,
  connection: 'idle',
  loading: true,
  problem: undefined,
  notice: undefined,
  model: undefined,
  streaming: false,
};
const subscribeNothing = () => () => {};

/** The signed-in screen: conversations on the side, the open one in the middle. */
export function ChatApp({ userId, onChangeUser }: { userId: string; onChangeUser(): void }) {
  const history = useMemo(() => new ParleyHistory({ userId }), [userId]);
  const { route, open, name } = useRoute();
  const [store, setStore] = useState<ConversationStore>();
  const [serverModel, setServerModel] = useState<ModelInfo>();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const snapshot = useSyncExternalStore(store?.subscribe ?? subscribeNothing, store?.getSnapshot ?? (() => noStore));
  const list = useSessionList(history, snapshot.sessionId ?? route.sessionId);
  const { refresh } = list;

  useEffect(() => {
    const conversation = new ConversationStore({
      url: location.origin,
      userId,
      history,
      ...(route.sessionId !== undefined ? { sessionId: route.sessionId } : {}),
      onSessionStarted: (sessionId) => {
        name(sessionId);
        refresh();
      },
      onSummary: refresh,
      onActivity: refresh,
    });
    setStore(conversation);
    void conversation.load();
    return () => conversation.dispose();
  }, [route.key, route.sessionId, userId, history, name, refresh]);

  useEffect(() => {
    history.modelInfo().then(setServerModel, () => {});
  }, [history]);

  const reconnect = useCallback(() => store?.reconnectNow(), [store]);
  const online = useOnline(reconnect);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      if (drawerOpen) setDrawerOpen(false);
      else if (snapshot.streaming && store?.cancel()) event.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [drawerOpen, snapshot.streaming, store]);

  const model = snapshot.model ?? serverModel;
  const items = snapshot.conversation.items;
  const firstMessage = items.find((item) => item.kind === 'user')?.text;
  const listed = list.sessions.find((session) => session.session_id === snapshot.sessionId);
  const title = listed?.title ?? firstMessage ?? 'New conversation';
  const label = connectionLabel({ connection: snapshot.connection, online, serverReachable: list.reachable });

  useEffect(() => {
    document.title = `${title} · Parley`;
  }, [title]);

  const openSession = (sessionId: string | undefined) => {
    setDrawerOpen(false);
    if (sessionId !== undefined && sessionId === snapshot.sessionId) return;
    open(sessionId);
  };

  return (
    <div className="app">
      <Sidebar
        userId={userId}
        sessions={list.sessions}
        nextCursor={list.nextCursor}
        openSessionId={snapshot.sessionId}
        openTitle={firstMessage}
        open={drawerOpen}
        onNew={() => openSession(undefined)}
        onOpen={openSession}
        onLoadMore={list.loadMore}
        onChangeUser={onChangeUser}
        onClose={() => setDrawerOpen(false)}
      />
      <main className="chat">
        <header className="chat-header">
          <button
            type="button"
            className="menu-button"
            aria-label="Conversations"
            aria-controls="sidebar"
            aria-expanded={drawerOpen}
            onClick={() => setDrawerOpen(true)}
          >
            <span aria-hidden="true">☰</span>
          </button>
          <h1 className="chat-title" title={title}>
            {title}
          </h1>
          {model && <span className="model-name">{model.model}</span>}
          <ConnectionBadge label={label} />
        </header>
        {model?.demo && <DemoBanner />}
        {snapshot.problem !== undefined && (
          <div className="problem" role="alert">
            {snapshot.problem}{' '}
            <button type="button" className="link-button" onClick={() => openSession(undefined)}>
              Start a new conversation
            </button>
          </div>
        )}
        {snapshot.notice !== undefined && (
          <div className="notice" role="status">
            {snapshot.notice}
          </div>
        )}
        <MessageList
          items={items}
          loading={snapshot.loading}
          streaming={snapshot.streaming}
          onRetry={(key) => store?.retry(key)}
          onSuggestion={(text) => store?.send(text)}
          onStop={() => store?.cancel()}
        />
        <Composer
          key={route.key}
          streaming={snapshot.streaming}
          disabled={snapshot.problem !== undefined || store === undefined}
          onSend={(text) => store?.send(text)}
        />
      </main>
    </div>
  );
}
