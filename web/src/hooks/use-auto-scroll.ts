import { useCallback, useLayoutEffect, useRef, useState } from 'react';

/**
 * Keeps a scrolling container at its bottom while content grows, until the user scrolls up;
 * scrolling back to the bottom (or `jumpToLatest`) makes it follow again.
 */
export function useAutoScroll<T extends HTMLElement>(content: unknown) {
  const ref = useRef<T>(null);
  const following = useRef(true);
  const lastTop = useRef(0);
  const [behind, setBehind] = useState(false);

  const onScroll = useCallback(() => {
    const element = ref.current;
    if (!element) return;
    const fromBottom = element.scrollHeight - element.scrollTop - element.clientHeight;
    if (fromBottom < 32) {
      following.current = true;
      setBehind(false);
    } else if (element.scrollTop < lastTop.current - 2) {
      // Only the user moves the view up; growing content and our own scrolling never do.
      following.current = false;
    }
    lastTop.current = element.scrollTop;
  }, []);

  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    if (following.current) {
      element.scrollTop = element.scrollHeight;
      lastTop.current = element.scrollTop;
    } else {
      setBehind(true);
    }
  }, [content]);

  const jumpToLatest = useCallback(() => {
    const element = ref.current;
    if (!element) return;
    following.current = true;
    setBehind(false);
    element.scrollTop = element.scrollHeight;
    lastTop.current = element.scrollTop;
  }, []);

  return { ref, onScroll, behind, jumpToLatest };
}
