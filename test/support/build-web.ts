import { buildWebIfStale } from '../../web/build-if-stale.ts';

/** Vitest global setup: the end-to-end suite serves the built UI, so build it if stale. */
export default async function buildWeb(): Promise<void> {
  await buildWebIfStale({ log: (line) => console.log(`[web] ${line}`) });
}
