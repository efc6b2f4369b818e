import type { Duplex } from 'node:stream';

/**
 * Wraps a WebSocket's `send` so that frames sent in one go leave in one write on the socket
 * under it: the socket is corked at the first frame and uncorked once the code that sent them
 * is done (`process.nextTick`). Under load the model's stream delivers several tokens of a
 * reply in one read and each becomes a frame; a system call per frame was the largest part of
 * the relay's CPU (`writev` in the benchmark's profiles). A frame sent on its own leaves as
 * before, with no added wait.
 */
export function coalescedSend(raw: Duplex, send: (frame: string) => void): (frame: string) => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    raw.uncork();
  };
  return (frame) => {
    if (!corked) {
      corked = true;
      raw.cork();
      process.nextTick(uncork);
    }
    send(frame);
  };
}
