import { useCallback, useEffect, useRef, useState } from 'react';
import type { ParleyHistory, SessionInfo, SessionPage } from '../../../src/client/index.ts';

/** While something is about to change (a session ending, a summary being written): poll fast. */
const FAST_POLL_MS = 2_000;
const SLOW_POLL_MS = 30_000;
const PAGE_SIZE = 30;

/** The newest `wanted` sessions, over as many pages as that takes. */
async function loadPages(history: ParleyHistory, wanted: number): Promise<SessionPage> {
  const sessions: SessionInfo[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await history.listSessions({ limit: Math.min(100, wanted - sessions.length), ...(cursor ? { cursor } : {}) });
    sessions.push(...page.sessions);
    if (page.next_cursor === null || sessions.length >= wanted) return { sessions, next_cursor: page.next_cursor };
    cursor = page.next_cursor;
  }
}

export interface SessionList {
  sessions: SessionInfo[];
  nextCursor: string | null;
  /** Whether the server answered the last request. */
  reachable: boolean;
  refresh(): void;
  loadMore(): void;
}

/**
 * The user's sessions for the sidebar, from the history API: fetched at once, after each
 * `refresh()`, and then polled, fast while a session other than the open one is still active
 * or its summary is pending, so a summary shows up soon after its session ends.
 */
export function useSessionList(history: ParleyHistory, openSessionId: string | undefined): SessionList {
  const [sessions, setSessions] = useState<SessionInfo[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [reachable, setReachable] = useState(true);
  const [tick, setTick] = useState(0);
  const pages = useRef(1);
  const openRef = useRef(openSessionId);
  openRef.current = openSessionId;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      let delay = SLOW_POLL_MS;
      try {
        const page = await loadPages(history, PAGE_SIZE * pages.current);
        if (stopped) return;
        setSessions(page.sessions);
        setNextCursor(page.next_cursor);
        setReachable(true);
        const changing = page.sessions.some(
          (session) =>
            session.summary_status === 'pending' ||
            (session.status === 'active' && session.session_id !== openRef.current),
        );
        if (changing) delay = FAST_POLL_MS;
      } catch {
        if (stopped) return;
        setReachable(false);
        delay = FAST_POLL_MS * 2;
      }
      timer = setTimeout(() => void load(), delay);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [history, tick, openSessionId]);

  const refresh = useCallback(() => setTick((value) => value + 1), []);
  const loadMore = useCallback(() => {
    pages.current += 1;
    setTick((value) => value + 1);
  }, []);
  return { sessions, nextCursor, reachable, refresh, loadMore };
}
