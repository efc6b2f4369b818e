import type { Duplex } from 'node:stream';

/**
 * Bytes held back at most, by default, before they are written anyway. What is held counts in
 * the socket's buffered amount, which also measures how far a client is behind (slow consumers
 * are cut off on it), so it must stay small next to that limit.
 */
export const COALESCE_MAX_BYTES = 16 * 1024;

/**
 * Wraps a WebSocket's `send` so that frames sent in one go leave in one write on the socket
 * under it: the socket is corked at the first frame and uncorked once the code that sent them
 * is done (`process.nextTick`), or sooner once `maxHeldBytes` wait. Under load the
 * model's stream delivers several tokens of a reply in one read and each becomes a frame; a
 * system call per frame was the largest part of the relay's CPU (`writev` in the benchmark's
 * profiles). A frame sent on its own leaves as before, with no added wait.
 */
export function coalescedSend(
  raw: Duplex,
  send: (frame: string) => void,
  maxHeldBytes = COALESCE_MAX_BYTES,
): (frame: string) => void {
  let corked = false;
  /** What the socket held before this burst: the client's own backlog. */
  let backlog = 0;
  const uncork = () => {
    corked = false;
    raw.uncork();
  };
  return (frame) => {
    if (!corked) {
      corked = true;
      raw.cork();
      backlog = raw.writableLength;
      process.nextTick(uncork);
    }
    send(frame);
    if (raw.writableLength - backlog >= maxHeldBytes) {
      raw.uncork();
      raw.cork();
      backlog = raw.writableLength;
    }
  };
}
