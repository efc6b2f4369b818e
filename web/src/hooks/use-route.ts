import { useCallback, useEffect, useState } from 'react';

/**
 * The open conversation, in the URL as `/chat/<session id>` (`/` for a new one). `key` changes
 * when the user opens another conversation, not when a new one gets its id from the server.
 */
export interface Route {
  key: number;
  sessionId: string | undefined;
}

const chatPath = /^\/chat\/([0-9a-fA-F-]{36})\/?$/;

function sessionFromLocation(): string | undefined {
  return chatPath.exec(location.pathname)?.[1];
}

let keys = 0;

export function useRoute() {
  const [route, setRoute] = useState<Route>(() => ({ key: ++keys, sessionId: sessionFromLocation() }));

  useEffect(() => {
    const onPop = () => setRoute({ key: ++keys, sessionId: sessionFromLocation() });
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  /** Opens a conversation (or a new one) and adds it to the browser history. */
  const open = useCallback((sessionId: string | undefined) => {
    const path = sessionId === undefined ? '/' : `/chat/${sessionId}`;
    if (location.pathname !== path) history.pushState(null, '', path);
    setRoute({ key: ++keys, sessionId });
  }, []);

  /** Records the id a new conversation got, without reopening it. */
  const name = useCallback((sessionId: string) => {
    history.replaceState(null, '', `/chat/${sessionId}`);
  }, []);

  return { route, open, name };
}
