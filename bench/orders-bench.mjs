// Orders, in one run, on throwaway databases of a PostgreSQL server:
//   1. intake: POST /v1/orders on an api-role instance (no worker in the process), autocannon, each request
//      with its own Idempotency-Key and channelOrderId: orders/s and acknowledgement latency;
//   2. the PostgreSQL ceiling for the same rows with plain pg (orders-pg-ceiling.mjs), and the intake's share;
//   3. accepted to confirmed with a healthy ERP (the Business Central simulator) under the backend's rate;
//   4. the drain of a backlog built up while the ERP was in maintenance, against the backend's rate.
// Usage: npm run bench:orders   (DATABASE_URL: the server to create the databases on; default the local one)
// Options: BENCH_CONNECTIONS (64), BENCH_SECONDS (20), BENCH_STEADY_RATE (20 orders/s), BENCH_BACKLOG (1000),
// BENCH_FEW_CONNECTIONS (8: the intake again, for half the time, with fewer connections than the service's pool),
// BENCH_PAIRS (1: more alternate the intake and plain pg again, each from empty tables, and the median ratio is given:
// on a 2-core machine shared with the load generator a single pair moves by a fifth from run to run).
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { createBusinessCentralSimulator } from '../dist/simulators/business-central/bc-simulator.js';
import { legacyCompany } from '../dist/simulators/demo-simulators.js';
import { createSapB1Simulator } from '../dist/simulators/sap-b1/sap-b1-simulator.js';
import { openCeiling } from './orders-pg-ceiling.mjs';
import {
  adminCall, backendsOf, cpuMeter, createDatabase, issueApiKey, machineCpuMeter, machineLine, numberOption, percentile, serverUrlOption, startService, stopService,
} from './support.mjs';

const serverUrl = serverUrlOption();
const connections = numberOption('BENCH_CONNECTIONS', 64);
const seconds = numberOption('BENCH_SECONDS', 20);
const steadyRate = numberOption('BENCH_STEADY_RATE', 20);
const backlog = numberOption('BENCH_BACKLOG', 1000);
const fewConnections = numberOption('BENCH_FEW_CONNECTIONS', 8);
const pairs = numberOption('BENCH_PAIRS', 1);
const adminToken = 'bench-admin-token-0123456789';
const port = 3921;
const base = `http://127.0.0.1:${port}`;
const CHANNEL = 'bench-portal';
const ERP_LATENCY_MS = [10, 30];
// The simulator's own limit, per backend rate: one create is two requests (lookup by externalDocumentNumber,
// then the create), so three times the backend's rate leaves room for its burst.
const SIM_RATE_FACTOR = 3;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The simulator's items (its seed data); order n takes 2 or 3 of them, so that orders spread over the SKUs.
const ITEMS = ['1896-S', '1900-S', '1906-S', '1908-S', '1920-S', '1928-S', '1936-S', '1953-W', '1964-W', '1968-S'];
const orderBody = (channelOrderId, n) => ({
  channelOrderId,
  customer: { accountNumber: '10000' },
  currency: 'EUR',
  lines: [0, 3, 6].slice(0, 2 + (n % 2)).map((offset, i) => ({ lineId: String(i + 1), sku: ITEMS[(n + offset) % ITEMS.length], quantity: 1 + i, unitPrice: 100.5 })),
  shipTo: { name: 'Adatum Corporation', line1: 'Station Road, 21', city: 'Cambridge', postalCode: 'CB1 2FB', country: 'GB' },
});

const workDir = mkdtempSync(join(tmpdir(), 'crossdock-bench-orders-'));
const logPath = join(workDir, 'service.log');
const sim = createBusinessCentralSimulator({ clientId: 'crossdock', clientSecret: 'secret-1', latencyMs: ERP_LATENCY_MS, concurrency: 10 });
const simUrl = await sim.listen();
// SAP Business One beside it, holding the same customers and items, with the same latency.
const sap = createSapB1Simulator({ data: legacyCompany(), latencyMs: ERP_LATENCY_MS, companyDb: 'SBODEMOUS', userName: 'manager', password: 'secret-1' });
const sapUrl = await sap.listen();
const serviceEnv = {
  PORT: String(port),
  CROSSDOCK_ADMIN_TOKEN: adminToken,
  CROSSDOCK_CONFIG: new URL('./orders-config.yaml', import.meta.url).pathname,
  BENCH_BC_URL: simUrl,
  BENCH_SAP_URL: sapUrl,
  CROSSDOCK_API_KEY_RATE_PER_SECOND: '1000000',
  CROSSDOCK_API_KEY_RATE_BURST: '1000000',
  LOG_FORMAT: 'json',
  LOG_LEVEL: 'info',
};
const databases = [];
let service;

/** Routes orders to `backend`, fills its customer read model, sets the ERP's limit from its rate; its limits. */
async function routeOrdersTo(backend) {
  const { limits, role, kind } = await adminCall(base, adminToken, 'GET', `/v1/admin/erp-backends/${backend}`);
  await adminCall(base, adminToken, 'PUT', '/v1/admin/routing/orders', { mode: role, primary: backend });
  await adminCall(base, adminToken, 'POST', `/v1/admin/erp-backends/${backend}/sync/customers`);
  // SAP publishes no rate limit, and its simulator has none; Business Central's is set above the backend's.
  if (kind === 'business-central') sim.settings.ratePerSecond = SIM_RATE_FACTOR * limits.ratePerSecond;
  return limits;
}

async function prepare(databaseUrl, role, backend) {
  service = await startService({ ...serviceEnv, DATABASE_URL: databaseUrl, CROSSDOCK_ROLE: role }, logPath);
  const limits = await routeOrdersTo(backend);
  return { key: await issueApiKey(base, adminToken, `channels/${CHANNEL}`, ['orders:write', 'orders:read']), limits };
}

const refusals = {};

/** One order as a channel sends it; a 429 or 503 is sent again after its Retry-After, as a channel would. */
async function submit(key, channelOrderId, n) {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': channelOrderId },
      body: JSON.stringify(orderBody(channelOrderId, n)),
    });
    const body = await response.json();
    if (response.status === 202) return body.orderId;
    refusals[response.status] = (refusals[response.status] ?? 0) + 1;
    if (![429, 503].includes(response.status) || attempt === 5) throw new Error(`POST /v1/orders answered ${response.status}: ${JSON.stringify(body)}`);
    await sleep(1000 * Number(response.headers.get('retry-after') ?? 1));
  }
}

/** Waits until none of the orders is on its way to the ERP any more; answers the count by status. */
async function settled(databaseUrl, orderIds, timeoutMs) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const until = Date.now() + timeoutMs;
  try {
    for (;;) {
      const { rows } = await client.query('select status, count(*)::int as n from sales_order where id = any($1::uuid[]) group by status', [orderIds]);
      const counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      if (!counts.accepted && !counts.submitted) return counts;
      if (Date.now() > until) return counts;
      await sleep(250);
    }
  } finally {
    await client.end();
  }
}

/** Why orders ended other than confirmed (their status reason), and how many. */
const unconfirmed = new Map();

/** Each order's history as the API shows it (admin token): when it was accepted and confirmed, in ms. */
async function histories(orderIds) {
  const times = [];
  for (let i = 0; i < orderIds.length; i += 16) {
    times.push(...(await Promise.all(orderIds.slice(i, i + 16).map(async (id) => {
      const order = await adminCall(base, adminToken, 'GET', `/v1/orders/${id}`);
      const at = (status) => Date.parse(order.history.find((h) => h.status === status)?.at ?? NaN);
      if (order.status !== 'confirmed') unconfirmed.set(order.statusReason, (unconfirmed.get(order.statusReason) ?? 0) + 1);
      return { accepted: at('accepted'), confirmed: at('confirmed') };
    }))));
  }
  return times;
}

/** The ERP's maintenance, through the simulator's control API: 503 with Retry-After to every call while on. */
const maintenance = (on) => fetch(`${simUrl}/_control/maintenance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ on }) });

/**
 * Where an order's time went on its way to the ERP, from the trace steps of its create command: commit to
 * relayed (a job queued), the ERP call (both requests), and the rest (the job's fetch, the claim and the
 * governor before the call, settling after it). Per step, [p50, p99] in ms.
 */
async function stepTimes(databaseUrl, orderIds) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      // A command's stored, relayed and delivered steps are its outbox row's (created_at, relayed_at, delivered_at, delivery).
      `select extract(epoch from relayed_at - created_at) * 1000 as relay, extract(epoch from delivered_at - relayed_at) * 1000 - call as rest, call
         from (select created_at, relayed_at, delivered_at, (delivery ->> 'latencyMs')::float8 as call from outbox
                where key = any($1::text[]) and type = 'erp.sales-order.create' and status = 'delivered') steps`,
      [orderIds],
    );
    const { rows: deferrals } = await client.query(
      `select coalesce(t.detail ->> 'reason', '?') as reason, count(*)::int as n from outbox o join trace_event t on t.delivery_id = o.delivery_id
        where o.key = any($1::text[]) and o.type = 'erp.sales-order.create' and t.step in ('deferred', 'retry-scheduled') group by 1 order by 2 desc`,
      [orderIds],
    );
    return {
      ...Object.fromEntries(['relay', 'call', 'rest'].map((step) => {
        const values = rows.map((r) => Number(r[step])).filter(Number.isFinite).sort((a, b) => a - b);
        return [step, [percentile(values, 50), percentile(values, 99)]];
      })),
      deferrals: deferrals.map((d) => `${d.reason} ${d.n}`).join(', ') || 'none',
    };
  } finally {
    await client.end();
  }
}

function simAnswers(from, status) {
  return sim.state.requests.slice(from).filter((r) => r.status === status).length;
}

function orderRequests(key) {
  // One id per request, replaced by autocannon: the Idempotency-Key and the channel's order id.
  return ITEMS.map((_, n) => ({
    method: 'POST',
    path: '/v1/orders',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': '[<id>]' },
    body: JSON.stringify(orderBody('BENCH-[<id>]', n)),
  }));
}

/**
 * Waits (30 s at most) until nothing but this pool's connection is busy on the database: the requests a load
 * generator left behind when it stopped are finished, and the next run starts from an idle service.
 */
async function quiesce(pool) {
  for (let i = 0; i < 300; i++) {
    const { rows: [{ n }] } = await pool.query(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'");
    if (n === 0) return;
    await sleep(100);
  }
}

/** What `work` answers, and the CPU used while it ran, in cores: per group of processes, this one, all others. */
async function withCpu(groups, work) {
  const meters = await Promise.all(Object.entries(groups).map(async ([name, pidsOf]) => [name, await cpuMeter(pidsOf)]));
  const machine = await machineCpuMeter();
  const own = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const elapsed = (performance.now() - started) / 1000;
  const usage = process.cpuUsage(own);
  const cpu = Object.fromEntries(await Promise.all(meters.map(async ([name, meter]) => [name, (await meter()) / elapsed])));
  cpu.bench = (usage.user + usage.system) / 1e6 / elapsed;
  cpu.other = (await machine()) / elapsed - Object.values(cpu).reduce((a, b) => a + b, 0);
  return { result, cpu };
}

const cannon = (key, duration, clients = connections) =>
  new Promise((resolve, reject) => {
    autocannon({ url: base, connections: clients, duration, pipelining: 1, idReplacement: true, requests: orderRequests(key) }, (error, result) => (error ? reject(error) : resolve(result)));
  });

/** `steadyRate` orders a second for `seconds`, on their way to whichever ERP orders are routed to: accepted to confirmed. */
async function steadyRun(key, databaseUrl, prefix, limits) {
  const ids = [];
  const started = performance.now();
  const sends = [];
  for (let i = 0; i < steadyRate * seconds; i++) {
    const due = started + (i * 1000) / steadyRate;
    if (due > performance.now()) await sleep(due - performance.now());
    sends.push(submit(key, `${prefix}-${i}`, i).then((id) => ids.push(id)));
  }
  await Promise.all(sends);
  const counts = await settled(databaseUrl, ids, 60_000);
  const times = (await histories(ids)).map((t) => t.confirmed - t.accepted).filter(Number.isFinite).sort((a, b) => a - b);
  return { limits, counts, n: ids.length, p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1), steps: await stepTimes(databaseUrl, ids) };
}

const results = {};
try {
  // 1. Intake.
  const intakeDb = await createDatabase(serverUrl, `crossdock_bench_orders_${process.pid}_intake`);
  databases.push(intakeDb);
  const intake = await prepare(intakeDb.url, 'api', 'bc-steady');
  await cannon(intake.key, 3);
  const pool = new pg.Pool({ connectionString: intakeDb.url, max: 1 });
  const count = async (sql) => (await pool.query(sql)).rows[0].n;
  results.postgres = (await pool.query('show server_version')).rows[0].server_version;
  await quiesce(pool);
  const before = await count('select count(*)::int as n from sales_order');
  const postgresPids = () => backendsOf(pool);
  const { result: run, cpu: intakeCpu } = await withCpu({ service: () => [service.pid], postgres: postgresPids }, () => cannon(intake.key, seconds));
  const stored = (await count('select count(*)::int as n from sales_order')) - before;
  const statuses = Object.entries(run.statusCodeStats).filter(([code]) => code !== '202').map(([code, { count: n }]) => `${code}: ${n}`);
  if (run.errors + run.timeouts > 0) statuses.push(`no answer: ${run.errors + run.timeouts}`);
  results.intake = { rps: run.requests.average, p50: run.latency.p50, p99: run.latency.p99, ok: run['2xx'], failed: run.non2xx + run.errors + run.timeouts, statuses, stored };
  await quiesce(pool);
  const few = await cannon(intake.key, seconds / 2, fewConnections);
  results.few = { rps: few.requests.average, p50: few.latency.p50, p99: few.latency.p99, failed: few.non2xx + few.errors + few.timeouts };
  await stopService(service);

  // 2. The same rows with plain pg, on the same schema, from empty tables as the intake had.
  await pool.query('truncate sales_order, sales_order_line, sales_order_status, outbox, trace_event, idempotency_record cascade');
  // As many connections as the intake had, unless the server is shared and that would leave others fewer than 20.
  const { rows: [{ free }] } = await pool.query("select current_setting('max_connections')::int - (select count(*) from pg_stat_activity)::int as free");
  results.ceilingConnections = Math.max(1, Math.min(connections, free - 20));
  await pool.end();
  const plain = await openCeiling(intakeDb.url, { connections: results.ceilingConnections, channelId: CHANNEL, backendId: 'bc-steady' });
  const { result: ceiling, cpu: ceilingCpu } = await withCpu({ postgres: () => plain.pids }, () => plain.run(seconds)).finally(() => plain.close());
  results.ceiling = ceiling;
  results.cpu = { intake: intakeCpu, ceiling: ceilingCpu };
  results.pairs = [{ intake: results.intake, ceiling }];
  // 1b. More pairs, alternating, each run from empty tables as the first.
  const emptied = async () => {
    const client = new pg.Client({ connectionString: intakeDb.url });
    await client.connect();
    await client.query('truncate sales_order, sales_order_line, sales_order_status, outbox, trace_event, idempotency_record cascade');
    await client.end();
  };
  for (let pair = 1; pair < pairs; pair++) {
    await emptied();
    const again = await prepare(intakeDb.url, 'api', 'bc-steady');
    await cannon(again.key, 3);
    const run = await cannon(again.key, seconds);
    await stopService(service);
    await emptied();
    const next = await openCeiling(intakeDb.url, { connections: results.ceilingConnections, channelId: CHANNEL, backendId: 'bc-steady' });
    const nextCeiling = await next.run(seconds).finally(() => next.close());
    results.pairs.push({ intake: { rps: run.requests.average, p99: run.latency.p99, failed: run.non2xx + run.errors + run.timeouts }, ceiling: nextCeiling });
  }

  // 3. Accepted to confirmed at a steady rate under the backend's limit, with the worker in the process.
  const erpDb = await createDatabase(serverUrl, `crossdock_bench_orders_${process.pid}_erp`);
  databases.push(erpDb);
  const steady = await prepare(erpDb.url, 'all', 'bc-steady');
  const warm = await Promise.all([1, 2, 3].map((i) => submit(steady.key, `WARM-${i}`, i)));
  await settled(erpDb.url, warm, 30_000);
  let requestsBefore = sim.state.requests.length;
  results.steady = await steadyRun(steady.key, erpDb.url, 'STEADY', steady.limits);
  results.steady.throttled = simAnswers(requestsBefore, 429);
  results.steps = results.steady.steps;
  // 3b. The same against SAP Business One.
  const sapLimits = await routeOrdersTo('sap-steady');
  results.sapSteady = await steadyRun(steady.key, erpDb.url, 'STEADY-SAP', sapLimits);
  results.sapSteady.inErp = new Set([...sap.state.documents.Orders.values()].filter((o) => String(o.NumAtCard).length > 0).map((o) => o.NumAtCard)).size;
  results.sapSteady.erpOrdersTotal = sap.state.documents.Orders.size;

  // 4. A backlog built up while the ERP is in maintenance, drained when it is back.
  const limits = await routeOrdersTo('bc-drain');
  requestsBefore = sim.state.requests.length;
  await maintenance(true);
  const backlogIds = [];
  for (let i = 0; i < backlog; i += 16) {
    backlogIds.push(...(await Promise.all(Array.from({ length: Math.min(16, backlog - i) }, (_, j) => submit(steady.key, `BACKLOG-${i + j}`, i + j)))));
  }
  await sleep(2000);
  await maintenance(false);
  const liftedAt = Date.now();
  const backlogCounts = await settled(erpDb.url, backlogIds, (backlog / limits.ratePerSecond) * 3000 + 30_000);
  const confirmedAt = (await histories(backlogIds)).map((t) => t.confirmed).filter(Number.isFinite).sort((a, b) => a - b);
  // The steady rate: from the 5th to the 95th percentile of confirmations, past the burst and the tail.
  const [i5, i95] = [Math.floor(confirmedAt.length * 0.05), Math.floor(confirmedAt.length * 0.95)];
  results.drain = {
    limits, counts: backlogCounts, n: backlogIds.length,
    rate: (i95 - i5) / ((confirmedAt[i95] - confirmedAt[i5]) / 1000),
    firstAfter: (confirmedAt[0] - liftedAt) / 1000, allAfter: (confirmedAt.at(-1) - liftedAt) / 1000,
    throttled: simAnswers(requestsBefore, 429), unavailable: simAnswers(requestsBefore, 503),
    erpOrders: new Set([...sim.state.orders.values()].map((o) => o.externalDocumentNumber)).size, erpOrdersTotal: sim.state.orders.size,
  };
  await stopService(service);
} finally {
  if (service) await stopService(service);
  for (const db of databases) await db.drop();
  await sim.close();
  await sap.close();
}

const { intake, few, ceiling, ceilingConnections, steady, sapSteady, drain, cpu, postgres } = results;
const pct = (x) => `${Math.round(x * 100)}%`;
const countsOf = (counts) => Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ');
console.log(`${machineLine()}; PostgreSQL ${postgres} (${new URL(serverUrl).host}); client on the same machine.`);
console.log('');
console.log('| measure | result | aim |');
console.log('|---|---|---|');
console.log(`| intake: POST /v1/orders (api role), 2-3 lines, autocannon ${connections} connections, ${seconds} s | ${Math.round(intake.rps)} orders/s; p50 ${intake.p50} ms, p99 ${intake.p99} ms; ${intake.failed} not 202${intake.statuses.length ? ` (${intake.statuses.join(', ')})` : ''}; ${intake.stored} orders stored for ${intake.ok} answered 202 | ≥ 1,500 orders/s, p99 ≤ 50 ms |`);
console.log(`| the same with ${fewConnections} connections, ${seconds / 2} s | ${Math.round(few.rps)} orders/s; p50 ${few.p50} ms, p99 ${few.p99} ms; ${few.failed} not 202 | |`);
console.log(`| the same rows with plain pg (one transaction per order, ${ceilingConnections} connections, ${seconds} s) | ${Math.round(ceiling.ordersPerSecond)} orders/s; transaction p50 ${ceiling.p50.toFixed(1)} ms, p99 ${ceiling.p99.toFixed(1)} ms; intake = ${pct(intake.rps / ceiling.ordersPerSecond)} of it | |`);
console.log(`| accepted to confirmed: ${steady.n} orders at ${steadyRate}/s, backend ${steady.limits.ratePerSecond}/s (burst ${steady.limits.burst}, ${steady.limits.concurrency} at once), ERP ${ERP_LATENCY_MS.join('-')} ms per request | p50 ${Math.round(steady.p50)} ms, p99 ${Math.round(steady.p99)} ms, slowest ${Math.round(steady.max)} ms; ${countsOf(steady.counts)}; ERP 429s: ${steady.throttled} | p99 < 250 ms |`);
console.log(`| the same against SAP Business One (Service Layer simulator, same latency), backend ${sapSteady.limits.ratePerSecond}/s (burst ${sapSteady.limits.burst}, ${sapSteady.limits.concurrency} at once) | p50 ${Math.round(sapSteady.p50)} ms, p99 ${Math.round(sapSteady.p99)} ms, slowest ${Math.round(sapSteady.max)} ms; ${countsOf(sapSteady.counts)}; SAP orders: ${sapSteady.erpOrdersTotal} for ${sapSteady.n} sent, ${sapSteady.inErp} distinct NumAtCard | p99 < 250 ms |`);
console.log(`| backlog drain: ${drain.n} orders taken during ERP maintenance, backend ${drain.limits.ratePerSecond}/s (burst ${drain.limits.burst}), ERP limit ${SIM_RATE_FACTOR * drain.limits.ratePerSecond} requests/s | ${drain.rate.toFixed(1)} orders/s confirmed = ${pct(drain.rate / drain.limits.ratePerSecond)} of the backend's rate; first ${drain.firstAfter.toFixed(1)} s, last ${drain.allAfter.toFixed(1)} s after the ERP was back; ${countsOf(drain.counts)}; ERP 429s: ${drain.throttled} (503s in maintenance: ${drain.unavailable}) | ≥ 95% of the backend's rate, no 429 |`);
if (results.pairs.length > 1) {
  const ratios = results.pairs.map((p) => p.intake.rps / p.ceiling.ordersPerSecond).sort((a, b) => a - b);
  console.log(`| the intake and plain pg alternated, ${results.pairs.length} pairs of ${seconds} s (intake orders/s, p99 / plain pg / ratio) | ` +
    `${results.pairs.map((p, i) => `${i + 1}: ${Math.round(p.intake.rps)}, ${p.intake.p99} ms${p.intake.failed ? ` (${p.intake.failed} not 202)` : ''} / ${Math.round(p.ceiling.ordersPerSecond)} / ${pct(p.intake.rps / p.ceiling.ordersPerSecond)}`).join('; ')}; ` +
    `median ${pct(ratios[Math.floor(ratios.length / 2)])} | ≥ 200% where 1,500 orders/s is past the machine |`);
}
console.log('');
const cores = (x, rate) => `${x.toFixed(2)}${rate ? ` (${((x * 1000) / rate).toFixed(2)} ms per order)` : ''}`;
console.log(`CPU in cores (of ${cpus().length}) during the intake: service ${cores(cpu.intake.service, intake.rps)}, its PostgreSQL backends ${cores(cpu.intake.postgres, intake.rps)}, ` +
  `autocannon ${cores(cpu.intake.bench)}, everything else on the machine ${cores(cpu.intake.other)}; during the plain pg run: PostgreSQL backends ${cores(cpu.ceiling.postgres, ceiling.ordersPerSecond)}, ` +
  `pg client ${cores(cpu.ceiling.bench, ceiling.ordersPerSecond)}, everything else ${cores(cpu.ceiling.other)}.`);
const { steps } = results;
const step = (name) => `${Math.round(steps[name][0])} / ${Math.round(steps[name][1])} ms`;
console.log(`Accepted to confirmed, step by step (p50 / p99, from the trace): commit to relayed ${step('relay')}; the ERP call (lookup and create) ${step('call')}; ` +
  `the rest (job fetch, claim and governor before the call, settling after it) ${step('rest')}; deferrals and retries: ${steps.deferrals}.`);
for (const [reason, n] of unconfirmed) console.log(`Not confirmed (${n}): ${reason}`);
if (Object.keys(refusals).length > 0) console.log(`Orders sent again after a refusal (status: times): ${JSON.stringify(refusals)}.`);
console.log(`ERP orders: ${drain.erpOrdersTotal} created for ${3 + steady.n + drain.n} orders sent, ${drain.erpOrders} distinct references.`);
rmSync(workDir, { recursive: true, force: true });
process.exit(0);
