import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { GroupCommit, type ItemResult } from '../src/platform/database/group-commit.js';
import type { Tx } from '../src/platform/database/transaction.js';
import { createDatabase } from './support/databases.js';

interface Item {
  key: string;
  value: number;
}

describe('group commit', () => {
  let pool: pg.Pool;
  /** Each call of the work: its transaction id and the items it was given. */
  let calls: Array<{ xid: string; keys: string[] }>;
  let active = 0;
  let mostAtOnce = 0;
  /** The keys of the transactions running now, and the keys found in two at once. */
  const activeKeys = new Set<string>();
  const clashes: string[] = [];

  /** Stores each item in its own row; a negative value is refused (nothing written); "boom" throws. */
  async function work(tx: Tx, items: Item[]): Promise<Array<ItemResult<string>>> {
    const { rows: [{ xid }] } = await tx.query<{ xid: string }>('select txid_current()::text as xid');
    calls.push({ xid, keys: items.map((i) => i.key) });
    mostAtOnce = Math.max(mostAtOnce, ++active);
    for (const { key } of items) {
      if (activeKeys.has(key)) clashes.push(key);
      activeKeys.add(key);
    }
    try {
      return await store(tx, items);
    } finally {
      active--;
      for (const { key } of items) activeKeys.delete(key);
    }
  }

  async function store(tx: Tx, items: Item[]): Promise<Array<ItemResult<string>>> {
    if (items.some((i) => i.key === 'boom') && items.length > 1) throw new Error('a surprise only the batch sees');
    const taken = items.filter((i) => i.value >= 0);
    await tx.query('insert into grouped (key, value, xid) select k, v, txid_current() from unnest($1::text[], $2::int[]) as x(k, v)', [taken.map((i) => i.key), taken.map((i) => i.value)]);
    await new Promise((r) => setTimeout(r, 30)); // a transaction that takes a while, so that others queue behind it
    return items.map((i) => (i.value >= 0 ? { ok: true, value: `stored ${i.key}` } : { ok: false, error: new Error(`refused ${i.key}`) }));
  }

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await createDatabase(inject('serverUrl'), inject('runPrefix')), max: 4 });
    await pool.query('create table grouped (key text, value int, xid bigint)');
  });
  afterAll(async () => {
    await pool.end();
  });

  it('writes what arrives during a transaction in the next one, answers each after its commit, and keeps refusals apart', async () => {
    calls = [];
    const group = new GroupCommit(pool, work, { maxBatch: 50, lanes: 1 });
    const first = group.submit({ key: 'a0', value: 0 });
    const rest = Array.from({ length: 20 }, (_, i) => group.submit({ key: `a${i + 1}`, value: i % 5 === 4 ? -1 : i + 1 }));
    expect(await first).toBe('stored a0');
    const settled = await Promise.allSettled(rest);
    // One transaction for the first, one for the twenty that queued behind it.
    expect(calls.map((c) => c.keys.length)).toEqual([1, 20]);
    expect(settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason.message)).toEqual(['refused a5', 'refused a10', 'refused a15', 'refused a20']);
    // Every answer came after its row was committed: it is visible to another connection.
    const { rows } = await pool.query<{ key: string; xid: string }>("select key, xid::text from grouped where key like 'a%' order by value");
    expect(rows).toHaveLength(17);
    expect(new Set(rows.slice(1).map((r) => r.xid))).toEqual(new Set([calls[1]!.xid]));
  });

  it('never puts two items of one key in a transaction, and runs each alone when a batch fails', async () => {
    calls = [];
    const group = new GroupCommit(pool, work, { maxBatch: 50, lanes: 1, keyOf: (i) => i.key });
    const head = group.submit({ key: 'head', value: 1 });
    const batch = ['b1', 'boom', 'b2', 'b1'].map((key, i) => group.submit({ key, value: 10 + i }));
    await head;
    const answers = await Promise.allSettled(batch);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    // head; then b1, boom, b2 together (b1 again waits): the batch throws, so each runs alone; then b1 again.
    expect(calls.map((c) => c.keys)).toEqual([['head'], ['b1', 'boom', 'b2'], ['b1'], ['boom'], ['b2'], ['b1']]);
    const { rows } = await pool.query<{ key: string; n: number }>("select key, count(*)::int as n from grouped where key in ('b1', 'b2', 'boom') group by key order by key");
    expect(rows).toEqual([{ key: 'b1', n: 2 }, { key: 'b2', n: 1 }, { key: 'boom', n: 1 }]);
  });

  it('starts a second lane only for a full batch: a few callers wait for the running transaction and go together', async () => {
    calls = [];
    mostAtOnce = 0;
    const group = new GroupCommit(pool, work, { maxBatch: 10, lanes: 2 });
    const few = await Promise.all(Array.from({ length: 6 }, (_, i) => group.submit({ key: `f${i}`, value: i })));
    expect(few).toHaveLength(6);
    expect(calls.map((c) => c.keys.length)).toEqual([1, 5]);
    expect(mostAtOnce).toBe(1);
  });

  it('never runs one key in two lanes at once: a second item with it waits for the first transaction', async () => {
    calls = [];
    const group = new GroupCommit(pool, work, { maxBatch: 2, lanes: 2, keyOf: (i) => i.key });
    const first = group.submit({ key: 'k1', value: 1 });
    // While k1 runs: k1 again, and enough others for a full batch in the second lane.
    const rest = [group.submit({ key: 'k1', value: 2 }), group.submit({ key: 'x1', value: 3 }), group.submit({ key: 'x2', value: 4 })];
    await Promise.all([first, ...rest]);
    expect(clashes).toEqual([]);
    // The second k1 ran in a transaction of its own after the first's, whichever lane finished first.
    expect(calls[0]!.keys).toEqual(['k1']);
    expect(calls.slice(1).flatMap((c) => c.keys).sort()).toEqual(['k1', 'x1', 'x2']);
    expect(new Set(calls.map((c) => c.xid)).size).toBe(calls.length);
  });

  it('takes several lanes at once, and after a busy batch waits a moment for the callers to come back', async () => {
    calls = [];
    mostAtOnce = 0;
    const group = new GroupCommit(pool, work, { maxBatch: 10, lanes: 2, gatherMs: 20 });
    const wave = await Promise.all(Array.from({ length: 21 }, (_, i) => group.submit({ key: `c${i}`, value: i })));
    expect(wave).toHaveLength(21);
    // A lone item after a busy batch waits for company rather than taking a transaction of its own at once.
    const started = performance.now();
    const late = await Promise.all([group.submit({ key: 'late1', value: 1 }), new Promise((r) => setTimeout(r, 5)).then(() => group.submit({ key: 'late2', value: 2 }))]);
    expect(late).toEqual(['stored late1', 'stored late2']);
    expect(calls.at(-1)!.keys).toEqual(['late1', 'late2']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    expect(mostAtOnce).toBe(2);
    expect(calls.slice(0, -1).reduce((n, c) => n + c.keys.length, 0)).toBe(21);
    expect(calls.slice(0, -1).every((c) => c.keys.length <= 10)).toBe(true);
  });
});
