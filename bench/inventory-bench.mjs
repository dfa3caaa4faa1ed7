// Inventory, in one run, on throwaway databases of a PostgreSQL server:
//   1. ingest: POST /v1/inventory/levels in batches of absolute positions (each a higher sequence for its SKU
//      and warehouse than the one before), from several concurrent clients, each with its own share of the
//      SKUs, against a process in role `all` (its relay and workers deliver to two webhook channels meanwhile)
//      and in role `api` (intake only): level events per second;
//   2. freshness at a steady rate of paced batches: from a batch's 202 to the receipt, by a channel, of a figure
//      of that SKU whose version is at least the one the batch computed for it (p50, p99);
//   3. outbound updates (webhook deliveries received) per level event.
// Then it checks what the channels hold: versions only grow per SKU, and the last figure received is the one the
// final positions give.
// Usage: npm run bench:inventory   (DATABASE_URL: the server to create the databases on; default the local one)
// Options: BENCH_SKUS (2000), BENCH_CLIENTS (4), BENCH_BATCH (500), BENCH_ROUNDS (4: level events per SKU and
// warehouse in the ingest), BENCH_STEADY_RATE (1000 events/s), BENCH_STEADY_BATCH (100), BENCH_SECONDS (20),
// BENCH_DRAIN_SECONDS (75: the longest wait for the ingest's deliveries), BENCH_BOUND_RATE (250/s: the third
// channel's rate limit), BENCH_WEBHOOK_BATCH (0: one event a request; n: CloudEvents batches of up to n). The service gets this environment too
// (CROSSDOCK_WORKER_CONCURRENCY, for one).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { availableToSell } from '../dist/modules/inventory/domain/available-to-sell.js';
import { startReceiver } from './inventory-receiver.mjs';
import { adminCall, cpuMeter, createDatabase, issueApiKey, machineCpuMeter, machineLine, percentile, startService, stopService } from './support.mjs';

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SKUS = Number(process.env.BENCH_SKUS ?? 2000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const STEADY_RATE = Number(process.env.BENCH_STEADY_RATE ?? 1000);
const STEADY_BATCH = Number(process.env.BENCH_STEADY_BATCH ?? 100);
const STEADY_SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
// How long the deliveries may take to catch up after the ingest and after the steady run (the run stays short).
const INGEST_DRAIN_MS = Number(process.env.BENCH_DRAIN_SECONDS ?? 75) * 1000;
const STEADY_DRAIN_MS = 45_000;
const WARM_SKUS = 100;
const WAREHOUSES = ['WH-1', 'WH-2', 'WH-3'];
const adminToken = 'bench-admin-token-0123456789';
const port = 3931;
const base = `http://127.0.0.1:${port}`;
const SOURCE = 'bench-wms';
// Two webhook channels with their own warehouses and rules; limits a receiver on the same machine can take.
const CHANNEL_LIMITS = { ratePerSecond: 5000, burst: 5000, concurrency: 64 };
// A third channel whose own rate limit binds (a marketplace API): its staleness is bounded by keys waiting / rate.
const BOUND_LIMITS = { ratePerSecond: Number(process.env.BENCH_BOUND_RATE ?? 250), burst: 50, concurrency: 8 };
const CHANNELS = {
  'bench-portal': { inventory: { warehouses: WAREHOUSES, safetyStock: 0, allocationPercent: 100 }, secret: whsec('portal'), limits: CHANNEL_LIMITS },
  'bench-outlet': { inventory: { warehouses: ['WH-2', 'WH-3'], safetyStock: 5, allocationPercent: 50 }, secret: whsec('outlet'), limits: CHANNEL_LIMITS },
  'bench-marketplace': { inventory: { warehouses: ['WH-1'], safetyStock: 0, allocationPercent: 100 }, secret: whsec('marketplace'), limits: BOUND_LIMITS, bound: true },
};
const FAST_CHANNELS = Object.keys(CHANNELS).filter((id) => !CHANNELS[id].bound);
// BENCH_WEBHOOK_BATCH=n: every channel takes CloudEvents batches of up to n events a request (opt-in mode).
const WEBHOOK_BATCH = Number(process.env.BENCH_WEBHOOK_BATCH ?? 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function whsec(name) {
  return 'whsec_' + Buffer.from(`inventory-bench-${name}-signing-key`.padEnd(32, '.')).toString('base64');
}

// Level events: each carries the next number of one counter, so every position's sequence only grows. A position's
// final figure is the accepted event with the highest sequence.
let sequence = 0;
const finalPositions = new Map();
const skuOf = (index, prefix = 'BENCH') => `${prefix}-${String(index).padStart(5, '0')}`;
function levelEvent(skuIndex, warehouse, prefix) {
  const sku = skuOf(skuIndex, prefix);
  return { eventId: `lvl-${++sequence}`, sku, warehouse, onHand: Math.floor(Math.random() * 200), sequence };
}

/** Every position of SKUs of their own, to warm the service up. */
function warmUpEvents() {
  return Array.from({ length: WARM_SKUS }, (_, s) => WAREHOUSES.map((w) => levelEvent(s, w, 'WARM'))).flat();
}

/** Every position of the client's SKUs (index % CLIENTS), once per round, shuffled within a round; in batches. */
function clientBatches(client, rounds) {
  const events = [];
  for (let r = 0; r < rounds; r++) {
    const round = [];
    for (let s = client; s < SKUS; s += CLIENTS) for (const w of WAREHOUSES) round.push([s, w]);
    shuffle(round);
    events.push(...round.map(([s, w]) => levelEvent(s, w)));
  }
  const batches = [];
  for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
  return batches;
}

function shuffle(list) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

const tally = () => ({ events: 0, accepted: 0, duplicate: 0, stale: 0, errors: 0, refused: {}, lost: 0, batchMs: [], errorSamples: [], failureSamples: {} });

const MAX_ATTEMPTS = 10;

/**
 * Posts one batch (its body serialised beforehand, if given); answers when it was accepted (its 202), or
 * undefined when it never was. A refusal (429, 503, also 500) is sent again after its Retry-After, as a source
 * would: the inbox makes an event sent twice a duplicate, never a second effect.
 */
async function post(key, { items, body }, correlationId, totals) {
  for (let attempt = 1; ; attempt++) {
    const started = performance.now();
    const response = await fetch(`${base}/v1/inventory/levels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-correlation-id': correlationId },
      body: body ?? JSON.stringify({ items }),
    });
    const text = await response.text();
    const acceptedAt = Date.now();
    if (response.status === 202) {
      const answer = JSON.parse(text);
      totals.events += items.length;
      for (const item of items) if ((finalPositions.get(`${item.sku}|${item.warehouse}`)?.sequence ?? -1) < item.sequence) finalPositions.set(`${item.sku}|${item.warehouse}`, item);
      totals.accepted += answer.accepted;
      totals.duplicate += answer.duplicate;
      totals.stale += answer.stale;
      totals.errors += answer.errors.length;
      if (answer.errors.length > 0 && totals.errorSamples.length < 3) totals.errorSamples.push(answer.errors[0]);
      totals.batchMs.push(performance.now() - started);
      return acceptedAt;
    }
    totals.refused[response.status] = (totals.refused[response.status] ?? 0) + 1;
    if (response.status >= 500 && (totals.failureSamples[response.status]?.length ?? 0) < 2) {
      (totals.failureSamples[response.status] ??= []).push({ correlationId, at: new Date().toISOString(), ms: Math.round(performance.now() - started), body: text.slice(0, 160) });
    }
    if (![429, 500, 503].includes(response.status) || attempt === MAX_ATTEMPTS) {
      totals.lost += items.length;
      return undefined;
    }
    await sleep(1000 * Number(response.headers.get('retry-after') ?? 1));
  }
}

/** The clients post their batches one after the other, all clients at once; answers the totals and seconds. */
async function ingest(key, rounds, label) {
  const perClient = Array.from({ length: CLIENTS }, (_, c) => clientBatches(c, rounds).map((items) => ({ items, body: JSON.stringify({ items }) })));
  const totals = tally();
  const started = performance.now();
  await Promise.all(perClient.map(async (batches, c) => {
    for (const [i, batch] of batches.entries()) await post(key, batch, `${label}-${c}-${i}`, totals);
  }));
  return { totals, seconds: (performance.now() - started) / 1000 };
}

/** Batches of random positions, one every STEADY_BATCH / STEADY_RATE seconds, not waiting for the one before. */
async function steady(key) {
  const count = Math.round((STEADY_RATE * STEADY_SECONDS) / STEADY_BATCH);
  const intervalMs = (1000 * STEADY_BATCH) / STEADY_RATE;
  const batches = Array.from({ length: count }, (_, i) => {
    const items = Array.from({ length: STEADY_BATCH }, () => levelEvent(Math.floor(Math.random() * SKUS), WAREHOUSES[Math.floor(Math.random() * WAREHOUSES.length)]));
    return { correlationId: `steady-${i}`, items, body: JSON.stringify({ items }) };
  });
  const totals = tally();
  const started = performance.now();
  let late = 0;
  await Promise.all(batches.map(async (batch, i) => {
    const due = started + i * intervalMs;
    if (due > performance.now()) await sleep(due - performance.now());
    else late++;
    batch.acceptedAt = await post(key, batch, batch.correlationId, totals);
  }));
  const seconds = (performance.now() - started) / 1000;
  return { batches, totals, seconds, late };
}

/**
 * Waits until no outbox row is left to relay or deliver, or `timeoutMs`: answers the seconds until the relay had
 * placed every row, until nothing was left, and what was left at the timeout.
 */
async function drained(pool, timeoutMs) {
  const started = performance.now();
  let relayedBy;
  for (;;) {
    const { rows: [counts] } = await pool.query(
      `select (select count(*) from outbox where status = 'pending')::int as unrelayed,
              ((select count(*) from outbox where status in ('waiting', 'queued', 'sending')) + (select count(*) from state_outbox) + (select count(*) from state_inflight))::int as live`,
    );
    const seconds = (performance.now() - started) / 1000;
    if (counts.unrelayed === 0) relayedBy ??= seconds;
    if (counts.unrelayed + counts.live === 0) return { relayedBy, seconds, left: 0 };
    if (seconds * 1000 > timeoutMs) return { relayedBy, seconds, left: counts.unrelayed + counts.live, ...counts };
    await sleep(100);
  }
}

const BENCH_APPLICATION = 'crossdock-inventory-bench';

/** The largest number of keys waiting for one destination, sampled every 250 ms until stop(). */
function watchDepth(pool, destination) {
  let max = 0;
  const timer = setInterval(() => {
    pool.query('select count(*)::int as n from state_outbox where destination = $1', [destination]).then(({ rows }) => (max = Math.max(max, rows[0].n)), () => undefined);
  }, 250);
  return { stop: () => (clearInterval(timer), max) };
}

/**
 * The PostgreSQL processes that work for the service: the backends of its database (not this script's) and the
 * server's own background processes (WAL writer, checkpointer...), collected as they come. Other databases' backends
 * on a shared server are left out.
 */
function trackBackends(pool) {
  const pids = new Set();
  const look = () => pool.query('select pid from pg_stat_activity where (datname = current_database() and application_name <> $1) or datname is null', [BENCH_APPLICATION])
    .then(({ rows }) => rows.forEach((r) => pids.add(String(r.pid))), () => undefined);
  const timer = setInterval(look, 250);
  void look();
  return { pids: () => [...pids], stop: () => clearInterval(timer) };
}

/** CPU in cores from now until the function it answers is called: the service, PostgreSQL, this process, the rest. */
async function cpuWatch(servicePid, postgresPids) {
  const service = await cpuMeter(() => [servicePid]);
  const postgres = await cpuMeter(postgresPids);
  const machine = await machineCpuMeter();
  const own = process.cpuUsage();
  const started = performance.now();
  return async () => {
    const elapsed = (performance.now() - started) / 1000;
    const usage = process.cpuUsage(own);
    const cores = { service: (await service()) / elapsed, postgres: (await postgres()) / elapsed, bench: (usage.user + usage.system) / 1e6 / elapsed };
    cores.other = Math.max(0, (await machine()) / elapsed - cores.service - cores.postgres - cores.bench);
    return cores;
  };
}

/** A Prometheus histogram of /metrics (`name`, series filtered by `labelFilter`): cumulative buckets, sum, count. */
async function histogram(name, labelFilter = '') {
  const text = await (await fetch(`${base}/metrics`)).text();
  const h = { buckets: new Map(), sum: 0, count: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !line.includes(labelFilter)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (line.startsWith(`${name}_bucket`) && le) h.buckets.set(le, (h.buckets.get(le) ?? 0) + value);
    else if (line.startsWith(`${name}_sum`)) h.sum += value;
    else if (line.startsWith(`${name}_count`)) h.count += value;
  }
  return h;
}

/** What the histogram gained between two scrapes: count, mean and the bucket bounds of p50 and p99, in ms. */
function histogramSince(before, after) {
  const count = after.count - before.count;
  if (count === 0) return { count };
  const bound = (p) => {
    for (const [le, n] of after.buckets) if (n - (before.buckets.get(le) ?? 0) >= (p / 100) * count) return le === '+Inf' ? Infinity : Number(le) * 1000;
    return Infinity;
  };
  return { count, meanMs: ((after.sum - before.sum) / count) * 1000, p50Ms: bound(50), p99Ms: bound(99) };
}

const RELAY_LAG = 'crossdock_relay_lag_seconds';
const LEVELS_DURATION = ['crossdock_http_request_duration_seconds', 'route="/v1/inventory/levels"'];

async function prepareService(role, databaseUrl, logPath, receiver) {
  const service = await startService({
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    CROSSDOCK_ROLE: role,
    CROSSDOCK_ADMIN_TOKEN: adminToken,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  }, logPath);
  for (const [id, channel] of Object.entries(CHANNELS)) {
    await adminCall(base, adminToken, 'PUT', `/v1/admin/channels/${id}`, {
      kind: 'webhook', config: { url: receiver.urlOf(id), secret: channel.secret, ...(WEBHOOK_BATCH ? { batch: true, batchMaxEvents: WEBHOOK_BATCH } : {}) },
      inventory: channel.inventory, oversell: 'reject', limits: channel.limits,
    });
  }
  await adminCall(base, adminToken, 'PUT', `/v1/admin/sources/${SOURCE}`, { name: 'Benchmark warehouse system' });
  const key = await issueApiKey(base, adminToken, `sources/${SOURCE}`, ['inventory:write', 'inventory:read']);
  return { service, key };
}

/** One ingest measurement, from a first round that creates every position; with CPU, relay lag, server times. */
async function measureIngest(key, service, postgresPids, receiver) {
  const relayBefore = await histogram(RELAY_LAG);
  const levelsBefore = await histogram(...LEVELS_DURATION);
  const receivedBefore = receiver.count();
  const cpu = await cpuWatch(service.pid, postgresPids);
  const { totals, seconds } = await ingest(key, ROUNDS, 'ingest');
  const cores = await cpu();
  const relay = histogramSince(relayBefore, await histogram(RELAY_LAG));
  const server = histogramSince(levelsBefore, await histogram(...LEVELS_DURATION));
  const batchMs = totals.batchMs.sort((a, b) => a - b);
  return { totals, seconds, rate: totals.events / seconds, cores, relay, server, p50: percentile(batchMs, 50), p99: percentile(batchMs, 99), receivedDuring: receiver.count() - receivedBefore, receivedBefore };
}

/** Webhooks received per channel, since the counts `before` when given. */
function receivedPerChannel(receiver, before = {}) {
  return Object.fromEntries([...receiver.state.received].map(([id, list]) => [id, list.length - (before[id] ?? 0)]));
}

const databases = [];
const results = {};
const workDir = mkdtempSync(join(tmpdir(), 'crossdock-bench-inventory-'));
const logPath = join(workDir, 'service.log');
const receiver = await startReceiver(Object.fromEntries(Object.entries(CHANNELS).map(([id, c]) => [id, c.secret])));
let service;
try {
  for (const role of ['all', 'api']) {
    const database = await createDatabase(serverUrl, `crossdock_bench_inventory_${process.pid}_${role}`);
    databases.push(database);
    const prepared = await prepareService(role, database.url, logPath, receiver);
    service = prepared.service;
    const pool = new pg.Pool({ connectionString: database.url, max: 2, application_name: BENCH_APPLICATION });
    // Its connections end when the database is dropped, also after a failure.
    pool.on('error', () => undefined);
    results.postgres ??= (await pool.query('show server_version')).rows[0].server_version;
    const backends = trackBackends(pool);
    const postgresPids = backends.pids;

    // Warm-up: one batch of SKUs of their own, delivered before the measurement starts.
    await post(prepared.key, { items: warmUpEvents() }, 'warm-up', tally());
    if (role === 'all') await drained(pool, 30_000);
    const perChannelBefore = receivedPerChannel(receiver);
    const run = await measureIngest(prepared.key, service, postgresPids, receiver);
    results[role] = run;
    if (role === 'all') {
      // Deliveries of the ingest: what was received from its start until nothing was left to deliver.
      const drainCpu = await cpuWatch(service.pid, postgresPids);
      run.drain = await drained(pool, INGEST_DRAIN_MS);
      run.drainCores = await drainCpu();
      run.delivered = receiver.count() - run.receivedBefore;
      run.deliveredPerChannel = receivedPerChannel(receiver, perChannelBefore);

      // Freshness at a steady rate.
      const receivedBefore = receiver.count();
      const steadyBefore = receivedPerChannel(receiver);
      const relayBefore = await histogram(RELAY_LAG);
      const cpu = await cpuWatch(service.pid, postgresPids);
      const depth = watchDepth(pool, 'channel:bench-marketplace');
      const paced = await steady(prepared.key);
      paced.cores = await cpu();
      paced.boundDepth = depth.stop();
      paced.relay = histogramSince(relayBefore, await histogram(RELAY_LAG));
      paced.drain = await drained(pool, STEADY_DRAIN_MS);
      paced.delivered = receiver.count() - receivedBefore;
      paced.deliveredPerChannel = receivedPerChannel(receiver, steadyBefore);
      paced.latency = await freshness(pool, paced.batches, receiver.state.received);
      paced.outbox = await outboxOutcomes(pool, paced.batches.map((b) => b.correlationId));
      results.steady = paced;
      results.checks = await checks(pool, receiver.state);
    } else {
      const { rows: [{ n }] } = await pool.query("select count(*)::int as n from outbox where status = 'pending'");
      run.unrelayed = n + (await pool.query('select count(*)::int as n from state_outbox')).rows[0].n;
    }
    backends.stop();
    await pool.end();
    await stopService(service);
  }
} finally {
  if (service) await stopService(service);
  for (const db of databases) await db.drop();
  await receiver.close();
}

/**
 * Each event of each paced batch, for each channel whose figure for the event's SKU the batch changed (the figure that
 * batch stored for the channel and SKU, its `stored` trace step found by the batch's correlation id, gives the version): the time
 * from the batch's 202 to the first receipt by that channel of that SKU at that version or a later one.
 */
async function freshness(pool, batches, received) {
  // A batch's stored step per channel names every key it changed, with its version.
  const { rows } = await pool.query(
    `select t.correlation_id, t.destination, s.key, v.version::bigint as version
       from trace_event t, jsonb_array_elements_text(t.detail -> 'keys') with ordinality as s(key, n)
       cross join lateral (select t.detail -> 'versions' ->> (s.n::int - 1) as version) v(version)
      where t.correlation_id = any($1::text[]) and t.step = 'stored' and t.detail ->> 'type' = 'inventory.availability.changed'`,
    [batches.map((b) => b.correlationId)],
  );
  const versionOf = new Map(rows.map((r) => [`${r.correlation_id}|${r.destination}|${r.key}`, Number(r.version)]));
  const receipts = new Map();
  const receive = (channelId, sku, r) => {
    const k = `${channelId}|${sku}`;
    if (!receipts.has(k)) receipts.set(k, []);
    receipts.get(k).push(r);
  };
  for (const [channelId, list] of received) for (const r of list) receive(channelId, r.sku, r);
  // A version found equal to what the channel already held is settled without a call ('unchanged'): from then on
  // the channel holds that version's figure, though it receives nothing for it.
  const { rows: settled } = await pool.query(
    `select destination, detail ->> 'key' as key, (detail ->> 'version')::bigint as version, extract(epoch from at) * 1000 as at
       from trace_event where correlation_id = any($1::text[]) and step = 'unchanged' and destination like 'channel:%'`,
    [batches.map((b) => b.correlationId)],
  );
  for (const r of settled) receive(r.destination.slice('channel:'.length), r.key, { version: Number(r.version), at: Number(r.at), unchanged: true });
  for (const list of receipts.values()) list.sort((a, b) => a.at - b.at);
  const byChannel = {};
  for (const channelId of Object.keys(CHANNELS)) byChannel[channelId] = latencyOf(channelId, batches, versionOf, receipts);
  // Inside the service, from its trace: a figure's stored step (written in the intake's transaction, before its
  // commit) to its delivered step (written when the batch of calls it was in settled), and the call itself.
  const { rows: inside } = await pool.query(
    `select extract(epoch from d.at - s.at) * 1000 as stored_to_settled, d.latency_ms as call
       from trace_event s cross join lateral jsonb_array_elements_text(s.detail -> 'keys') with ordinality as k(key, n)
       join trace_event d on d.correlation_id = s.correlation_id and d.destination = s.destination and d.step = 'delivered'
                         and d.detail ->> 'key' = k.key and d.detail ->> 'version' = s.detail -> 'versions' ->> (k.n::int - 1)
      where s.correlation_id = any($1::text[]) and s.step = 'stored' and s.destination = any($2::text[])`,
    [batches.map((b) => b.correlationId), FAST_CHANNELS.map((id) => `channel:${id}`)],
  );
  const sorted = (key) => inside.map((r) => Number(r[key])).sort((a, b) => a - b);
  const service = { storedToSettled: [percentile(sorted('stored_to_settled'), 50), percentile(sorted('stored_to_settled'), 99)], call: [percentile(sorted('call'), 50), percentile(sorted('call'), 99)] };
  return { ...latencyOf(FAST_CHANNELS, batches, versionOf, receipts), byChannel, service };
}

function latencyOf(channels, batches, versionOf, receipts) {
  const samples = [];
  let unchanged = 0;
  let neverReceived = 0;
  let heldUnchanged = 0;
  for (const batch of batches.filter((b) => b.acceptedAt !== undefined)) {
    for (const event of batch.items) {
      for (const channelId of [channels].flat()) {
        const version = versionOf.get(`${batch.correlationId}|channel:${channelId}|${event.sku}`);
        if (version === undefined) {
          unchanged++;
          continue;
        }
        const receipt = (receipts.get(`${channelId}|${event.sku}`) ?? []).find((r) => r.version >= version);
        if (receipt) {
          samples.push(receipt.at - batch.acceptedAt);
          if (receipt.unchanged) heldUnchanged++;
        } else neverReceived++;
      }
    }
  }
  samples.sort((a, b) => a - b);
  return { n: samples.length, unchanged, neverReceived, heldUnchanged, p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples.at(-1) };
}

/**
 * How the figures the paced batches computed ended, from their trace steps: stored, delivered (sent), unchanged
 * (equal to what the channel held), superseded (a newer one delivered first), dead; the rest were replaced by a
 * newer figure before their turn, or are still queued.
 */
async function outboxOutcomes(pool, correlationIds) {
  const { rows } = await pool.query(
    `select step, sum(case when step = 'stored' then (detail ->> 'states')::int else 1 end)::int as n from trace_event
      where correlation_id = any($1::text[]) and step in ('stored', 'delivered', 'unchanged', 'superseded', 'dead-lettered') and destination like 'channel:%' group by step`,
    [correlationIds],
  );
  const outcomes = Object.fromEntries(rows.map((r) => [r.step, r.n]));
  const { rows: [{ n }] } = await pool.query('select ((select count(*) from state_outbox where correlation_id = any($1::text[])) + (select count(*) from state_inflight where correlation_id = any($1::text[])))::int as n', [correlationIds]);
  outcomes.queued = n;
  outcomes.replaced = (outcomes.stored ?? 0) - ['delivered', 'unchanged', 'superseded', 'dead-lettered', 'queued'].reduce((sum, k) => sum + (outcomes[k] ?? 0), 0);
  return outcomes;
}

/**
 * What the channels hold at the end: in the order received, a SKU's versions only grow; the last figure received
 * is the one the final positions give, and so is the figure the service computed (channel_availability).
 */
async function checks(pool, state) {
  const found = { versionsBack: [], lastWrong: [], computedWrong: [], missing: 0 };
  const { rows } = await pool.query('select channel_id, sku, available::int as available, version::bigint as version from channel_availability');
  const computed = new Map(rows.map((r) => [`${r.channel_id}|${r.sku}`, r]));
  for (const [channelId, channel] of Object.entries(CHANNELS)) {
    const last = new Map();
    for (const r of state.received.get(channelId)) {
      const before = last.get(r.sku);
      if (before && r.version <= before.version) found.versionsBack.push({ channelId, sku: r.sku, before: before.version, after: r.version, at: r.at - before.at });
      last.set(r.sku, r);
    }
    for (let s = 0; s < SKUS; s++) {
      const sku = skuOf(s);
      const positions = WAREHOUSES.flatMap((w) => (finalPositions.has(`${sku}|${w}`) ? [{ warehouse: w, onHand: finalPositions.get(`${sku}|${w}`).onHand, reserved: 0 }] : []));
      const expected = availableToSell(channel.inventory, positions).available;
      const got = last.get(sku);
      if (!got) found.missing++;
      else if (got.available !== expected) found.lastWrong.push({ channelId, sku, expected, received: got.available, version: got.version });
      const stored = computed.get(`${channelId}|${sku}`);
      if (stored?.available !== expected) found.computedWrong.push({ channelId, sku, expected, computed: stored?.available });
    }
  }
  const { rows: statuses } = await pool.query(
    "select status, count(*)::int as n from outbox group by status union all select 'state queued', count(*)::int from state_outbox union all select 'state sending', count(*)::int from state_inflight",
  );
  found.outbox = Object.fromEntries(statuses.filter((r) => r.n > 0).map((r) => [r.status, r.n]));
  const { rows: failed } = await pool.query(
    `select count(*)::int as n, (array_agg(e))[1:2] as samples from (
       select errors -> -1 as e from outbox where jsonb_array_length(errors) > 0
       union all select errors -> -1 from state_outbox where jsonb_array_length(errors) > 0) f`,
  );
  found.failedAttempts = failed[0];
  found.duplicates = state.duplicates;
  found.badSignatures = state.badSignatures;
  return found;
}

/** The service's log lines at warn or above, counted by message and error code. */
function logProblems(path) {
  const counts = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line);
    if (entry.level < 40 || (entry.msg === 'request' && entry.status < 500)) continue;
    const key = entry.msg === 'request' ? `request answered ${entry.status}` : `${entry.msg}${entry.err ? ` (${[entry.err.code, entry.err.message].filter(Boolean).join(': ')})` : entry.reason ? ` (${entry.reason})` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const { all, api, steady: paced, checks: check, postgres } = results;
const n = (x) => Math.round(x).toLocaleString('en-US');
const ms = (x) => `${Math.round(x)} ms`;
// Pairs whose figure the channel held from a later version settled as unchanged (equal to what it had), not received.
const heldText = (latency) => (latency.heldUnchanged ? `; ${n(latency.heldUnchanged)} held from a later version settled unchanged` : '');
const bucket = (x) => (x === Infinity ? '> 5 s' : `≤ ${x} ms`);
const refusedText = (t) => (Object.keys(t.refused).length ? `; refused and sent again: ${JSON.stringify(t.refused)}` : '');
const intakeText = (t) => `${n(t.accepted)} applied, ${t.stale} stale, ${t.duplicate} duplicate, ${t.errors} item errors${refusedText(t)}${t.lost ? `; ${n(t.lost)} events never accepted after ${MAX_ATTEMPTS} tries` : ''}`;
const perChannel = (counts, events) => Object.entries(counts).map(([id, c]) => `${id} ${(c / events).toFixed(2)}`).join(', ');
const coresText = (c) => `service ${c.service.toFixed(2)}, PostgreSQL ${c.postgres.toFixed(2)}, bench (clients and receiver) ${c.bench.toFixed(2)}, other processes ${c.other.toFixed(2)}`;
const relayText = (r) => (r.count ? `${n(r.count)} rows relayed, lag mean ${ms(r.meanMs)}, p50 ${bucket(r.p50Ms)}, p99 ${bucket(r.p99Ms)}` : 'no rows relayed');
const steadyEvents = paced.totals.events;
const drainText = (d) => (d.left === 0
  ? `nothing left to deliver ${d.seconds.toFixed(1)} s after`
  : `still ${n(d.left)} figures to deliver ${d.seconds.toFixed(0)} s after`);

console.log(`${machineLine()}; PostgreSQL ${postgres} (${new URL(serverUrl).host}); clients and webhook receiver on the same machine.`);
console.log(`${SKUS} SKUs × ${WAREHOUSES.length} warehouses; 2 webhook channels: bench-portal (${CHANNELS['bench-portal'].inventory.warehouses.join(', ')}, 100%), ` +
  `bench-outlet (${CHANNELS['bench-outlet'].inventory.warehouses.join(', ')}, safety stock 5, 50%), with limits ${CHANNEL_LIMITS.ratePerSecond}/s, ${CHANNEL_LIMITS.concurrency} at once; ` +
  `and bench-marketplace (WH-1, 100%), held to ${BOUND_LIMITS.ratePerSecond}/s and ${BOUND_LIMITS.concurrency} at once by its own limits; ` +
  `CROSSDOCK_WORKER_CONCURRENCY ${process.env.CROSSDOCK_WORKER_CONCURRENCY ?? '8 (default)'}; ` +
  `${WEBHOOK_BATCH ? `webhook batch mode: CloudEvents batches of up to ${WEBHOOK_BATCH} events a request` : 'one event per webhook request (the default)'}. Each ingest starts without positions: its first round creates them.`);
console.log('');
console.log('| measure | result | aim |');
console.log('|---|---|---|');
console.log(`| ingest, role all: ${n(all.totals.events)} level events, batches of ${BATCH}, ${CLIENTS} clients, each its own SKUs | **${n(all.rate)} events/s**; batch p50 ${ms(all.p50)}, p99 ${ms(all.p99)} (server mean ${ms(all.server.meanMs)}); ${intakeText(all.totals)}; ${n(all.receivedDuring)} webhooks received meanwhile; ${drainText(all.drain)} | ≥ 5,000 events/s |`);
console.log(`| ingest, role api (no relay or worker) | **${n(api.rate)} events/s**; batch p50 ${ms(api.p50)}, p99 ${ms(api.p99)} (server mean ${ms(api.server.meanMs)}); ${intakeText(api.totals)}; ${n(api.unrelayed)} figures left queued (no worker) | comparison |`);
console.log(`| freshness, role all: ${n(steadyEvents)} events at ${STEADY_RATE}/s for ${STEADY_SECONDS} s (${STEADY_BATCH} every ${(1000 * STEADY_BATCH) / STEADY_RATE} ms; ${(steadyEvents / paced.seconds).toFixed(0)}/s achieved) | bench-portal and bench-outlet: **p50 ${ms(paced.latency.p50)}, p99 ${ms(paced.latency.p99)}**, slowest ${ms(paced.latency.max)}, over ${n(paced.latency.n)} event × channel pairs whose figure changed (${n(paced.latency.unchanged)} did not change it${heldText(paced.latency)}${paced.latency.neverReceived ? `; ${n(paced.latency.neverReceived)} with no receipt at that version or later: ${paced.drain.left === 0 ? 'netted out, a later figure equal to the one delivered being skipped' : 'netted out or not delivered yet'}` : ''}); ${intakeText(paced.totals)}; ${drainText(paced.drain)} | p99 < 1 s |`);
const bound = paced.latency.byChannel['bench-marketplace'];
console.log(`| freshness where the channel's rate binds: bench-marketplace, ${BOUND_LIMITS.ratePerSecond}/s | p50 ${ms(bound.p50)}, p99 ${ms(bound.p99)}, slowest ${ms(bound.max)} over ${n(bound.n)} pairs${heldText(bound)}; at most ${n(paced.boundDepth)} keys waiting, so a bound of about ${ms((paced.boundDepth / BOUND_LIMITS.ratePerSecond) * 1000)} (keys waiting / rate) | bounded by keys / rate |`);
console.log(`| webhook requests received (all channels, whole run) | ${n(receiver.state.requests ?? 0)} requests carrying ${n(receiver.count())} figures | |`);
console.log(`| outbound updates per level event | ingest (role all): **${(all.delivered / all.totals.events).toFixed(2)}** (${n(all.delivered)} webhooks for ${n(all.totals.events)} events: ${perChannel(all.deliveredPerChannel, all.totals.events)}); steady: **${(paced.delivered / steadyEvents).toFixed(2)}** (${n(paced.delivered)} for ${n(steadyEvents)}: ${perChannel(paced.deliveredPerChannel, steadyEvents)}) | |`);
console.log('');
console.log('Latency: for each event of a paced batch and each channel whose figure for the SKU that batch changed, the ' +
  'batch\'s stored figure (its trace step, found by the batch\'s X-Correlation-Id) gives the version; the sample is the time from the batch\'s 202 at the client ' +
  'to the receiver\'s first verified receipt of that SKU for that channel at that version or a later one (clocks of one machine).');
console.log(`Inside the service (bench-portal and bench-outlet, from the trace): a figure's stored step (in the intake's transaction) to the settling of the calls that delivered it p50 ${ms(paced.latency.service.storedToSettled[0])}, p99 ${ms(paced.latency.service.storedToSettled[1])}; the webhook call itself p50 ${paced.latency.service.call[0].toFixed(1)} ms, p99 ${paced.latency.service.call[1].toFixed(1)} ms.`);
console.log(`Figures the paced batches computed, by outcome: ${JSON.stringify(paced.outbox)} (replaced: overwritten in the queue by a newer figure before their turn).`);
console.log('');
console.log(`CPU in cores (of ${cpus().length}): ingest role all: ${coresText(all.cores)}; the ${all.drain.seconds.toFixed(1)} s after it: ${coresText(all.drainCores)}; ` +
  `ingest role api: ${coresText(api.cores)}; steady: ${coresText(paced.cores)}.`);
console.log(`Relay (crossdock_relay_lag_seconds, commit to job queued): during the ingest: ${relayText(all.relay)}; during the steady run: ${relayText(paced.relay)}.`);
console.log(`Checks: versions going back per SKU and channel: ${check.versionsBack.length}${check.versionsBack.length ? ` (e.g. ${JSON.stringify(check.versionsBack.slice(0, 3))})` : ''}; ` +
  `last figure received wrong: ${check.lastWrong.length}${check.lastWrong.length ? ` (e.g. ${JSON.stringify(check.lastWrong.slice(0, 3))})` : ''}; ` +
  `computed figure wrong: ${check.computedWrong.length}${check.computedWrong.length ? ` (e.g. ${JSON.stringify(check.computedWrong.slice(0, 3))})` : ''}; ` +
  `SKUs never received: ${check.missing}; duplicate deliveries: ${check.duplicates}; bad signatures: ${check.badSignatures}; outbox rows by status: ${JSON.stringify(check.outbox)}; ` +
  `rows with a failed attempt: ${check.failedAttempts.n}${check.failedAttempts.n ? ` (e.g. ${JSON.stringify(check.failedAttempts.samples)})` : ''}.`);
for (const [name, r] of [['ingest role all', all], ['ingest role api', api], ['steady', paced]]) {
  if (Object.keys(r.totals.failureSamples).length > 0) console.log(`Batches refused with 5xx (${name}), e.g.: ${JSON.stringify(r.totals.failureSamples)}.`);
}
const problems = logProblems(logPath);
console.log(`Service log lines at warn or above, by message and error: ${JSON.stringify(problems)}${Object.keys(problems).length ? ` (the log is kept: ${logPath})` : ''}.`);
if (Object.keys(problems).length === 0) rmSync(workDir, { recursive: true, force: true });
if (all.drain.left + paced.drain.left > 0) console.log('Deliveries were still under way when the checks ran: a figure not received yet counts as wrong or missing above.');
const failed = check.versionsBack.length + check.lastWrong.length + check.computedWrong.length + check.missing + check.badSignatures + (check.outbox.dead ?? 0);
process.exit(failed === 0 ? 0 : 1);
