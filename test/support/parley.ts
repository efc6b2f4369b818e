import pino from 'pino';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { buildParley, type Parley } from '../../src/app.ts';

export interface RunningParley extends Parley {
  /** `http://127.0.0.1:PORT` */
  httpUrl: string;
  /** `ws://127.0.0.1:PORT` */
  wsUrl: string;
}

/**
 * Starts a real Parley in this process on a random port with the given environment on top of
 * test defaults (in-memory PGlite, silent logs, sessions ending at once on disconnect).
 */
export async function startParley(
  env: Record<string, string | undefined> = {},
): Promise<RunningParley> {
  const config = loadConfig({
    PGLITE_DIR: 'memory://',
    LOG_LEVEL: 'silent',
    SESSION_END_GRACE_MS: '0',
    EVENT_FLUSH_INTERVAL_MS: '10',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? config.logLevel });
  const parley = await buildParley(config, logger);
  await parley.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = parley.app.server.address() as AddressInfo;
  return { ...parley, httpUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}` };
}
