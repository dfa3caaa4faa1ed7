// A long outage: a target that answers 503 while a million commands wait for it, then the drain when it is back.
//   1. N commands over K keys are written through the outbox (1,000 a transaction) while the target is down;
//   2. the outage goes on for BENCH_OUTAGE_SECONDS more: the service's memory and the queue tables are sampled;
//   3. the target comes back with a limit of BENCH_RATE calls/s: the drain's pace against that limit, every
//      command exactly once and in order per key, and the tables after it (and after a vacuum).
// The service runs in this process (one instance, role all, as `npm start` runs), so its memory is this
// process's; the writer's own share is a typed array of N bytes.
// Usage: npm run bench:backlog   (DATABASE_URL to use a server, else an embedded PostgreSQL)
// Options: BENCH_MESSAGES (1,000,000), BENCH_KEYS (10,000), BENCH_RATE (1,000/s), BENCH_OUTAGE_SECONDS (60),
// BENCH_CONCURRENCY (16 calls at once at the target).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import pg from 'pg';
import { createApp } from '../dist/app.js';
import { readEnv } from '../dist/config/env.js';
import { MIGRATIONS } from '../dist/migrations/index.js';
import { PG_POOL } from '../dist/platform/database/pg-pool.js';
import { inTransaction } from '../dist/platform/database/transaction.js';
import { Destinations } from '../dist/platform/delivery/destinations.js';
import { TargetError } from '../dist/platform/delivery/outcome.js';
import { Outbox } from '../dist/platform/outbox/outbox.js';
import { createLogger } from '../dist/platform/observability/logger.js';
import { benchDatabase, machineLine, numberOption } from './support.mjs';

const N = numberOption('BENCH_MESSAGES', 1_000_000);
const KEYS = numberOption('BENCH_KEYS', 10_000);
const RATE = numberOption('BENCH_RATE', 1_000);
const BURST = Math.max(1, Math.round(RATE / 10));
const OUTAGE_SECONDS = numberOption('BENCH_OUTAGE_SECONDS', 60);
const CONCURRENCY = numberOption('BENCH_CONCURRENCY', 16);
const WRITE_BATCH = 1_000;
const RETRY_AFTER_MS = 5_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes) => Math.round(bytes / 1048576);
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;

const database = await benchDatabase(`crossdock_bench_backlog_${process.pid}`);

// The target: down (503, Retry-After 5 s) until `target.up`; then it counts every call per second and checks
// each command arrives once and after the one before it for its key (message j is key j % K, step j / K).
const target = { up: false, callsWhileDown: 0, delivered: 0, duplicates: 0, outOfOrder: 0, perSecond: new Map(), upAt: 0, lastAt: 0 };
const seen = new Uint8Array(N);
const lastStep = new Int32Array(KEYS).fill(-1);
function BacklogDestination(destinations) {
  destinations.register('backlog', {
    limits: async () => ({ ratePerSecond: RATE, burst: BURST, concurrency: CONCURRENCY, maintenanceWindows: [] }),
    deliver: async (delivery) => {
      if (!target.up) {
        target.callsWhileDown++;
        throw new TargetError('throttled', 'the target is unavailable for now', { status: 503, retryAfterMs: RETRY_AFTER_MS });
      }
      const { j } = delivery.payload;
      const second = Math.floor((performance.now() - target.upAt) / 1000);
      target.perSecond.set(second, (target.perSecond.get(second) ?? 0) + 1);
      if (seen[j]) {
        target.duplicates++;
        return;
      }
      seen[j] = 1;
      const key = j % KEYS;
      const step = Math.floor(j / KEYS);
      if (step !== lastStep[key] + 1) target.outOfOrder++;
      lastStep[key] = step;
      target.delivered++;
      target.lastAt = performance.now();
    },
  });
  return true;
}
class BacklogModule {}
Module({ providers: [{ provide: 'BACKLOG_DESTINATION', inject: [Destinations], useFactory: BacklogDestination }] })(BacklogModule);

const env = readEnv({ DATABASE_URL: database.url, CROSSDOCK_ADMIN_TOKEN: 'bench-admin-token-0123456789', PORT: '0', LOG_LEVEL: 'warn', LOG_FORMAT: 'json' });
const app = await createApp({ env, databaseUrl: database.url, adminToken: env.adminToken, migrations: MIGRATIONS, logger: createLogger({ level: 'warn', format: 'json' }), additionalModules: [BacklogModule] });
const appPool = app.get(PG_POOL);
const outbox = app.get(Outbox);
const probe = new pg.Pool({ connectionString: database.url, max: 2 });

// Memory, sampled every second, by phase.
const memory = new Map();
let phase = 'write';
const sampler = setInterval(() => {
  const { rss, heapUsed } = process.memoryUsage();
  const samples = memory.get(phase) ?? [];
  samples.push({ at: elapsed(), rss, heapUsed });
  memory.set(phase, samples);
}, 1000);

const QUEUE_TABLES = `c.relname in ('outbox', 'trace_event', 'idempotency_record', 'governor_state', 'governor_lease') or n.nspname = 'pgboss'`;
async function tables() {
  await probe.query('select pg_stat_force_next_flush()').catch(() => undefined);
  const { rows } = await probe.query(
    `select case when n.nspname = 'pgboss' then 'pgboss.*' else c.relname end as name,
            sum(coalesce(s.n_live_tup, 0))::bigint as live, sum(coalesce(s.n_dead_tup, 0))::bigint as dead,
            sum(pg_table_size(c.oid))::bigint as table_bytes, sum(pg_indexes_size(c.oid))::bigint as index_bytes,
            sum(coalesce(s.autovacuum_count, 0))::int as autovacuums
       from pg_class c join pg_namespace n on n.oid = c.relnamespace left join pg_stat_user_tables s on s.relid = c.oid
      where c.relkind = 'r' and (${QUEUE_TABLES})
      group by 1 order by 1`,
  );
  return rows;
}
const snapshots = [];
const snapshot = async (label) => snapshots.push({ label, rows: await tables() });

// 1. The backlog builds while the target is down.
const writeStarted = performance.now();
for (let i = 0; i < N; i += WRITE_BATCH) {
  await inTransaction(appPool, (tx) => outbox.addMany(tx, Array.from({ length: Math.min(WRITE_BATCH, N - i) }, (_, k) => ({
    message: { type: 'backlog.command', kind: 'command', key: `k${(i + k) % KEYS}`, payload: { j: i + k } },
    destinations: ['backlog:erp'],
  }))));
  if ((i / WRITE_BATCH) % 100 === 99) console.error(`written ${i + WRITE_BATCH} of ${N} (${elapsed().toFixed(0)} s)`);
}
const writeSeconds = (performance.now() - writeStarted) / 1000;
await snapshot('backlog written');

// 2. The outage goes on.
phase = 'outage';
const callsBeforeHold = target.callsWhileDown;
await sleep(OUTAGE_SECONDS * 1000);
const callsDuringHold = target.callsWhileDown - callsBeforeHold;
await snapshot(`after ${OUTAGE_SECONDS} s more of outage`);

// 3. The target is back.
phase = 'drain';
target.up = true;
target.upAt = performance.now();
const deadline = performance.now() + Math.max(120, (3 * N) / RATE) * 1000;
let lastReport = 0;
while (target.delivered < N && performance.now() < deadline) {
  await sleep(500);
  if (performance.now() - lastReport > 30_000) {
    lastReport = performance.now();
    console.error(`delivered ${target.delivered} of ${N} (${elapsed().toFixed(0)} s)`);
  }
}
const drainSeconds = (target.lastAt - target.upAt) / 1000;
await sleep(2000); // the last settles
phase = 'after';
await snapshot('drained');
const { rows: statuses } = await probe.query('select status, count(*)::int as n from outbox group by status order by status');
const vacuumStarted = performance.now();
for (const table of ['outbox', 'trace_event']) await probe.query(`vacuum (analyze) ${table}`);
const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;
await snapshot('after vacuum (analyze) of outbox and trace_event');
clearInterval(sampler);

// The report.
const perSecond = [...target.perSecond.entries()].filter(([s]) => s * 1000 < drainSeconds * 1000 - 1000).map(([, n]) => n);
const fullSeconds = perSecond.slice(1); // the first second holds the burst
const memoryRow = (name) => {
  const samples = memory.get(name) ?? [];
  if (samples.length === 0) return '(no samples)';
  const rss = samples.map((s) => s.rss);
  const heap = samples.map((s) => s.heapUsed);
  return `RSS ${mib(Math.min(...rss))}-${mib(Math.max(...rss))} MiB (first ${mib(rss[0])}, last ${mib(rss.at(-1))}); heap used ${mib(Math.min(...heap))}-${mib(Math.max(...heap))} MiB (first ${mib(heap[0])}, last ${mib(heap.at(-1))})`;
};
console.log(`${machineLine()}; PostgreSQL ${database.server === 'server' ? (await probe.query('show server_version')).rows[0].server_version : database.server}`);
console.log(`${N.toLocaleString('en')} commands over ${KEYS.toLocaleString('en')} keys (in order per key) to one target that answers 503 with Retry-After ${RETRY_AFTER_MS / 1000} s until it is back, then takes ${RATE}/s (burst ${BURST}, ${CONCURRENCY} at once); one instance, role all.`);
console.log('');
console.log('| measure | result |');
console.log('|---|---|');
console.log(`| backlog written (outbox.addMany, ${WRITE_BATCH} a transaction) | ${N.toLocaleString('en')} in ${writeSeconds.toFixed(0)} s (${Math.round(N / writeSeconds)}/s) |`);
console.log(`| calls to the down target | ${target.callsWhileDown} in all; ${callsDuringHold} during the ${OUTAGE_SECONDS} s held after the backlog was written |`);
console.log(`| memory while the backlog was written | ${memoryRow('write')} |`);
console.log(`| memory through the outage | ${memoryRow('outage')} |`);
console.log(`| memory through the drain | ${memoryRow('drain')} |`);
console.log(`| drain | ${target.delivered.toLocaleString('en')} delivered in ${drainSeconds.toFixed(0)} s: **${Math.round(target.delivered / drainSeconds)}/s = ${Math.round((100 * target.delivered) / drainSeconds / RATE)}% of the target's limit**; busiest second ${Math.max(...fullSeconds, 0)}, quietest ${Math.min(...fullSeconds)} (limit ${RATE}/s, burst ${BURST}) |`);
console.log(`| exactly once, in order | duplicates at the target: ${target.duplicates}; out of order: ${target.outOfOrder}; never delivered: ${N - target.delivered}; outbox rows by status: ${JSON.stringify(Object.fromEntries(statuses.map((r) => [r.status, r.n])))} |`);
console.log(`| vacuum (analyze) of outbox and trace_event after the drain | ${vacuumSeconds.toFixed(1)} s |`);
console.log('');
console.log('Queue tables (live and dead rows, table and index size):');
console.log('');
console.log('| when | ' + snapshots[0].rows.map((r) => r.name).join(' | ') + ' |');
console.log('|---|' + snapshots[0].rows.map(() => '---').join('|') + '|');
for (const { label, rows } of snapshots) {
  const cells = snapshots[0].rows.map(({ name }) => {
    const r = rows.find((x) => x.name === name);
    return r ? `${Number(r.live).toLocaleString('en')} live, ${Number(r.dead).toLocaleString('en')} dead; ${mib(Number(r.table_bytes))} + ${mib(Number(r.index_bytes))} MiB; ${r.autovacuums} autovacuums` : '';
  });
  console.log(`| ${label} | ${cells.join(' | ')} |`);
}

await probe.end();
await app.close();
await database.close();
process.exit(target.delivered === N && target.duplicates === 0 && target.outOfOrder === 0 ? 0 : 1);
