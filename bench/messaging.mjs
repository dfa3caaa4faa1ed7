// Messaging core throughput and latency, measured in one run on one database:
//   1. pg-boss alone: insert N jobs, work them with a no-op handler (the ceiling of the queue underneath);
//   2. Crossdock end to end: N messages through outbox.addMany (100 a transaction), relay, worker, governor, to a
//      no-op destination, in order per key;
//   3. relay latency: messages trickled one at a time, commit to job queued (p50, p99);
//   4. the cost outbox.add adds to a small business transaction.
// Usage: npm run bench:messaging   (DATABASE_URL to use a server; BENCH_MESSAGES 3000, BENCH_KEYS 200,
// BENCH_CONCURRENCY 16 jobs in flight, the same for pg-boss alone and for Crossdock)
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { createApp } from '../dist/app.js';
import { readEnv } from '../dist/config/env.js';
import { MIGRATIONS } from '../dist/migrations/index.js';
import { PG_POOL } from '../dist/platform/database/pg-pool.js';
import { inTransaction } from '../dist/platform/database/transaction.js';
import { Destinations } from '../dist/platform/delivery/destinations.js';
import { Outbox } from '../dist/platform/outbox/outbox.js';
import { Subscriptions } from '../dist/platform/outbox/subscriptions.js';
import { createLogger } from '../dist/platform/observability/logger.js';
import { benchDatabase, machineLine, percentile } from './support.mjs';

const N = Number(process.env.BENCH_MESSAGES ?? 3000);
const KEYS = Number(process.env.BENCH_KEYS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuMs = ({ user, system }) => (user + system) / 1000;

const database = await benchDatabase(`crossdock_bench_${process.pid}`);
const databaseUrl = database.url;

// 1. pg-boss alone.
const boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss', useListenNotify: true, max: 10 });
boss.on('error', () => {});
await boss.start();
await boss.createQueue('bench-baseline', { notify: true });
let done = 0;
let bossStarted = 0;
// The same fetch settings as Crossdock's delivery workers.
await boss.work('bench-baseline', { localConcurrency: 2, batchSize: CONCURRENCY / 2, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 }, async (jobs) => {
  done += jobs.length;
});
bossStarted = performance.now();
const bossCpu = process.cpuUsage();
for (let i = 0; i < N; i += 100) await boss.insert('bench-baseline', Array.from({ length: Math.min(100, N - i) }, (_, j) => ({ data: { i: i + j } })));
const bossWriteMs = performance.now() - bossStarted;
while (done < N) await sleep(20);
const bossSeconds = (performance.now() - bossStarted) / 1000;
const bossCpuMs = cpuMs(process.cpuUsage(bossCpu));
await boss.stop({ graceful: true, close: true });

// 2-4. Crossdock.
const delivered = { count: 0 };
function BenchDestination(destinations, subscriptions) {
  destinations.register('bench', {
    limits: async () => ({ ratePerSecond: 100000, burst: 100000, concurrency: 64, maintenanceWindows: [] }),
    deliver: async () => {
      delivered.count++;
    },
  });
  subscriptions.declare('bench.command', () => ['bench:noop']);
  return true;
}
class BenchModule {}
Module({ providers: [{ provide: 'BENCH_DESTINATION', inject: [Destinations, Subscriptions], useFactory: BenchDestination }] })(BenchModule);
const env = readEnv({ DATABASE_URL: databaseUrl, CROSSDOCK_ADMIN_TOKEN: 'bench-admin-token-0123456789', PORT: '0', LOG_LEVEL: 'warn', LOG_FORMAT: 'json', CROSSDOCK_WORKER_CONCURRENCY: String(CONCURRENCY) });
const logger = createLogger({ level: 'warn', format: 'json' });
const app = await createApp({ env, databaseUrl, adminToken: env.adminToken, migrations: MIGRATIONS, logger, additionalModules: [BenchModule] });
const appPool = app.get(PG_POOL);
const outbox = app.get(Outbox);
const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });

const e2eStarted = performance.now();
const e2eCpu = process.cpuUsage();
for (let i = 0; i < N; i += 100) {
  // Transactions of 100 messages written together (addMany), as pg-boss alone inserts its jobs 100 at a time.
  await inTransaction(appPool, (tx) => outbox.addMany(tx, Array.from({ length: Math.min(100, N - i) }, (_, k) => ({
    message: { type: 'bench.command', kind: 'command', key: `k${(i + k) % KEYS}`, payload: { j: i + k } },
    destinations: ['bench:noop'],
  }))));
}
const e2eWriteMs = performance.now() - e2eStarted;
const deliveredWhileWriting = delivered.count;
while (delivered.count < N) await sleep(20);
const e2eSeconds = (performance.now() - e2eStarted) / 1000;
const e2eCpuMs = cpuMs(process.cpuUsage(e2eCpu));

// Relay latency: one message per transaction, spaced out so that each is relayed on its own.
for (let i = 0; i < 200; i++) {
  await inTransaction(appPool, (tx) => outbox.add(tx, { type: 'bench.command', kind: 'command', key: `lat${i}`, payload: { i } }));
  await sleep(15);
}
await sleep(500);
// A command's relayed step is kept on its outbox row (relayed_at, relayed_as).
const lags = (await pool.query("select extract(epoch from relayed_at - created_at) * 1000 as latency_ms from outbox where key like 'lat%' and relayed_as = 'queued' order by 1")).rows.map((r) => Number(r.latency_ms));
const pct = (p) => percentile(lags, p);

// outbox.add cost: the same small transaction with and without one message, on an api-role instance
// (no relay or workers reacting in this process).
const apiEnv = readEnv({ DATABASE_URL: databaseUrl, CROSSDOCK_ADMIN_TOKEN: 'bench-admin-token-0123456789', PORT: '0', LOG_LEVEL: 'warn', LOG_FORMAT: 'json', CROSSDOCK_ROLE: 'api' });
await app.close();
const apiApp = await createApp({ env: apiEnv, databaseUrl, adminToken: apiEnv.adminToken, migrations: MIGRATIONS, logger, additionalModules: [BenchModule] });
const apiPool = apiApp.get(PG_POOL);
const apiOutbox = apiApp.get(Outbox);
await pool.query('create table if not exists bench_account (id int primary key, balance int not null)');
await pool.query('insert into bench_account values (1, 0) on conflict do nothing');
async function timeTransactions(withOutbox) {
  const started = performance.now();
  for (let i = 0; i < 300; i++) {
    await inTransaction(apiPool, async (tx) => {
      await tx.query('update bench_account set balance = balance + 1 where id = 1');
      if (withOutbox) await apiOutbox.add(tx, { type: 'bench.command', kind: 'command', key: `cost${i % 50}`, payload: { i } });
    });
  }
  return (performance.now() - started) / 300;
}
await timeTransactions(false);
const plain = await timeTransactions(false);
const withAdd = await timeTransactions(true);

const rate = (s) => Math.round(N / s);
console.log(`${machineLine()}; PostgreSQL ${database.server}`);
console.log(`${N} messages over ${KEYS} keys, ${CONCURRENCY} jobs in flight per process, no-op target, one process.`);
console.log('');
console.log('| measure | result |');
console.log('|---|---:|');
console.log(`| pg-boss alone: insert and work ${N} jobs | ${rate(bossSeconds)} jobs/s; ${(bossCpuMs / N).toFixed(2)} ms of Node CPU per job |`);
console.log(`| Crossdock end to end: outbox commit to delivered | ${rate(e2eSeconds)} messages/s (${Math.round((rate(e2eSeconds) / rate(bossSeconds)) * 100)}% of pg-boss); ${(e2eCpuMs / N).toFixed(2)} ms of Node CPU per message |`);
console.log(`| of which writing the ${N} (100 a transaction, deliveries running meanwhile) | pg-boss inserts ${bossWriteMs.toFixed(0)} ms; outbox.addMany ${e2eWriteMs.toFixed(0)} ms, ${deliveredWhileWriting} delivered by then; the rest delivered at ${Math.round((N - deliveredWhileWriting) / (e2eSeconds - e2eWriteMs / 1000))} messages/s |`);
console.log(`| relay latency, commit to job queued (${lags.length} single messages) | p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms |`);
console.log(`| a one-row update transaction | ${plain.toFixed(2)} ms |`);
console.log(`| the same with outbox.add of one message | ${withAdd.toFixed(2)} ms (+${(withAdd - plain).toFixed(2)} ms) |`);

await pool.end();
await apiApp.close();
await database.close();
process.exit(0);
