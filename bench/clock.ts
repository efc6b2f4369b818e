/**
 * Wall-clock time with sub-millisecond resolution, comparable between processes on one machine,
 * and the compact stamp the bench upstream writes into each token so the load generator can
 * tell how long the token took from the upstream's socket write to its own receive.
 */

/** Milliseconds since the epoch, fractional. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Marks the start of a stamp inside token text. */
export const STAMP_MARK = '~';

/** A token carrying the time it is written: `~<microseconds since epoch, base 36> `. */
export function stampedToken(atMs: number = wallClockMs()): string {
  return `${STAMP_MARK}${Math.round(atMs * 1000).toString(36)} `;
}

/**
 * Calls `each` with the write time (ms) of every stamp in a piece of relayed text. A relay may
 * merge or split tokens; stamps are parsed wherever they are whole.
 */
export function forEachStamp(text: string, each: (writtenAtMs: number) => void): void {
  let start = text.indexOf(STAMP_MARK);
  while (start !== -1) {
    const end = text.indexOf(' ', start);
    if (end === -1) return;
    each(parseInt(text.slice(start + 1, end), 36) / 1000);
    start = text.indexOf(STAMP_MARK, end);
  }
}
