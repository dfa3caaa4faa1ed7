// Shipments, in one run on a throwaway database: orders of a webhook channel are placed (routed to an ERP backend in
// a maintenance window all week, to keep the ERP out of the measurement: they stay accepted), then the warehouse
// reports their shipments:
//   1. intake: one shipment event per order, BENCH_CONNECTIONS at once, as fast as the service takes them;
//   2. paced: BENCH_RATE events/s for BENCH_SECONDS, each timed from its 202 to the channel's receipt of its
//      shipment.created (signature verified).
// Usage: npm run bench:shipments   (DATABASE_URL: the server to create the database on; default the local one)
// Options: BENCH_ORDERS (2000 for the intake), BENCH_CONNECTIONS (16), BENCH_RATE (100/s), BENCH_SECONDS (10).
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWebhook } from '../dist/connectors/channels/webhook/standard-webhooks.js';
import { adminCall, createDatabase, issueApiKey, machineLine, numberOption, percentile, serverUrlOption, startService, stopService } from './support.mjs';

const ORDERS = numberOption('BENCH_ORDERS', 2000);
const CONNECTIONS = numberOption('BENCH_CONNECTIONS', 16);
const RATE = numberOption('BENCH_RATE', 100);
const SECONDS = numberOption('BENCH_SECONDS', 10);
const port = 3941;
const base = `http://127.0.0.1:${port}`;
const adminToken = 'bench-admin-token-0123456789';
const SECRET = 'whsec_' + Buffer.from('bench-shipments-signing-key-0123').toString('base64');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The channel's receiver: the time each shipment's created event arrived, signatures checked.
const receivedAt = new Map();
let badSignatures = 0;
const receiver = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const at = performance.now();
  const body = Buffer.concat(chunks).toString('utf8');
  const headers = { id: String(req.headers['webhook-id'] ?? ''), timestamp: String(req.headers['webhook-timestamp'] ?? ''), signature: String(req.headers['webhook-signature'] ?? '') };
  if (!verifyWebhook(SECRET, headers, body)) {
    badSignatures++;
    return res.writeHead(401).end();
  }
  const event = JSON.parse(body);
  if (event.type === 'shipment.created' && !receivedAt.has(event.data.shipmentId)) receivedAt.set(event.data.shipmentId, at);
  res.writeHead(200).end('{}');
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}/hooks`;

const workDir = mkdtempSync(join(tmpdir(), 'crossdock-bench-shipments-'));
const database = await createDatabase(serverUrlOption(), `crossdock_bench_shipments_${process.pid}`);
const service = await startService({
  PORT: String(port), DATABASE_URL: database.url, CROSSDOCK_ADMIN_TOKEN: adminToken, CROSSDOCK_API_KEY_RATE_PER_SECOND: '1000000', CROSSDOCK_API_KEY_RATE_BURST: '1000000',
  LOG_FORMAT: 'json', LOG_LEVEL: 'warn',
}, join(workDir, 'service.log'));

const post = async (path, key, body, extra = {}) => {
  const response = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
};
try {
  await adminCall(base, adminToken, 'PUT', '/v1/admin/channels/portal', {
    kind: 'webhook', config: { url: receiverUrl, secret: SECRET }, inventory: { warehouses: ['WH-1'], safetyStock: 0, allocationPercent: 100 }, oversell: 'backorder',
    limits: { ratePerSecond: 5000, burst: 5000, concurrency: 64 },
  });
  await adminCall(base, adminToken, 'PUT', '/v1/admin/sources/wms', { name: 'Warehouse system' });
  await adminCall(base, adminToken, 'PUT', '/v1/admin/erp-backends/erp', {
    kind: 'business-central', role: 'cloud',
    config: { tenantId: 't1', environment: 'production', companyId: 'c0ffee00-0000-0000-0000-000000000001', clientId: 'c', clientSecret: 's', baseUrl: 'http://127.0.0.1:9/api', tokenUrl: 'http://127.0.0.1:9/token' },
    limits: { ratePerSecond: 5, burst: 5, concurrency: 1 },
    maintenanceWindows: [{ timeZone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '23:59' }],
  });
  await adminCall(base, adminToken, 'PUT', '/v1/admin/routing/orders', { mode: 'cloud', primary: 'erp' });
  const channelKey = await issueApiKey(base, adminToken, 'channels/portal', ['orders:write']);
  const wmsKey = await issueApiKey(base, adminToken, 'sources/wms', ['shipments:write']);

  // Orders to ship: the intake's and the paced run's.
  const total = ORDERS + RATE * SECONDS;
  const orderIds = [];
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < total) {
      const n = next++;
      const order = { channelOrderId: `PO-${n}`, customer: { accountNumber: 'C1' }, currency: 'EUR', lines: [{ lineId: '1', sku: 'SKU-1', quantity: 1, unitPrice: 10 }, { lineId: '2', sku: 'SKU-2', quantity: 2, unitPrice: 5 }], shipTo: { name: 'A', line1: 'B', city: 'C', postalCode: 'D', country: 'DE' } };
      const answer = await post('/v1/orders', channelKey, order, { 'idempotency-key': `PO-${n}` });
      if (answer.status !== 202) throw new Error(`order ${n}: ${answer.status} ${JSON.stringify(answer.body)}`);
      orderIds[n] = answer.body.orderId;
    }
  }));
  const shipment = (n) => ({
    eventId: `E-${n}`, orderId: orderIds[n], shipmentId: `S-${n}`, status: 'shipped', carrier: 'DHL', trackingNumber: `T-${n}`,
    lines: [{ sku: 'SKU-1', quantity: 1, lineId: '1' }, { sku: 'SKU-2', quantity: 2, lineId: '2' }], occurredAt: new Date().toISOString(),
  });
  const outcomes = {};
  const ship = async (n) => {
    const answer = await post('/v1/shipments/events', wmsKey, shipment(n));
    outcomes[answer.body.outcome ?? answer.status] = (outcomes[answer.body.outcome ?? answer.status] ?? 0) + 1;
    return answer;
  };

  // 1. Intake, as fast as it goes.
  let cursor = 0;
  const latencies = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (cursor < ORDERS) {
      const n = cursor++;
      const sent = performance.now();
      await ship(n);
      latencies.push(performance.now() - sent);
    }
  }));
  const intakeSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  for (let i = 0; i < 600 && receivedAt.size < ORDERS; i++) await sleep(100);

  // 2. Paced: 202 to receipt.
  const acceptedAt = new Map();
  const paced = [];
  const pacedStart = performance.now();
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = pacedStart + (i * 1000) / RATE;
    if (due > performance.now()) await sleep(due - performance.now());
    const n = ORDERS + i;
    paced.push(ship(n).then(() => acceptedAt.set(`S-${n}`, performance.now())));
  }
  await Promise.all(paced);
  for (let i = 0; i < 300 && [...acceptedAt.keys()].some((id) => !receivedAt.has(id)); i++) await sleep(100);
  const delays = [...acceptedAt].filter(([id]) => receivedAt.has(id)).map(([id, at]) => receivedAt.get(id) - at).sort((a, b) => a - b);

  console.log(`${machineLine()}; PostgreSQL server (${new URL(serverUrlOption()).host}); client and receiver on the same machine.`);
  console.log('');
  console.log('| measure | result |');
  console.log('|---|---|');
  console.log(`| intake: POST /v1/shipments/events, one full shipment per order, ${CONNECTIONS} at once | **${Math.round(ORDERS / intakeSeconds)} events/s**; p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms |`);
  console.log(`| paced: ${RATE} events/s for ${SECONDS} s, from the 202 to the channel's receipt of shipment.created | **p50 ${percentile(delays, 50).toFixed(0)} ms, p99 ${percentile(delays, 99).toFixed(0)} ms**, slowest ${delays.at(-1).toFixed(0)} ms over ${delays.length} of ${acceptedAt.size} shipments |`);
  console.log(`| checks | outcomes ${JSON.stringify(outcomes)}; shipment.created received for ${receivedAt.size} of ${total}; bad signatures ${badSignatures} |`);
} finally {
  await stopService(service);
  await database.drop();
  receiver.close();
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(0);
