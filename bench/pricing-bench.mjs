// Pricing, in one run on a throwaway database of a PostgreSQL server, against one process in role `all`:
//   1. ingest: POST /v1/prices, batches of 1,000 prices (base, two lists, customer prices with quantity breaks),
//      from several clients at once: price entries per second;
//   2. look-ups: GET /v1/prices by autocannon (one SKU a call, any at random; and 20 SKUs a call with a customer and a
//      quantity, which reads PostgreSQL each time),
//      beside the plain query (the look-up's one statement through pg, as many at once): look-ups per second;
//   3. freshness: price changes at a steady rate (batches every 100 ms) to the base list, which two webhook channels
//      sell from: p50 and p99 from a change's 202 to a channel's receipt of that price or a later one.
// Then it checks what the channels hold: versions only grow per SKU, and the last price received is the last sent.
// Usage: npm run bench:pricing   (DATABASE_URL: the server to create the database on; default the local one)
// Options: BENCH_SKUS (2000), BENCH_CLIENTS (4), BENCH_RATE (1000 changes/s), BENCH_SECONDS (10), BENCH_CONNECTIONS (64).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { startReceiver } from './inventory-receiver.mjs';
import { adminCall, createDatabase, issueApiKey, machineLine, numberOption, percentile, serverUrlOption, startService, stopService } from './support.mjs';

const SKUS = numberOption('BENCH_SKUS', 2000);
const CLIENTS = numberOption('BENCH_CLIENTS', 4);
const RATE = numberOption('BENCH_RATE', 1000);
const SECONDS = numberOption('BENCH_SECONDS', 10);
const CONNECTIONS = numberOption('BENCH_CONNECTIONS', 64);
const BATCH_EVERY_MS = 100;
const adminToken = 'bench-admin-token-0123456789';
const port = 3933;
const base = `http://127.0.0.1:${port}`;
// Two channels whose lists hold no prices: each sells at the base price, which the freshness run changes.
const CHANNELS = { 'bench-portal': 'PORTAL', 'bench-outlet': 'OUTLET' };
const LIMITS = { ratePerSecond: 5000, burst: 5000, concurrency: 64 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sku = (i) => `PRICE-${String(i).padStart(5, '0')}`;
const secretOf = (id) => 'whsec_' + Buffer.from(`pricing-bench-${id}-signing-key`.padEnd(32, '.')).toString('base64');

let sequence = 0;
const item = (over) => ({ eventId: `e-${++sequence}`, priceList: 'base', currency: 'USD', unitPrice: 10, sequence, ...over });

/** What one SKU's prices look like in the ingest: a base price, two lists, a customer's price with a quantity break. */
function pricesOf(i) {
  return [
    item({ sku: sku(i), unitPrice: 20 + (i % 50) }),
    item({ sku: sku(i), priceList: 'RETAIL', unitPrice: 19 + (i % 50) }),
    item({ sku: sku(i), priceList: 'WHOLESALE', unitPrice: 15 + (i % 50) }),
    item({ sku: sku(i), priceList: 'WHOLESALE', unitPrice: 14 + (i % 50), minQuantity: 10 }),
    item({ sku: sku(i), priceList: 'WHOLESALE', unitPrice: 12 + (i % 50), customer: `C${i % 100}` }),
  ];
}

async function post(key, items) {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${base}/v1/prices`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
    const text = await response.text();
    if (response.status === 202) return { at: Date.now(), answer: JSON.parse(text) };
    if (attempt === 5) throw new Error(`POST /v1/prices: ${response.status} ${text}`);
    await sleep(1000 * Number(response.headers.get('retry-after') ?? 1));
  }
}

/** `path`: a path, or a function giving each request's path. */
const cannon = (path, key, seconds) =>
  new Promise((resolve, reject) => {
    const requests = typeof path === 'function' ? [{ setupRequest: (request) => ({ ...request, path: path() }) }] : undefined;
    autocannon({ url: base + (typeof path === 'function' ? path() : path), connections: CONNECTIONS, duration: seconds, headers: { authorization: `Bearer ${key}` }, requests }, (error, result) => (error ? reject(error) : resolve(result)));
  });

/** The look-up's statement through pg, `CONNECTIONS` at once for `seconds`: statements per second. */
async function plainQueries(databaseUrl, seconds) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const text = `select price_list, sku, currency, customer, min_quantity, unit_price, source, extract(epoch from valid_from) * 1000 as valid_from,
                       extract(epoch from valid_to) * 1000 as valid_to, extract(epoch from clock_timestamp()) * 1000 as now
                  from price_entry where sku = any($1::text[]) and currency = any($2::text[]) and (customer = '' or customer = any($3::text[]))`;
  let count = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < until) {
      await pool.query(text, [[sku(Math.floor(Math.random() * SKUS))], ['USD'], []]);
      count++;
    }
  }));
  await pool.end();
  return count / seconds;
}

const workDir = mkdtempSync(join(tmpdir(), 'crossdock-bench-pricing-'));
const database = await createDatabase(serverUrlOption(), `crossdock_bench_pricing_${process.pid}`);
const receiver = await startReceiver(Object.fromEntries(Object.keys(CHANNELS).map((id) => [id, secretOf(id)])), { type: 'price.changed' });
let service;
const results = {};
try {
  service = await startService({ PORT: String(port), DATABASE_URL: database.url, CROSSDOCK_ROLE: 'all', CROSSDOCK_ADMIN_TOKEN: adminToken, LOG_FORMAT: 'json', LOG_LEVEL: 'warn',
    // The look-ups measure the service, not the per-key rate limit (100/s by default).
    CROSSDOCK_API_KEY_RATE_PER_SECOND: '1000000', CROSSDOCK_API_KEY_RATE_BURST: '1000000' }, join(workDir, 'service.log'));
  for (const [id, priceList] of Object.entries(CHANNELS)) {
    await adminCall(base, adminToken, 'PUT', `/v1/admin/channels/${id}`, {
      kind: 'webhook', config: { url: receiver.urlOf(id), secret: secretOf(id) }, inventory: { warehouses: ['WH-1'], safetyStock: 0, allocationPercent: 100 },
      oversell: 'reject', pricing: { priceList, currency: 'USD' }, limits: LIMITS,
    });
  }
  await adminCall(base, adminToken, 'PUT', '/v1/admin/channels/bench-api', { kind: 'api', config: {}, inventory: { warehouses: ['WH-1'], safetyStock: 0, allocationPercent: 100 }, oversell: 'reject', pricing: { priceList: 'RETAIL', currency: 'USD' } });
  await adminCall(base, adminToken, 'PUT', '/v1/admin/sources/bench-erp', { name: 'Benchmark ERP' });
  const sourceKey = await issueApiKey(base, adminToken, 'sources/bench-erp', ['prices:write']);
  const channelKey = await issueApiKey(base, adminToken, 'channels/bench-api', ['prices:read']);

  // 1. Ingest: every SKU's prices, the clients' shares at once.
  const all = Array.from({ length: SKUS }, (_, i) => pricesOf(i)).flat();
  const shares = Array.from({ length: CLIENTS }, (_, c) => all.filter((_, i) => Math.floor(i / 1000) % CLIENTS === c));
  const batchMs = [];
  let accepted = 0;
  const ingestStarted = performance.now();
  await Promise.all(shares.map(async (share) => {
    for (let i = 0; i < share.length; i += 1000) {
      const started = performance.now();
      const { answer } = await post(sourceKey, share.slice(i, i + 1000));
      accepted += answer.accepted;
      batchMs.push(performance.now() - started);
    }
  }));
  const ingestSeconds = (performance.now() - ingestStarted) / 1000;
  batchMs.sort((a, b) => a - b);
  results.ingest = { entries: all.length, accepted, rate: all.length / ingestSeconds, p50: percentile(batchMs, 50), p99: percentile(batchMs, 99) };
  // Let the ingest's deliveries drain before the look-ups are measured.
  for (let i = 0; i < 600 && receiver.count() < SKUS * 2; i++) await sleep(100);
  results.ingest.delivered = receiver.count();

  // 2. Look-ups, one SKU a call; twenty with a customer and a quantity; the plain statement.
  // Any of the SKUs, at random: each instance keeps what it read of a SKU's list prices until they change.
  const one = await cannon(() => `/v1/prices?sku=${sku(Math.floor(Math.random() * SKUS))}`, channelKey, SECONDS);
  const twenty = await cannon(`/v1/prices?sku=${Array.from({ length: 20 }, (_, i) => sku(i * 37)).join(',')}&customer=C7&quantity=12`, channelKey, SECONDS);
  const plain = await plainQueries(database.url, SECONDS);
  results.lookups = {
    one: { rps: one.requests.average, p50: one.latency.p50, p99: one.latency.p99, non2xx: one.non2xx + one.errors },
    twenty: { rps: twenty.requests.average, p50: twenty.latency.p50, p99: twenty.latency.p99, non2xx: twenty.non2xx + twenty.errors },
    plain,
  };

  // 3. Freshness: RATE base-price changes a second, a batch every 100 ms; each change a higher price for its SKU.
  const before = new Map(Object.keys(CHANNELS).map((id) => [id, receiver.state.received.get(id).length]));
  const perBatch = Math.round((RATE * BATCH_EVERY_MS) / 1000);
  const changes = [];
  const started = performance.now();
  const sends = [];
  for (let b = 0; b < (SECONDS * 1000) / BATCH_EVERY_MS; b++) {
    const due = started + b * BATCH_EVERY_MS;
    if (due > performance.now()) await sleep(due - performance.now());
    const items = Array.from({ length: perBatch }, () => {
      const s = sku(Math.floor(Math.random() * SKUS));
      return item({ sku: s, unitPrice: Number((100 + sequence / 100).toFixed(2)) });
    });
    sends.push(post(sourceKey, items).then(({ at, answer }) => {
      if (answer.errors.length > 0) throw new Error(`refused prices: ${JSON.stringify(answer.errors.slice(0, 3))}`);
      items.forEach((i) => changes.push({ sku: i.sku, unitPrice: i.unitPrice, at }));
    }));
  }
  await Promise.all(sends);
  const lastSent = new Map();
  for (const c of changes) if ((lastSent.get(c.sku) ?? 0) < c.unitPrice) lastSent.set(c.sku, c.unitPrice);
  const caughtUp = () => Object.keys(CHANNELS).every((id) => {
    const last = new Map();
    for (const r of receiver.state.received.get(id)) last.set(r.sku, r.unitPrice);
    return [...lastSent].every(([s, p]) => last.get(s) === p);
  });
  for (let i = 0; i < 600 && !caughtUp(); i++) await sleep(100);
  const latencies = [];
  let backwards = 0;
  for (const id of Object.keys(CHANNELS)) {
    const received = receiver.state.received.get(id).slice(before.get(id));
    const bySku = Map.groupBy(received, (r) => r.sku);
    for (const list of bySku.values()) for (let i = 1; i < list.length; i++) if (list[i].version < list[i - 1].version) backwards++;
    for (const change of changes) {
      const first = (bySku.get(change.sku) ?? []).find((r) => r.unitPrice >= change.unitPrice);
      latencies.push(first ? Math.max(0, first.at - change.at) : Infinity);
      if (!first && process.env.BENCH_DEBUG) console.error('MISSING', id, JSON.stringify(change), JSON.stringify((bySku.get(change.sku) ?? []).slice(-3)));
    }
  }
  latencies.sort((a, b) => a - b);
  results.freshness = { changes: changes.length, seconds: (performance.now() - started) / 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99), caughtUp: caughtUp(), backwards, badSignatures: receiver.state.badSignatures };
} finally {
  if (service) await stopService(service);
  await receiver.close();
  await database.drop();
  rmSync(workDir, { recursive: true, force: true });
}

const r = results;
const ms = (n) => (Number.isFinite(n) ? `${Math.round(n)} ms` : 'never');
console.log(`${machineLine()}; PostgreSQL server; one process in role all; load generator and receiver on the same machine.`);
console.log('');
console.log('| measure | result |');
console.log('|---|---|');
console.log(`| ingest: POST /v1/prices, ${SKUS} SKUs x 5 prices in batches of 1,000, ${CLIENTS} clients | **${Math.round(r.ingest.rate)} entries/s**; batch p50 ${ms(r.ingest.p50)}, p99 ${ms(r.ingest.p99)}; ${r.ingest.accepted} accepted of ${r.ingest.entries}; ${r.ingest.delivered} price.changed received |`);
console.log(`| look-up: GET /v1/prices, 1 SKU a call (any of the ${SKUS}, at random), ${CONNECTIONS} connections, ${SECONDS} s | **${Math.round(r.lookups.one.rps)} look-ups/s**; p50 ${r.lookups.one.p50} ms, p99 ${r.lookups.one.p99} ms; ${r.lookups.one.non2xx} not 200 |`);
console.log(`| look-up: 20 SKUs a call, with a customer and a quantity | ${Math.round(r.lookups.twenty.rps)} calls/s = **${Math.round(r.lookups.twenty.rps * 20)} SKU look-ups/s**; p50 ${r.lookups.twenty.p50} ms, p99 ${r.lookups.twenty.p99} ms; ${r.lookups.twenty.non2xx} not 200 |`);
console.log(`| the plain query: the look-up's statement through pg (10 connections, ${CONNECTIONS} at once) | ${Math.round(r.lookups.plain)} statements/s; the API's one-SKU look-up = ${Math.round((r.lookups.one.rps / r.lookups.plain) * 100)}% of it |`);
console.log(`| freshness: ${RATE} base-price changes/s for ${SECONDS} s, 2 webhook channels, from the 202 to the channel's receipt of that price or a later one | **p50 ${ms(r.freshness.p50)}, p99 ${ms(r.freshness.p99)}** over ${r.freshness.changes} changes x 2 channels |`);
console.log(`| checks | last price at every channel = last sent: ${r.freshness.caughtUp}; a lower version after a higher one: ${r.freshness.backwards}; bad signatures: ${r.freshness.badSignatures} |`);
process.exit(0);
