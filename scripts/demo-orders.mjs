// `npm run demo:orders`: order traffic for a running demo instance (`npm start`). It takes an API key for the
// demo B2B portal channel, submits orders through the public API as the portal would (and every fifth through
// the simulated Shopify store, whose webhook brings it in), and follows each one until the ERP confirms it. Then,
// as the demo warehouse, it ships each confirmed order (every third in two parts) through the shipments API, and
// shows the shipments reaching the portal (webhooks) and the store (fulfillments).
// Usage: npm run demo:orders -- [--count 50] [--rate 5] [--wait 30] [--shop-every 5] [--no-ship]
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const CHANNEL = 'demo-portal';
const STORE = 'demo-shop';
const WAREHOUSE = 'demo-wms';
// The demo store's webhook secret (src/config/demo.yaml): the simulated store signs its webhooks with it.
const STORE_WEBHOOK_SECRET = process.env.DEMO_SHOP_WEBHOOK_SECRET ?? 'demo-webhook-secret';
// Orders of the store go to the ERP under its house account (demo.yaml: customerAccount fallback).
const SHIPPING_DELAY_MS = 1500;
// Customers and items of the Business Central simulator's seed data (its defaultSimulatorData()); customer
// 30000 is left out because it is blocked there.
const CUSTOMERS = [
  { accountNumber: '10000', name: 'Adatum Corporation', line1: 'Hauptstraße 12', city: 'Berlin', postalCode: '10115' },
  { accountNumber: '20000', name: 'Trey Research', line1: 'Marienplatz 3', city: 'München', postalCode: '80331' },
  { accountNumber: '40000', name: 'Alpine Ski House', line1: 'Königsallee 60', city: 'Düsseldorf', postalCode: '40212' },
];
const ITEMS = ['1896-S', '1900-S', '1906-S', '1908-S', '1920-S', '1928-S', '1936-S', '1953-W', '1964-W', '1968-S'].map((sku, i) => ({ sku, unitPrice: 100 + i * 25 }));
const FAILED = new Set(['rejected', 'failed', 'cancelled', 'canceled']);
const POLL_INTERVAL_MS = 1000;

const counts = { sent: 0, accepted: 0, rejected: 0, confirmed: 0, failed: 0, store: 0, shipped: 0, twoParts: 0, shipFailed: 0 };
// Available-to-sell per channel of the SKU the progress line watches, as Crossdock last computed it.
let watched = '';
const options = readOptions();
const baseUrl = (process.env.CROSSDOCK_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(/\/+$/, '');
const adminToken = readAdminToken();
const runId = Date.now().toString(36).toUpperCase();

/** @type {Map<string, {channelOrderId: string, acceptedAt: number, status: string, changedAt: number, final: boolean, confirmedAfterMs?: number, store?: boolean, shipping?: Promise<void>, shipmentIds?: string[], shipped?: boolean}>} */
const orders = new Map();
/** @type {Map<string, number>} */
const rejections = new Map();
let interrupted = false;
let lastLine = 0;
// Ctrl-C stops sending and following, revokes the key and prints the summary; a second one quits at once.
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
});

const key = await createApiKey();
const warehouseKey = options.ship ? await createWarehouseKey() : undefined;
const started = Date.now();
try {
  await Promise.all([submitOrders(), followOrders()]);
  await Promise.all([...orders.values()].map((order) => order.shipping));
} finally {
  progress(true);
  await request('DELETE', `/v1/admin/channels/${CHANNEL}/api-keys/${key.id}`, { token: adminToken }).catch(() => undefined);
  if (warehouseKey) await request('DELETE', `/v1/admin/sources/${WAREHOUSE}/api-keys/${warehouseKey.id}`, { token: adminToken }).catch(() => undefined);
}
await summary();

function readOptions() {
  const { values } = parseArgs({
    allowNegative: true,
    options: {
      count: { type: 'string', default: '50' },
      rate: { type: 'string', default: '5' },
      wait: { type: 'string', default: '30' },
      sku: { type: 'string', default: '1896-S' },
      'shop-every': { type: 'string', default: '5' },
      ship: { type: 'boolean', default: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run demo:orders -- [--count N] [--rate R] [--wait S] [--sku SKU] [--shop-every K] [--no-ship]\n' +
        '  --count N  orders to submit (default 50)\n' +
        '  --rate R   orders per second (default 5)\n' +
        '  --wait S   stop following an order whose status has not changed for S seconds (default 30)\n' +
        '  --sku SKU  whose available-to-sell per channel the progress line shows (default 1896-S)\n' +
        '  --shop-every K  every K-th order comes through the simulated Shopify store (default 5; 0: none)\n' +
        '  --no-ship  do not ship confirmed orders as the demo warehouse\n' +
        'CROSSDOCK_URL (default http://127.0.0.1:$PORT, PORT default 3000) is the running demo instance;\n' +
        'CROSSDOCK_ADMIN_TOKEN its admin token (default: the one the demo keeps in $CROSSDOCK_DATA_DIR/admin-token, ./.data).\n',
    );
    process.exit(0);
  }
  const count = Number(values.count);
  const rate = Number(values.rate);
  const wait = Number(values.wait);
  if (!Number.isInteger(count) || count < 1) fail(`--count must be a whole number above 0, got ${values.count}`);
  if (!(rate > 0)) fail(`--rate must be a number above 0, got ${values.rate}`);
  if (!(wait >= 0)) fail(`--wait must be a number of seconds, got ${values.wait}`);
  const shopEvery = Number(values['shop-every']);
  if (!Number.isInteger(shopEvery) || shopEvery < 0) fail(`--shop-every must be a whole number, got ${values['shop-every']}`);
  return { count, rate, waitMs: wait * 1000, sku: values.sku, shopEvery, ship: values.ship };
}

function readAdminToken() {
  if (process.env.CROSSDOCK_ADMIN_TOKEN) return process.env.CROSSDOCK_ADMIN_TOKEN;
  const path = join(resolve(process.env.CROSSDOCK_DATA_DIR ?? './.data'), 'admin-token');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fail(`no admin token: ${path} cannot be read. Run this where \`npm start\` keeps its data, or set CROSSDOCK_DATA_DIR or CROSSDOCK_ADMIN_TOKEN.`);
  }
}

async function createApiKey() {
  const answer = await request('POST', `/v1/admin/channels/${CHANNEL}/api-keys`, { token: adminToken, body: { scopes: ['orders:write', 'orders:read'], name: 'npm run demo:orders' } });
  if (answer.status === 401 || answer.status === 403) fail(`${baseUrl} refused the admin token (${answer.status}). Set CROSSDOCK_ADMIN_TOKEN, or CROSSDOCK_DATA_DIR to the instance's data directory.`);
  if (answer.status === 404) fail(`${baseUrl} has no channel ${CHANNEL}: is it running the demo configuration (no DATABASE_URL, no CROSSDOCK_CONFIG)?`);
  if (answer.status !== 201) fail(`creating an API key for ${CHANNEL} answered ${answer.status}: ${reasonOf(answer)}`);
  return answer.body;
}

async function createWarehouseKey() {
  const answer = await request('POST', `/v1/admin/sources/${WAREHOUSE}/api-keys`, { token: adminToken, body: { scopes: ['shipments:write', 'shipments:read'], name: 'npm run demo:orders' } });
  if (answer.status !== 201) fail(`creating an API key for the warehouse ${WAREHOUSE} answered ${answer.status}: ${reasonOf(answer)} (run with --no-ship to skip shipping)`);
  return answer.body;
}

async function submitOrders() {
  const inFlight = new Set();
  for (let i = 0; i < options.count && !interrupted; i++) {
    const due = started + (i * 1000) / options.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const n = i + 1;
    const viaStore = options.shopEvery > 0 && n % options.shopEvery === 0;
    const submission = (viaStore ? submitStoreOrder(n) : submitOrder(n)).finally(() => inFlight.delete(submission));
    inFlight.add(submission);
  }
  await Promise.all(inFlight);
}

async function submitOrder(n) {
  const customer = CUSTOMERS[n % CUSTOMERS.length];
  const lineCount = 1 + Math.floor(Math.random() * 3);
  const items = [...ITEMS].sort(() => Math.random() - 0.5).slice(0, lineCount);
  const { name, line1, city, postalCode, accountNumber } = customer;
  const order = {
    channelOrderId: `PORTAL-${runId}-${String(n).padStart(5, '0')}`,
    customer: { accountNumber },
    currency: 'EUR',
    lines: items.map((item, i) => ({ lineId: String(i + 1), sku: item.sku, quantity: 1 + Math.floor(Math.random() * 5), unitPrice: item.unitPrice })),
    shipTo: { name, line1, city, postalCode, country: 'DE' },
  };
  const headers = { 'idempotency-key': randomUUID() };
  counts.sent++;
  progress();
  // Throttled or unavailable: the same request again with the same key, which cannot create a second order.
  for (let attempt = 1; ; attempt++) {
    const answer = await request('POST', '/v1/orders', { token: key.key, body: order, headers });
    if ((answer.status === 429 || answer.status === 503) && attempt < 5 && !interrupted) {
      await sleep(1000 * Number(answer.headers.get('retry-after') ?? attempt));
      continue;
    }
    if (answer.status === 202) {
      counts.accepted++;
      const now = Date.now();
      orders.set(answer.body.orderId, { channelOrderId: order.channelOrderId, acceptedAt: now, status: answer.body.status, changedAt: now, final: false });
    } else {
      counts.rejected++;
      const reason = `${answer.status} ${reasonOf(answer)}`;
      rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
    }
    progress();
    return;
  }
}

/**
 * A web shopper's order in the simulated store: created there, then brought in by the store's signed
 * `orders/create` webhook, as Shopify would send it.
 */
async function submitStoreOrder(n) {
  const items = [...ITEMS].sort(() => Math.random() - 0.5).slice(0, 1 + Math.floor(Math.random() * 2)).map((item) => ({ ...item, quantity: 1 + Math.floor(Math.random() * 3) }));
  counts.sent++;
  progress();
  const created = await request('POST', '/simulators/shopify/_control/orders', { body: { lineItems: items.map((item) => ({ sku: item.sku, quantity: item.quantity })) } });
  if (created.status !== 201) return rejected(`the simulated store answered ${created.status}: ${reasonOf(created)}`);
  const storeOrder = created.body;
  const payload = {
    id: storeOrder.legacyId, email: `shopper-${n}@example.com`, currency: 'EUR', customer: { email: `shopper-${n}@example.com`, tags: '' },
    shipping_address: { name: `Shopper ${n}`, address1: 'Rue de Rivoli 1', city: 'Paris', zip: '75001', country_code: 'FR' },
    line_items: storeOrder.lineItems.map((line, i) => ({ id: line.id.split('/').pop(), sku: line.sku, quantity: line.quantity, price: String(items[i].unitPrice) })),
  };
  const sent = await request('POST', '/simulators/shopify/_control/webhooks/send', {
    body: { url: `${baseUrl}/v1/webhooks/shopify/${STORE}`, secret: STORE_WEBHOOK_SECRET, topic: 'orders/create', payload },
  });
  const delivery = sent.body?.deliveries?.[0];
  let answer;
  try {
    answer = JSON.parse(delivery?.body ?? '');
  } catch {
    answer = undefined;
  }
  if (delivery?.status !== 200 || answer?.outcome !== 'created') return rejected(`the store's webhook answered ${delivery?.status}: ${answer?.outcome ?? delivery?.error ?? delivery?.body}`);
  counts.accepted++;
  counts.store++;
  const now = Date.now();
  orders.set(answer.orderId, { channelOrderId: storeOrder.legacyId, acceptedAt: now, status: 'accepted', changedAt: now, final: false, store: true });
  progress();
}

function rejected(reason) {
  counts.rejected++;
  rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
  progress();
}

async function followOrders() {
  while (!interrupted) {
    await sleep(POLL_INTERVAL_MS);
    const open = [...orders.entries()].filter(([, order]) => !order.final);
    for (let i = 0; i < open.length && !interrupted; i += 8) {
      await Promise.all(open.slice(i, i + 8).map(([orderId, order]) => follow(orderId, order)));
    }
    await watchAvailability();
    progress();
    const allAnswered = counts.accepted + counts.rejected === options.count;
    if (allAnswered && [...orders.values()].every((order) => order.final)) return;
  }
}

async function follow(orderId, order) {
  const answer = await request('GET', `/v1/orders/${encodeURIComponent(orderId)}`, { token: adminToken });
  const now = Date.now();
  if (answer.status === 200) {
    const status = String(answer.body.status);
    if (status !== order.status) Object.assign(order, { status, changedAt: now });
    if (status === 'confirmed' || answer.body.erpOrderRef) {
      Object.assign(order, { final: true, confirmedAfterMs: now - order.acceptedAt });
      counts.confirmed++;
      if (warehouseKey) order.shipping = ship(orderId, order, answer.body.lines);
      return;
    }
    if (FAILED.has(status)) {
      order.final = true;
      counts.failed++;
      return;
    }
  }
  // Still waiting (or not readable): given up on once nothing has changed for --wait seconds.
  if (now - order.changedAt >= options.waitMs) order.final = true;
}

/**
 * The demo warehouse ships a confirmed order: whole, or (every third order of more than one unit) in two parts a
 * moment apart, each with a carrier and a tracking number; then follows it to `shipped`.
 */
async function ship(orderId, order, orderLines) {
  await sleep(SHIPPING_DELAY_MS);
  const byLine = new Map();
  for (const line of orderLines) byLine.set(line.lineId, { lineId: line.lineId, sku: line.sku, quantity: (byLine.get(line.lineId)?.quantity ?? 0) + Number(line.quantity) });
  const lines = [...byLine.values()].map((l) => ({ ...l, quantity: Math.floor(l.quantity) })).filter((l) => l.quantity > 0);
  const units = lines.reduce((sum, l) => sum + l.quantity, 0);
  const twoParts = units > 1 && orders.size > 0 && [...orders.keys()].indexOf(orderId) % 3 === 0;
  let parts = [lines];
  if (twoParts) {
    const [first, ...rest] = lines;
    const half = Math.max(1, Math.floor(first.quantity / 2));
    parts = [[{ ...first, quantity: half }], [...(first.quantity > half ? [{ ...first, quantity: first.quantity - half }] : []), ...rest]];
  }
  order.shipmentIds = [];
  for (const [i, part] of parts.entries()) {
    if (i > 0) await sleep(SHIPPING_DELAY_MS);
    const shipmentId = `SHIP-${runId}-${order.channelOrderId}-${i + 1}`;
    const event = {
      eventId: randomUUID(), orderId, shipmentId, status: 'shipped', carrier: i === 0 ? 'DHL' : 'UPS', trackingNumber: `1Z${runId}${String(counts.shipped + i).padStart(6, '0')}`,
      lines: part, occurredAt: new Date().toISOString(),
    };
    const answer = await request('POST', '/v1/shipments/events', { token: warehouseKey.key, body: event });
    if (answer.status !== 202 || answer.body.outcome !== 'applied') {
      counts.shipFailed++;
      rejections.set(`shipment ${answer.status}: ${answer.body?.reason ?? reasonOf(answer)}`, (rejections.get(`shipment ${answer.status}`) ?? 0) + 1);
      return;
    }
    order.shipmentIds.push(shipmentId);
  }
  if (twoParts) counts.twoParts++;
  for (let waited = 0; waited < options.waitMs && !interrupted; waited += POLL_INTERVAL_MS) {
    const view = await request('GET', `/v1/orders/${encodeURIComponent(orderId)}`, { token: adminToken });
    if (view.body?.status === 'shipped') {
      order.shipped = true;
      counts.shipped++;
      progress();
      return;
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/** Each channel's available-to-sell of the watched SKU: it falls as orders are accepted, before the ERP has them. */
async function watchAvailability() {
  const answer = await request('GET', `/v1/inventory/${encodeURIComponent(options.sku)}`, { token: adminToken }).catch(() => undefined);
  if (answer?.status !== 200) return;
  watched = `  ${options.sku}: ${answer.body.channels.map((c) => `${c.channelId} ${c.available}`).join(', ')}`;
}

function progress(done = false) {
  const now = Date.now();
  const tty = process.stdout.isTTY;
  if (!done && now - lastLine < (tty ? 100 : 2000)) return;
  lastLine = now;
  const shipping = warehouseKey ? `  shipped ${counts.shipped}` : '';
  const line = `sent ${counts.sent}/${options.count}  accepted ${counts.accepted}  confirmed ${counts.confirmed}${shipping}  rejected ${counts.rejected}  failed ${counts.failed}${watched}`;
  process.stdout.write(tty ? `\r${line}\x1b[K${done ? '\n' : ''}` : `${line}\n`);
}

async function summary() {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const times = [...orders.values()].flatMap((o) => (o.confirmedAfterMs === undefined ? [] : [o.confirmedAfterMs])).sort((a, b) => a - b);
  const open = new Map();
  for (const order of orders.values()) {
    if (order.confirmedAfterMs === undefined && !FAILED.has(order.status)) open.set(order.status, (open.get(order.status) ?? 0) + 1);
  }
  const lines = [
    `${counts.sent} orders sent to ${baseUrl} in ${seconds} s${interrupted ? ' (interrupted)' : ''}: ${counts.accepted} accepted, ${counts.rejected} rejected.`,
    `ERP: ${counts.confirmed} confirmed, ${counts.failed} failed, ${[...open.values()].reduce((a, b) => a + b, 0)} not yet.`,
  ];
  if (times.length > 0) {
    lines.push(`Accepted to confirmed (to within ${POLL_INTERVAL_MS / 1000} s): median ${(times[Math.floor(times.length / 2)] / 1000).toFixed(1)} s, slowest ${(times.at(-1) / 1000).toFixed(1)} s.`);
  }
  for (const [status, n] of open) lines.push(`  still ${status}: ${n}`);
  const reasons = [...rejections].sort((a, b) => b[1] - a[1]);
  for (const [reason, n] of reasons.slice(0, 5)) lines.push(`  rejected ${n}x: ${reason}`);
  if (reasons.length > 5) lines.push(`  and ${reasons.length - 5} other reasons`);
  if (warehouseKey) lines.push(...(await shippingSummary()));
  lines.push(`Follow them in the console: ${baseUrl}/console`);
  process.stdout.write(lines.join('\n') + '\n');
}

/** What the warehouse shipped, and where it arrived: the portal's webhooks and the store's fulfillments. */
async function shippingSummary() {
  const shipments = new Set([...orders.values()].flatMap((o) => o.shipmentIds ?? []));
  const received = await request('GET', '/simulators/webhook-receiver/portal', { token: adminToken });
  const atPortal = new Set((Array.isArray(received.body) ? received.body : []).map((d) => d.body).filter((e) => e?.type?.startsWith?.('shipment.')).map((e) => e.data?.shipmentId).filter((id) => shipments.has(id)));
  let fulfillments = 0;
  let storeShipped = 0;
  for (const order of [...orders.values()].filter((o) => o.store && o.shipmentIds?.length)) {
    const view = await request('GET', `/simulators/shopify/_control/orders/${order.channelOrderId}`, { token: adminToken });
    fulfillments += view.body?.fulfillments?.length ?? 0;
    if ((view.body?.lineItems ?? []).length > 0 && view.body.lineItems.every((l) => l.fulfilled >= l.quantity)) storeShipped++;
  }
  const storeOrders = [...orders.values()].filter((o) => o.store && o.shipmentIds?.length).length;
  const portalShipments = [...orders.values()].filter((o) => !o.store).flatMap((o) => o.shipmentIds ?? []).length;
  return [
    `Warehouse: ${shipments.size} shipments of ${counts.shipped} orders shipped (${counts.twoParts} in two parts)${counts.shipFailed ? `, ${counts.shipFailed} refused` : ''}.`,
    `  the portal received ${atPortal.size} of its orders' ${portalShipments} shipments (among its last 1,000 webhooks); the store holds ${fulfillments} fulfillments, ${storeShipped} of its ${storeOrders} shipped orders fully fulfilled.`,
  ];
}

/** One call to the service; an unreachable service ends the script with a message saying so. */
async function request(method, path, { token, body, headers = {} }) {
  let response;
  try {
    response = await fetch(baseUrl + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = error?.cause?.code ?? error?.cause?.message ?? error?.message;
    fail(`Crossdock is not reachable at ${baseUrl} (${cause}). Start the demo with \`npm start\`, or set CROSSDOCK_URL.`);
  }
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A problem+json answer in a few words: its detail or title, and the fields it names. */
function reasonOf(answer) {
  const problem = answer.body ?? {};
  const fields = Array.isArray(problem.errors) ? ` (${problem.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})` : '';
  return `${problem.detail ?? problem.title ?? JSON.stringify(problem).slice(0, 200)}${fields}`;
}

function fail(message) {
  if (process.stdout.isTTY && counts.sent > 0) process.stdout.write('\n');
  process.stderr.write(`demo:orders: ${message}\n`);
  process.exit(1);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
