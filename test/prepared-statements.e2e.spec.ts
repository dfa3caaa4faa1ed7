import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { isDatabaseUnavailable } from '../src/platform/database/database-errors.js';
import { MAX_NAMED, prepareStatements, statementName } from '../src/platform/database/prepared-statements.js';
import { inTransaction, together } from '../src/platform/database/transaction.js';
import { createDatabase } from './support/databases.js';

describe('prepared statements', () => {
  let pool: pg.Pool;

  beforeAll(async () => {
    const url = await createDatabase(inject('serverUrl'), inject('runPrefix'));
    pool = prepareStatements(new pg.Pool({ connectionString: url, max: 1 }));
    await pool.query('create table prepared_probe (id int primary key, name text)');
    await pool.query("insert into prepared_probe values (1, 'one'), (2, 'two')");
  });

  afterAll(async () => {
    await pool.end();
  });

  const prepared = async (client: pg.PoolClient | pg.Pool) =>
    (await client.query<{ statement: string }>('select statement from pg_prepared_statements')).rows.map((r) => r.statement);

  it('sends a parameterised query as a named statement, prepared once per connection', async () => {
    const text = 'select name from prepared_probe where id = $1';
    expect((await pool.query(text, [1])).rows).toEqual([{ name: 'one' }]);
    expect((await pool.query(text, [2])).rows).toEqual([{ name: 'two' }]);
    const client = await pool.connect();
    try {
      expect((await client.query(text, [1])).rows).toEqual([{ name: 'one' }]);
      const statements = await prepared(client);
      expect(statements.filter((s) => s === text)).toHaveLength(1);
      // A query without parameters runs as before, unnamed.
      expect(statements).not.toContain('select statement from pg_prepared_statements');
    } finally {
      client.release();
    }
  });

  it('names the statements of a connection the pool opened before it was set up (as MikroORM\'s are, at start)', async () => {
    const url = (pool as unknown as { options: { connectionString: string } }).options.connectionString;
    const early = new pg.Pool({ connectionString: url, max: 1 });
    const opened = await early.connect();
    opened.release();
    prepareStatements(early);
    try {
      const text = 'select name from prepared_probe where id = $1 and true';
      for (const id of [1, 2, 1]) await inTransaction(early, (tx) => tx.query(text, [id]));
      const client = await early.connect();
      try {
        expect(client).toBe(opened);
        expect((await prepared(client)).filter((s) => s === text)).toHaveLength(1);
      } finally {
        client.release();
      }
    } finally {
      await early.end();
    }
  });

  it('a statement a migration made stale is a retry on a new connection, not a failure', async () => {
    const text = 'select * from prepared_probe where id = $1';
    await inTransaction(pool, (tx) => tx.query(text, [1]));
    // Another instance's migration adds a column: the plan this connection holds no longer fits.
    const other = new pg.Client({ connectionString: (pool as unknown as { options: { connectionString: string } }).options.connectionString });
    await other.connect();
    await other.query('alter table prepared_probe add column note text');
    await other.end();
    const stale = await inTransaction(pool, (tx) => tx.query(text, [1])).then(() => undefined, (error: unknown) => error);
    expect(stale).toBeDefined();
    expect(isDatabaseUnavailable(stale)).toBe(true); // answered 503 with Retry-After, retried by the workers
    // The connection was dropped, so the retry prepares the statement afresh.
    const { rows } = await inTransaction(pool, (tx) => tx.query(text, [1]));
    expect(rows).toEqual([{ id: 1, name: 'one', note: null }]);
  });

  it('sends the statements of `together` at once, and answers each one\'s result in order', async () => {
    const answers = await inTransaction(pool, (tx) => together(
      tx.query<{ name: string }>('select name from prepared_probe where id = $1', [1]),
      tx.query<{ n: number }>('select $1::int + 1 as n', [41]),
      tx.query<{ name: string }>('select name from prepared_probe where id = $1', [2]),
    ));
    expect(answers.map((a) => a.rows[0])).toEqual([{ name: 'one' }, { n: 42 }, { name: 'two' }]);
  });

  it('`together` throws the failure that aborted the transaction, once every statement has settled', async () => {
    const settled: string[] = [];
    const failure = await inTransaction(pool, (tx) => together(
      // Its second statement is sent after the failing one, and is refused as in an aborted transaction (25P02).
      (async () => {
        await tx.query('select 1 as one where $1::int = 1', [1]);
        return tx.query('select 2 as two where $1::int = 1', [1]).finally(() => settled.push('second'));
      })(),
      tx.query('select 1 / $1::int as boom', [0]).finally(() => settled.push('boom')),
    )).then(() => undefined, (error: { code?: string }) => error);
    expect(failure?.code).toBe('22012'); // division by zero, not the 25P02 it caused
    expect(settled.sort()).toEqual(['boom', 'second']);
    // The connection went back clean: the next transaction works.
    expect((await inTransaction(pool, (tx) => tx.query('select name from prepared_probe where id = $1', [1]))).rows).toEqual([{ name: 'one' }]);
  });

  // Last: it fills the process's set of names.
  it('names each text once for the process, and stops naming past its bound', () => {
    expect(statementName('select 1 where $1::int = 1')).toBe(statementName('select 1 where $1::int = 1'));
    expect(statementName('select 2 where $1::int = 1')).not.toBe(statementName('select 1 where $1::int = 1'));
    for (let i = 0; i < MAX_NAMED; i++) statementName(`select ${i} + $1::int as bound_probe`);
    expect(statementName('select $1::text as past_the_bound')).toBeUndefined();
  });
});
