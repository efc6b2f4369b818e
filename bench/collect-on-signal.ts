/**
 * Preloaded (`--import`) into a relay for the idle-footprint run, with `--expose-gc`: SIGUSR2
 * makes every thread of it collect garbage, so RSS readings count live memory, not garbage not
 * yet collected. Worker threads (Parley's PGlite or writer thread) inherit both flags, so this
 * module runs in each of them too and collects when the main thread says so on a broadcast
 * channel. Benchmark only; the server itself has no such hook.
 */
import { BroadcastChannel, isMainThread } from 'node:worker_threads';

const collect = () => (globalThis as { gc?: () => void }).gc?.();
const channel = new BroadcastChannel('parley-bench-collect');
// Neither the channel nor the signal keeps a thread alive that would otherwise exit.
channel.unref();

if (isMainThread) {
  process.on('SIGUSR2', () => {
    collect();
    channel.postMessage('collect');
  });
} else {
  channel.onmessage = collect;
}
