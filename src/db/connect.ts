import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema.ts';
import { acquireDirectoryLock, type DirectoryLock } from './directory-lock.ts';
import { startPgliteThread, type PgliteThread } from './pglite-thread.ts';

export type Schema = typeof schema;
/** The Drizzle handle every module uses; the same API on PGlite and on Postgres. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseHandle {
  db: Database;
  /**
   * The connection the event writer uses. On Postgres it is a connection of its own, so event
   * batches never queue behind other queries in the pool (a burst of session opens, a slow API
   * call); on PGlite, which has one connection, it is `db`.
   */
  writerDb: Database;
  /**
   * Runs one statement with positional parameters on the writer's connection, without the
   * query builder: the event writer's batch is one fixed statement over array parameters.
   */
  writerQuery(text: string, params: unknown[]): Promise<void>;
  kind: 'pglite' | 'postgres';
  /** Where the data lives, for logs: a directory, `memory://`, or the URL without password. */
  location: string;
  /**
   * The embedded PGlite, on its own thread, for pg-boss: `query`, `exec` and `transaction`
   * only, which is what Drizzle's and pg-boss's PGlite adapters call.
   */
  pglite?: PgliteThread;
  /** The node-postgres pool when on Postgres. */
  pool?: pg.Pool;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

export interface ConnectOptions {
  /** Postgres connection string; when absent, the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory, or `memory://` for a throwaway database. */
  pgliteDir: string;
  /** Pool size on Postgres. */
  poolSize?: number;
  /**
   * Told if the embedded database's thread dies while the server runs; nothing can be stored
   * after that, so the server should stop (a restart recovers, as after a crash).
   */
  onDatabaseLost?: (error: Error) => void;
}

/** Opens the database, applies migrations, and returns a handle its caller must close. */
export async function connectDatabase(options: ConnectOptions): Promise<DatabaseHandle> {
  return options.databaseUrl
    ? connectPostgres(options.databaseUrl, options.poolSize ?? 10)
    : connectPglite(options.pgliteDir, options.onDatabaseLost);
}

async function connectPostgres(databaseUrl: string, poolSize: number): Promise<DatabaseHandle> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle client that loses its server emits 'error' on the pool; without a listener the
  // process would crash. The next query reports the failure instead.
  pool.on('error', () => {});
  const db = drizzlePostgres(pool, { schema }) as unknown as Database;
  const writerPool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  writerPool.on('error', () => {});
  const writerDb = drizzlePostgres(writerPool, { schema }) as unknown as Database;
  try {
    await migratePostgres(db as never, { migrationsFolder });
  } catch (error) {
    await pool.end();
    await writerPool.end();
    throw error;
  }
  return {
    db,
    writerDb,
    async writerQuery(text, params) {
      // Named, so the server parses and plans the fixed batch statement once per connection.
      await writerPool.query({ name: 'parley_writer', text, values: params });
    },
    kind: 'postgres',
    location: redactUrl(databaseUrl),
    pool,
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await Promise.all([pool.end(), writerPool.end()]);
    },
  };
}

async function connectPglite(
  dataDir: string,
  onLost: ((error: Error) => void) | undefined,
): Promise<DatabaseHandle> {
  const inMemory = dataDir.startsWith('memory://');
  let lock: DirectoryLock | undefined;
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true });
    // PGlite itself does not lock its directory; two processes on one directory corrupt it.
    lock = acquireDirectoryLock(path.join(dataDir, 'parley.pid'));
  }
  let thread: PgliteThread | undefined;
  try {
    thread = await startPgliteThread(inMemory ? undefined : dataDir, onLost);
    const pglite = thread;
    const db = drizzlePglite(pglite as never, { schema }) as unknown as Database;
    await migratePglite(db as never, { migrationsFolder });
    const opened = thread;
    return {
      db,
      writerDb: db,
      async writerQuery(text, params) {
        await pglite.query(text, params);
      },
      kind: 'pglite',
      location: inMemory ? 'memory://' : path.resolve(dataDir),
      pglite,
      async ping() {
        await pglite.query('select 1');
      },
      async close() {
        await opened.close();
        lock?.release();
      },
    };
  } catch (error) {
    await thread?.close().catch(() => {});
    lock?.release();
    throw error;
  }
}

function redactUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres';
  }
}
