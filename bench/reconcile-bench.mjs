// One inventory reconciliation of a Shopify store (the simulator, in this process) with N SKUs:
//   1. setup, not measured: the store has N variants at L locations; Crossdock gets a level for each SKU and warehouse
//      (POST /v1/inventory/levels, 1,000 a call) and publishes them to the store, its bucket enlarged meanwhile, until
//      every figure is recorded as delivered;
//   2. drift: a merchant's edits to a share of the SKUs, made on the simulator;
//   3. the run: POST /v1/admin/reconcile/inventory?target=channel:bench-store, with the store's bucket at the plan's
//      figures (Standard: 2,000 points, 100 a second), followed until it ends; then until the store holds every
//      repaired figure again.
// Prints the run's time, pages, SKUs compared, drift found and repaired, the GraphQL reads it made with their
// requested and actual cost, the points a second it drew, what the other plans' restore rates would make of the same
// points, and the store's calls for the repairs.
// Usage: npm run bench:reconcile [-- --skus 100000] [--drift 0.01] [--locations 1] [--restore-rate 100] [--bucket 2000]
// [--read pages|bulk] (DATABASE_URL: the server to create the throwaway database on; default the local one). The full
// size at the Standard plan's rate reads for about 50 minutes in pages: that is the store's rate, not Crossdock's.
// `--read bulk` sets the store's `reconcileRead: 'bulk'`: the run reads the store through one bulk operation (the
// simulator completes it after its default delay, reading the store then) and compares its result 1,000 SKUs a
// page; the table then shows the bulk calls and the result's size instead of the pages' cost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createShopifySimulator } from '../dist/simulators/shopify/shopify-simulator.js';
import { adminCall, createDatabase, issueApiKey, machineLine, serverUrlOption, startService, stopService } from './support.mjs';

function option(name, fallback) {
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return fallback;
  const value = args[at].includes('=') ? args[at].split('=')[1] : args[at + 1];
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new Error(`--${name} takes a number, not ${value}`);
  return number;
}

/** A word-valued option, one of `allowed`. */
function choice(name, allowed, fallback) {
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return fallback;
  const value = args[at].includes('=') ? args[at].split('=')[1] : args[at + 1];
  if (!allowed.includes(value)) throw new Error(`--${name} takes ${allowed.join(' or ')}, not ${value}`);
  return value;
}

const SKUS = option('skus', 100_000);
const READ = choice('read', ['pages', 'bulk'], 'pages');
const DRIFT = option('drift', 0.01);
const LOCATIONS = Math.max(1, option('locations', 1));
const RESTORE_RATE = option('restore-rate', 100);
const BUCKET = option('bucket', 2_000);
const PLANS = { Standard: 100, Advanced: 200, Plus: 1_000, Enterprise: 2_000 };
const port = 3941;
const base = `http://127.0.0.1:${port}`;
const adminToken = 'bench-admin-token-0123456789';
const CHANNEL = 'bench-store';
const WAREHOUSES = Array.from({ length: LOCATIONS }, (_, i) => `WH-${i + 1}`);
const locationOf = (i) => `gid://shopify/Location/${i + 1}`;
const skuOf = (i) => `RB-${String(i).padStart(6, '0')}`;
const onHand = (i, w) => 5 + ((i * 7 + w * 13) % 200);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms) => (ms / 1000).toFixed(1);

/** Waits until `check` answers true, or throws after `timeoutMs`; answers the milliseconds waited. */
async function until(what, check, timeoutMs, everyMs = 500) {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await sleep(everyMs);
  }
  return performance.now() - started;
}

const shop = createShopifySimulator({
  accessToken: 'shpat_bench',
  locations: WAREHOUSES.map((w, i) => ({ id: locationOf(i), name: w })),
  variants: Array.from({ length: SKUS }, (_, i) => ({ sku: skuOf(i), available: Object.fromEntries(WAREHOUSES.map((_, w) => [locationOf(w), onHand(i, w)])) })),
});
const shopUrl = await shop.listen();
const setBucket = (body) => fetch(`${shopUrl}/_control/bucket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const itemOf = new Map([...shop.state.items.values()].map((item) => [item.sku, item]));

const workDir = mkdtempSync(join(tmpdir(), 'crossdock-bench-reconcile-'));
const database = await createDatabase(serverUrlOption(), `crossdock_bench_reconcile_${process.pid}`);
const pool = new pg.Pool({ connectionString: database.url, max: 2 });
pool.on('error', () => undefined);
let service;
try {
  service = await startService({
    PORT: String(port), DATABASE_URL: database.url, CROSSDOCK_ROLE: 'all', CROSSDOCK_ADMIN_TOKEN: adminToken, LOG_FORMAT: 'json', LOG_LEVEL: 'info',
    // Runs only when asked: the bench starts the one it measures.
    CROSSDOCK_RECONCILE_TICK_MS: '3600000',
  }, join(workDir, 'service.log'));

  // 1. Crossdock's figures in the store, as it publishes them; the store's bucket out of the way meanwhile.
  await setBucket({ maximumAvailable: 1e9, restoreRate: 1e9, currentlyAvailable: 1e9 });
  await adminCall(base, adminToken, 'PUT', `/v1/admin/channels/${CHANNEL}`, {
    kind: 'shopify',
    config: {
      shopDomain: 'bench.myshopify.com', apiVersion: '2025-07', accessToken: 'shpat_bench', webhookSecret: 'bench-secret',
      adminApiBaseUrl: `${shopUrl}/admin/api/2025-07`, locations: Object.fromEntries(WAREHOUSES.map((w, i) => [w, locationOf(i)])),
      reconcileRead: READ,
    },
    inventory: { warehouses: WAREHOUSES, safetyStock: 0, allocationPercent: 100 },
    oversell: 'backorder',
    limits: { ratePerSecond: 2_000, burst: 2_000, concurrency: 64 },
  });
  await adminCall(base, adminToken, 'PUT', '/v1/admin/sources/bench-erp', { name: 'Benchmark ERP' });
  const key = await issueApiKey(base, adminToken, 'sources/bench-erp', ['inventory:write']);
  const setupStarted = performance.now();
  const levels = [];
  for (let i = 0; i < SKUS; i++) WAREHOUSES.forEach((warehouse, w) => levels.push({ eventId: `lvl-${i}-${w}`, sku: skuOf(i), warehouse, onHand: onHand(i, w), sequence: 1 }));
  for (let i = 0; i < levels.length; i += 1_000) {
    const response = await fetch(`${base}/v1/inventory/levels`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ items: levels.slice(i, i + 1_000) }) });
    if (response.status !== 202) throw new Error(`levels: ${response.status} ${await response.text()}`);
  }
  const delivered = async () => (await pool.query('select count(*)::int as n from delivered_version where destination = $1', [`channel:${CHANNEL}`])).rows[0].n;
  const waiting = async () => (await pool.query('select (select count(*) from state_outbox) + (select count(*) from state_inflight) as n')).rows[0].n;
  await until('every figure delivered', async () => (await delivered()) === SKUS && Number(await waiting()) === 0, 3_600_000, 1_000);
  const setupMs = performance.now() - setupStarted;

  // 2. A merchant's edits in the store's admin.
  const edited = [];
  const every = DRIFT > 0 ? Math.max(1, Math.round(1 / DRIFT)) : Infinity;
  for (let i = 0; i < SKUS; i += every) {
    const level = itemOf.get(skuOf(i)).levels.get(locationOf(0));
    level.available = onHand(i, 0) + 1_000;
    edited.push(i);
  }

  // 3. The run, at the plan's bucket.
  await setBucket({ maximumAvailable: BUCKET, restoreRate: RESTORE_RATE, currentlyAvailable: BUCKET });
  const requestsBefore = shop.state.requests.length;
  const mutationsBefore = shop.state.mutations.length;
  const started = performance.now();
  const startedAt = Date.now();
  await adminCall(base, adminToken, 'POST', `/v1/admin/reconcile/inventory?target=channel:${CHANNEL}`);
  let run;
  await until('the run ended', async () => {
    const report = await adminCall(base, adminToken, 'GET', '/v1/ops/reconciliation?domain=inventory');
    run = report.runs.find((r) => r.target === `channel:${CHANNEL}`);
    return run !== undefined && run.status !== 'running';
  }, 24 * 3_600_000, 1_000);
  const runMs = performance.now() - started;
  const repairedMs = await until('the store holds every repaired figure', () => edited.every((i) => itemOf.get(skuOf(i)).levels.get(locationOf(0)).available === onHand(i, 0)), 3_600_000, 250) + runMs;

  const during = shop.state.requests.slice(requestsBefore);
  const reads = during.filter((r) => r.name === 'CrossdockInventoryLevels');
  const bulkCalls = during.filter((r) => r.name === 'CrossdockBulkInventory' || r.name === 'CrossdockBulkOperation');
  const operations = [...shop.state.bulkOperations.values()];
  const sum = (list, pick) => list.reduce((total, r) => total + (pick(r) ?? 0), 0);
  const requested = sum(reads, (r) => r.requestedCost);
  const actual = sum(reads, (r) => r.actualCost);
  const readSeconds = reads.length > 1 ? (reads.at(-1).at - startedAt) / 1000 : runMs / 1000;
  const readNames = new Set(['CrossdockInventoryLevels', 'CrossdockBulkInventory', 'CrossdockBulkOperation']);
  const others = Object.entries(Object.groupBy(during.filter((r) => !readNames.has(r.name)), (r) => r.name ?? '?')).map(([name, list]) => `${name} ${list.length}`);
  const repairs = shop.state.mutations.slice(mutationsBefore).filter((m) => m.applied);

  console.log(machineLine());
  console.log(`Inventory reconciliation of a Shopify store (simulator): ${SKUS.toLocaleString('en')} SKUs at ${LOCATIONS} location(s), ${edited.length.toLocaleString('en')} edited by a merchant; bucket ${BUCKET} points, restoring ${RESTORE_RATE}/s; read in ${READ}`);
  console.log(`setup (not measured): ${seconds(setupMs)} s to publish every figure to the store`);
  console.log('');
  console.log('| measure | result |');
  console.log('|---|---|');
  console.log(`| the run | ${run.status}${run.error ? ` (${run.error})` : ''} in ${seconds(runMs)} s; ${run.pages} pages; ${run.compared.toLocaleString('en')} SKUs compared, ${run.drifted} drifted, ${run.repaired} repaired, ${run.waiting} waiting for a person |`);
  if (READ === 'bulk') {
    const byName = (name) => bulkCalls.filter((r) => r.name === name).length;
    console.log(`| bulk calls | ${byName('CrossdockBulkInventory')} bulkOperationRunQuery, ${byName('CrossdockBulkOperation')} status reads; requested ${sum(bulkCalls, (r) => r.requestedCost).toLocaleString('en')} points; ${bulkCalls.filter((r) => r.throttled).length} throttled |`);
    console.log(`| bulk result | ${operations.map((op) => `${op.status}, ${op.objectCount.toLocaleString('en')} lines, ${((op.fileSize ?? 0) / 1_048_576).toFixed(1)} MiB, downloaded ${op.downloads} time(s)`).join('; ')} |`);
  }
  console.log(`| GraphQL reads | ${reads.length} calls (CrossdockInventoryLevels), ${reads.filter((r) => r.throttled).length} throttled; requested ${requested.toLocaleString('en')} points (${(requested / Math.max(1, reads.length)).toFixed(0)} a call), actual ${actual.toLocaleString('en')} |`);
  console.log(`| pace | ${(actual / readSeconds).toFixed(0)} points/s drawn over ${readSeconds.toFixed(1)} s (restore rate ${RESTORE_RATE}/s); ${(SKUS / (runMs / 1000)).toFixed(0)} SKUs/s |`);
  console.log(`| the same points at each plan's restore rate | ${Object.entries(PLANS).map(([plan, rate]) => `${plan} ${(Math.max(0, actual - BUCKET) / rate / 60).toFixed(1)} min`).join(', ')} |`);
  console.log(`| repairs | ${repairs.length} inventorySetQuantities applied for ${edited.length} edited SKUs; every repaired figure in the store ${seconds(repairedMs)} s after the run started; other calls meanwhile: ${others.join(', ') || 'none'} |`);
  if (run.status !== 'finished' || run.drifted !== edited.length || run.repaired !== edited.length || run.compared !== SKUS) process.exitCode = 1;
} finally {
  if (service) await stopService(service);
  await pool.end();
  await database.drop();
  await shop.close();
  rmSync(workDir, { recursive: true, force: true });
}
