import type pg from 'pg';

/** A transaction on one pooled connection; `boss` lets pg-boss write its jobs inside it. */
export interface Tx {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  readonly boss: { executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }> };
}

export async function inTransaction<T>(pool: pg.Pool, work: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => client.query<R>(text, values);
  const tx: Tx = { query, boss: { executeSql: (text, values) => client.query(text, values) } };
  try {
    await client.query('begin');
    const result = await work(tx);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
