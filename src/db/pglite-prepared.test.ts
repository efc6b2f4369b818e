import { PGlite } from '@electric-sql/pglite';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { preparedStatements } from './pglite-prepared.ts';

describe('named statements on PGlite', () => {
  let pglite: PGlite;
  let run: ReturnType<typeof preparedStatements>;

  beforeEach(async () => {
    pglite = await PGlite.create();
    await pglite.exec('create table notes (n int primary key, body text, tags text[])');
    run = preparedStatements(pglite);
  });

  afterEach(async () => {
    await pglite.close();
  });

  const insert = `insert into notes (n, body, tags)
    select * from unnest($1::int[], $2::text[]) as t (n, body), lateral (select $3::text[]) as tags`;

  test('array parameters arrive exactly, whatever their text; one text is parsed once', async () => {
    const bodies = [
      'plain',
      'a "quoted", {braced} word',
      'back\\slash',
      null,
      'NULL',
      'émoji 🙂',
      '',
    ];
    await run(insert, [bodies.map((_, index) => index), bodies, ['x', 'y, z']]);
    await run(insert, [[100], ['again'], []]);
    const { rows } = await pglite.query<{ n: number; body: string | null; tags: string[] }>(
      'select n, body, tags from notes order by n',
    );
    expect(rows.map((row) => row.body)).toEqual([...bodies, 'again']);
    expect(rows[0]!.tags).toEqual(['x', 'y, z']);
    expect(rows.at(-1)!.tags).toEqual([]);
    const prepared = await pglite.query<{ name: string }>(
      'select name from pg_prepared_statements',
    );
    expect(prepared.rows).toEqual([{ name: 'parley_1' }]);
  });

  test('a failed run rejects with the database error and leaves the statement usable', async () => {
    await run(insert, [[1], ['first'], []]);
    await expect(run(insert, [[1], ['duplicate'], []])).rejects.toMatchObject({ code: '23505' });
    await run(insert, [[2], ['second'], []]);
    const { rows } = await pglite.query<{ body: string }>('select body from notes order by n');
    expect(rows.map((row) => row.body)).toEqual(['first', 'second']);
  });

  test('a statement that does not parse rejects every time; others still run', async () => {
    await expect(run('insert into nowhere values ($1)', [1])).rejects.toMatchObject({
      code: '42P01',
    });
    await expect(run('insert into nowhere values ($1)', [1])).rejects.toMatchObject({
      code: '42P01',
    });
    await run(insert, [[3], ['third'], []]);
    expect((await pglite.query('select * from notes')).rows).toHaveLength(1);
  });

  test("a statement waits for another caller's open transaction instead of joining it", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = pglite
      .transaction(async (tx) => {
        await tx.query(`insert into notes (n, body) values (10, 'rolled back')`);
        await held;
        await tx.rollback();
      })
      .catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 20));
    const write = run(insert, [[11], ['kept'], []]);
    // Long enough for a write that did not wait to run inside the transaction and be rolled back.
    setTimeout(release, 100);
    await Promise.all([transaction, write]);
    const { rows } = await pglite.query<{ body: string }>('select body from notes order by n');
    expect(rows.map((row) => row.body)).toEqual(['kept']);
  });
});
