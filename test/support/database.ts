import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The database kinds every database suite runs on: PGlite always, Postgres when configured. */
export const databaseKinds: ('pglite' | 'postgres')[] = process.env.TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite'];

export interface TestDatabase {
  /** `DATABASE_URL` for Parley, or undefined for PGlite. */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * A fresh, empty Postgres database on the `TEST_DATABASE_URL` server, dropped by `drop()`, so
 * test files never see each other's rows. For PGlite, nothing to create.
 */
export async function createTestDatabase(kind: 'pglite' | 'postgres'): Promise<TestDatabase> {
  if (kind === 'pglite') return { url: undefined, async drop() {} };
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `parley_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
