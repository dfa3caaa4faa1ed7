import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableCare } from '../src/platform/table-care.js';
import { startTestApp, type TestApp } from './support/test-app.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
});
afterAll(() => t.close());

describe('queue table care', () => {
  it('vacuums a queue table once its dead rows pile up, whether or not autovacuum is on', async () => {
    // Six thousand governor leases taken and freed, as six thousand calls to a target leave them.
    const client = new pg.Client({ connectionString: t.databaseUrl });
    await client.connect();
    const [{ before }] = (await client.query<{ before: Date }>('select clock_timestamp() as before')).rows;
    await client.query(`insert into governor_lease (id, target, expires_at, probe)
                        select gen_random_uuid(), 'erp:care', clock_timestamp() + interval '1 minute', false from generate_series(1, 6000)`);
    await client.query(`delete from governor_lease where target = 'erp:care'`);
    await client.query('select pg_stat_force_next_flush()');
    await client.end();
    await new Promise((r) => setTimeout(r, 200));

    await t.app.get(TableCare).care();
    const [stats] = await t.sql<{ last_vacuum: Date | null; n_dead_tup: number }>(`select last_vacuum, n_dead_tup::int from pg_stat_user_tables where relname = 'governor_lease'`);
    expect(stats!.last_vacuum).not.toBeNull();
    expect(stats!.last_vacuum!.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(stats!.n_dead_tup).toBeLessThan(5_000);
    // A table with few dead rows is left alone.
    const [outbox] = await t.sql<{ last_vacuum: Date | null }>(`select last_vacuum from pg_stat_user_tables where relname = 'outbox'`);
    expect(outbox!.last_vacuum).toBeNull();
  });

  it('analyzes a table whose rows changed past autoanalyze\'s threshold, and leaves one with few changes alone', async () => {
    const client = new pg.Client({ connectionString: t.databaseUrl });
    await client.connect();
    await client.query('create table care_grown (id int primary key)');
    await client.query('create table care_quiet (id int primary key)');
    await client.query('insert into care_grown select generate_series(1, 2000)');
    await client.query('insert into care_quiet select generate_series(1, 10)');
    await client.query('select pg_stat_force_next_flush()');
    await client.end();
    await new Promise((r) => setTimeout(r, 200));

    const done = await t.app.get(TableCare).care();
    expect(Object.keys(done ?? {})).toContain('public.care_grown');
    const stats = await t.sql<{ relname: string; analyzed: boolean; reltuples: number }>(
      `select s.relname, s.last_analyze is not null as analyzed, c.reltuples::int as reltuples
         from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname in ('care_grown', 'care_quiet') order by s.relname`,
    );
    // The planner now knows the grown table's size.
    expect(stats).toEqual([{ relname: 'care_grown', analyzed: true, reltuples: 2000 }, { relname: 'care_quiet', analyzed: false, reltuples: -1 }]);
  });
});
