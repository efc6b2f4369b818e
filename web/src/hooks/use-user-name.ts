import { useCallback, useState } from 'react';
import { UserId } from '../../../src/protocol/index.ts';

const storageKey = 'parley.userName';

function stored(): string | undefined {
  try {
    const value = localStorage.getItem(storageKey);
    return value !== null && UserId.safeParse(value).success ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The user name, remembered in this browser; undefined until the user picks one. */
export function useUserName(): [string | undefined, (name: string | undefined) => void, string] {
  const [name, setName] = useState(stored);
  const [last, setLast] = useState(() => name ?? '');
  const update = useCallback((next: string | undefined) => {
    try {
      if (next === undefined) localStorage.removeItem(storageKey);
      else localStorage.setItem(storageKey, next);
    } catch {
      // Private mode without storage: the name lasts for this page only.
    }
    if (next !== undefined) setLast(next);
    setName(next);
  }, []);
  return [name, update, last];
}
