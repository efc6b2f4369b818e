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
import { WriterThread } from './writer-thread.ts';

export type Schema = typeof schema;
/** The Drizzle handle every module uses; the same API on PGlite and on Postgres. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseHandle {
  db: Database;
  /**
   * Runs one event batch (a fixed statement over array parameters) off the main thread, after
   * every batch sent before it and without waiting for their answers; once one fails, those
   * sent after it before the failure was known fail too, unrun (`ordered-writes.ts`). On
   * Postgres the batches have a connection and a thread of their own (`writer-thread.ts`), so
   * they never queue behind other queries in the pool; on PGlite they run on its thread.
   */
  write(sql: string, params: unknown[]): Promise<void>;
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
   * Told if a database thread (PGlite's, or the Postgres event writer's) dies while the server
   * runs; nothing can be stored after that, so the server should stop (a restart recovers, as
   * after a crash).
   */
  onDatabaseLost?: (error: Error) => void;
}

/** Opens the database, applies migrations, and returns a handle its caller must close. */
export async function connectDatabase(options: ConnectOptions): Promise<DatabaseHandle> {
  return options.databaseUrl
    ? connectPostgres(options.databaseUrl, options.poolSize ?? 10, options.onDatabaseLost)
    : connectPglite(options.pgliteDir, options.onDatabaseLost);
}

async function connectPostgres(
  databaseUrl: string,
  poolSize: number,
  onLost: ((error: Error) => void) | undefined,
): Promise<DatabaseHandle> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle client that loses its server emits 'error' on the pool; without a listener the
  // process would crash. The next query reports the failure instead.
  pool.on('error', () => {});
  const db = drizzlePostgres(pool, { schema }) as unknown as Database;
  try {
    await migratePostgres(db as never, { migrationsFolder });
  } catch (error) {
    await pool.end();
    throw error;
  }
  const writer = new WriterThread(databaseUrl, onLost);
  return {
    db,
    write: writer.write,
    kind: 'postgres',
    location: redactUrl(databaseUrl),
    pool,
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await Promise.all([pool.end(), writer.close()]);
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
      write: pglite.write,
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
