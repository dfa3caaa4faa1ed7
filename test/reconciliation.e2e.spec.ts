import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Tx } from '../src/platform/database/transaction.js';
import { Reconcilers, type ComparedPage, type Finding, type Reconciler } from '../src/platform/reconciliation/reconcilers.js';
import { ReconciliationRuns } from '../src/platform/reconciliation/reconciliation-runs.js';
import { ReconciliationScheduler } from '../src/platform/reconciliation/reconciliation-scheduler.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// The platform's part of reconciliation, with a reconciler of the test's own over a target it controls: pages and
// their checkpoint, repairs in the page's transaction and never twice, a run cut short resumed where it stopped,
// findings for a person kept open across runs and closed once gone, one run per target at a time, the report.

/** The target: what it holds per key, and what it should hold. */
const target = { holds: new Map<string, number>(), should: new Map<string, number>(), failOnPage: -1, pageSize: 3, compareCalls: 0, gate: undefined as Promise<void> | undefined };

@Injectable()
class CountsReconciler implements Reconciler, OnModuleInit {
  readonly domain = 'counts';
  constructor(private readonly reconcilers: Reconcilers) {}
  onModuleInit(): void {
    this.reconcilers.register(this);
  }

  async targets() {
    return [{ target: 'test:counts', intervalMs: 60 * 60_000 }];
  }

  async compare(_target: string, cursor: string | null): Promise<ComparedPage> {
    target.compareCalls++;
    await target.gate;
    const keys = [...target.should.keys()].sort();
    const start = cursor === null ? 0 : keys.indexOf(cursor) + 1;
    const page = keys.slice(start, start + target.pageSize);
    if (Math.floor(start / target.pageSize) === target.failOnPage) {
      target.failOnPage = -1;
      throw new Error('the target answered 503');
    }
    const findings: Finding[] = [];
    for (const key of page) {
      const should = target.should.get(key)!;
      const holds = target.holds.get(key);
      if (holds === should) continue;
      // Negative figures are the target's own business (its system of record changed): only reported.
      findings.push({ key, class: holds !== undefined && holds < 0 ? 'changed-at-target' : 'target-differs', expected: should, actual: holds ?? null, repair: holds !== undefined && holds < 0 ? 'report' : 'republish' });
    }
    return { compared: page.length, findings, nextCursor: start + target.pageSize >= keys.length ? null : page.at(-1)! };
  }

  async repair(tx: Tx, _target: string, finding: Finding) {
    await tx.query('insert into test_repair (key, figure) values ($1, $2)', [finding.key, finding.expected]);
    target.holds.set(finding.key, finding.expected as number);
    return { sent: finding.expected };
  }
}

@Module({ providers: [CountsReconciler] })
class CountsModule {}

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ additionalModules: [CountsModule], env: { LOG_LEVEL: 'warn', CROSSDOCK_RECONCILE_TICK_MS: '3600000' } });
  await t.sql('create table test_repair (id serial primary key, key text not null, figure int not null)');
});
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  target.failOnPage = -1;
  target.gate = undefined;
});

const repairs = async () => (await t.sql<{ key: string; n: number }>('select key, count(*)::int as n from test_repair group by key order by key')).map((r) => [r.key, r.n]);
const runNow = async () => (await t.request('POST', '/v1/admin/reconcile/counts?wait=true')).body.runs[0].run;

describe('reconciliation runs', () => {
  it('compares page by page, repairs what drifted in the page\'s transaction, and reports the figures', async () => {
    for (let i = 0; i < 8; i++) {
      target.should.set(`k${i}`, 10 + i);
      target.holds.set(`k${i}`, i % 3 === 0 ? 0 : 10 + i);
    }
    const run = await runNow();
    expect(run).toMatchObject({ domain: 'counts', target: 'test:counts', trigger: 'demand', status: 'finished', pages: 3, compared: 8, drifted: 3, repaired: 3, waiting: 0 });
    expect(await repairs()).toEqual([['k0', 1], ['k3', 1], ['k6', 1]]);
    // Put right: the next run finds nothing.
    expect(await runNow()).toMatchObject({ compared: 8, drifted: 0, repaired: 0 });
    const report = await t.request('GET', '/v1/ops/reconciliation?domain=counts');
    expect(report.body.domains).toContain('counts');
    expect(report.body.runs.map((r: any) => r.drifted)).toEqual([0, 3]);
    const detail = await t.request('GET', `/v1/ops/reconciliation/runs/${run.id}`);
    expect(detail.body.findings.map((f: any) => [f.key, f.class, f.status, f.detail])).toEqual([
      ['k0', 'target-differs', 'repaired', { sent: 10 }], ['k3', 'target-differs', 'repaired', { sent: 13 }], ['k6', 'target-differs', 'repaired', { sent: 16 }],
    ]);
    const audited = await t.sql("select actor, action, resource_id from audit_entry where resource_type = 'reconcile:counts' order by id");
    expect(audited).toEqual([['k0'], ['k3'], ['k6']].map(([key]) => ({ actor: 'reconciliation', action: 'republish', resource_id: key })));
    expect((await t.request('GET', '/metrics', { token: null })).text).toMatch(/crossdock_reconcile_repairs_total\{domain="counts",target="test:counts",class="target-differs"\} 3/);
  });

  it('resumes a run cut short from its last page, without repairing again what that page repaired', async () => {
    await t.sql('delete from test_repair');
    for (const key of ['k1', 'k2', 'k4', 'k7']) target.holds.set(key, 0);
    // A process died after the first page (k0-k2) had committed: its checkpoint and its repairs are in.
    const [{ id }] = await t.sql("insert into reconcile_run (domain, target, trigger, cursor, pages, compared, drifted, repaired) values ('counts', 'test:counts', 'schedule', 'k2', 1, 3, 2, 2) returning id");
    await t.sql("insert into reconcile_finding (run_id, last_seen_run_id, domain, target, key, class, repair, status) values ($1, $1, 'counts', 'test:counts', 'k1', 'target-differs', 'republish', 'repaired'), ($1, $1, 'counts', 'test:counts', 'k2', 'target-differs', 'republish', 'repaired')", [id]);
    target.holds.set('k1', 11);
    target.holds.set('k2', 12);
    await t.sql("insert into test_repair (key, figure) values ('k1', 11), ('k2', 12)");
    const calls = target.compareCalls;
    await t.app.get(ReconciliationScheduler).tick();
    const [resumed] = await t.sql('select status, pages, compared::int, drifted::int, repaired::int from reconcile_run where id = $1', [id]);
    expect(resumed).toEqual({ status: 'finished', pages: 3, compared: 8, drifted: 4, repaired: 4 });
    expect(target.compareCalls - calls).toBe(2); // pages 2 and 3 only
    expect(await repairs()).toEqual([['k1', 1], ['k2', 1], ['k4', 1], ['k7', 1]]);
  });

  it('marks a run failed when the target fails, keeping what its earlier pages did; the next run starts afresh', async () => {
    await t.sql('delete from test_repair');
    target.holds.set('k0', 0);
    target.holds.set('k5', 0);
    target.failOnPage = 1;
    const failed = await runNow();
    expect(failed).toMatchObject({ status: 'failed', error: 'the target answered 503', pages: 1, repaired: 1 });
    expect(await repairs()).toEqual([['k0', 1]]);
    expect(await runNow()).toMatchObject({ status: 'finished', repaired: 1 });
    expect(await repairs()).toEqual([['k0', 1], ['k5', 1]]);
  });

  it('keeps one open finding for what only a person can decide, across runs, and closes it once it is gone', async () => {
    target.holds.set('k4', -5);
    const first = await runNow();
    expect(first).toMatchObject({ drifted: 1, repaired: 0, waiting: 1 });
    const second = await runNow();
    expect(second).toMatchObject({ drifted: 1, repaired: 0, waiting: 0 }); // seen again: still the one finding
    const waiting = (await t.request('GET', '/v1/ops/reconciliation?domain=counts')).body.waiting;
    expect(waiting).toEqual([expect.objectContaining({ key: 'k4', class: 'changed-at-target', expected: 14, actual: -5 })]);
    expect(target.holds.get('k4')).toBe(-5); // left alone
    target.holds.set('k4', 14); // a person put it right
    await runNow();
    expect((await t.request('GET', '/v1/ops/reconciliation?domain=counts')).body.waiting).toEqual([]);
    expect((await t.sql("select status from reconcile_finding where key = 'k4' and class = 'changed-at-target'")).map((r) => r.status)).toEqual(['closed']);
  });

  it('runs one target once at a time, across instances', async () => {
    target.holds.set('k3', 0);
    let open!: () => void;
    target.gate = new Promise<void>((resolve) => (open = resolve));
    const reconciler = t.app.get(Reconcilers).of('counts')[0]!;
    const runs = t.app.get(ReconciliationRuns);
    const first = runs.run(reconciler, 'test:counts', 'demand');
    await new Promise((r) => setTimeout(r, 200));
    const other = await startTestApp({ databaseUrl: t.databaseUrl, additionalModules: [CountsModule], env: { LOG_LEVEL: 'warn', CROSSDOCK_RECONCILE_TICK_MS: '3600000' } });
    try {
      const busy = await other.request('POST', '/v1/admin/reconcile/counts?wait=true');
      expect(busy.body.runs).toEqual([{ domain: 'counts', target: 'test:counts', busy: true }]);
    } finally {
      await other.close();
    }
    open();
    expect(await first).toMatchObject({ status: 'finished', repaired: 1 });
  });

  it('answers 404 for a domain nothing reconciles, and reads the report with ops:read', async () => {
    expect((await t.request('POST', '/v1/admin/reconcile/nothing')).status).toBe(404);
    expect((await t.request('PUT', '/v1/admin/operators/rita', { body: { name: 'Rita' } })).status).toBe(201);
    const key = (await t.request('POST', '/v1/admin/operators/rita/api-keys', { body: { scopes: ['ops:read'] } })).body.key;
    expect((await t.request('GET', '/v1/ops/reconciliation', { token: key })).status).toBe(200);
    expect((await t.request('POST', '/v1/admin/reconcile/counts', { token: key })).status).toBe(403);
    const started = await t.request('POST', '/v1/admin/reconcile/counts');
    expect(started.status).toBe(202);
    expect(started.body.runs).toEqual([{ domain: 'counts', target: 'test:counts' }]);
  });
});
