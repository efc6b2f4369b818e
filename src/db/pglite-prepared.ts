/**
 * Named, planned-once statements on PGlite, for the event batches. `pglite.query()` sends every
 * statement unnamed, so PGlite's Postgres parses, analyzes and plans the batch statement (four
 * data-modifying CTEs) on every batch: most of the database thread's time under load. Here each
 * statement text is parsed once under a name of its own, and each run is only Bind, Execute
 * and Sync, as the Postgres writer thread does with `pg`'s named queries.
 */
import { protocol, types, type PGlite } from '@electric-sql/pglite';

const { serialize } = protocol;

/**
 * Returns a function that runs `sql` with `params` as a named statement. Parameters go in
 * Postgres's text format: arrays as array literals, everything else as its string.
 */
export function preparedStatements(
  pglite: PGlite,
): (sql: string, params: readonly unknown[]) => Promise<void> {
  const names = new Map<string, string>();
  let created = 0;
  return (sql, params) =>
    // The locks `pglite.query()` takes itself, so a statement never runs inside a transaction
    // that another caller holds open on this single connection (the test of that fails if a
    // PGlite release stops honouring them).
    pglite._runExclusiveTransaction(() =>
      pglite._runExclusiveQuery(async () => {
        let name = names.get(sql);
        if (name === undefined) {
          name = `parley_${++created}`;
          // Parsed on its own: a failure here names nothing, and the next call parses again.
          await pglite.execProtocol(
            Buffer.concat([serialize.parse({ name, text: sql, types: [] }), serialize.sync()]),
          );
          names.set(sql, name);
        }
        await pglite.execProtocol(
          Buffer.concat([
            serialize.bind({ statement: name, values: params.map(textValue) }),
            serialize.execute({}),
            serialize.sync(),
          ]),
        );
      }),
    );
}

function textValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return types.arraySerializer(value, undefined, 0);
  return String(value);
}
