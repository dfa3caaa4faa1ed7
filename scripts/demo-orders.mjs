// `npm run demo:orders`: order traffic for a running demo instance (`npm start`). It takes an API key for the
// demo B2B portal channel, submits orders through the public API as the portal would, and follows each one
// until the ERP confirms it. Usage: npm run demo:orders -- [--count 50] [--rate 5] [--wait 30]
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const CHANNEL = 'demo-portal';
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

const counts = { sent: 0, accepted: 0, rejected: 0, confirmed: 0, failed: 0 };
// Available-to-sell per channel of the SKU the progress line watches, as Crossdock last computed it.
let watched = '';
const options = readOptions();
const baseUrl = (process.env.CROSSDOCK_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(/\/+$/, '');
const adminToken = readAdminToken();
const runId = Date.now().toString(36).toUpperCase();

/** @type {Map<string, {channelOrderId: string, acceptedAt: number, status: string, changedAt: number, final: boolean, confirmedAfterMs?: number}>} */
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
const started = Date.now();
try {
  await Promise.all([submitOrders(), followOrders()]);
} finally {
  progress(true);
  await request('DELETE', `/v1/admin/channels/${CHANNEL}/api-keys/${key.id}`, { token: adminToken }).catch(() => undefined);
}
summary();

function readOptions() {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '50' },
      rate: { type: 'string', default: '5' },
      wait: { type: 'string', default: '30' },
      sku: { type: 'string', default: '1896-S' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run demo:orders -- [--count N] [--rate R] [--wait S] [--sku SKU]\n' +
        '  --count N  orders to submit (default 50)\n' +
        '  --rate R   orders per second (default 5)\n' +
        '  --wait S   stop following an order whose status has not changed for S seconds (default 30)\n' +
        '  --sku SKU  whose available-to-sell per channel the progress line shows (default 1896-S)\n' +
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
  return { count, rate, waitMs: wait * 1000, sku: values.sku };
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

async function submitOrders() {
  const inFlight = new Set();
  for (let i = 0; i < options.count && !interrupted; i++) {
    const due = started + (i * 1000) / options.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const submission = submitOrder(i + 1).finally(() => inFlight.delete(submission));
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
  const answer = await request('GET', `/v1/orders/${encodeURIComponent(orderId)}`, { token: key.key });
  const now = Date.now();
  if (answer.status === 200) {
    const status = String(answer.body.status);
    if (status !== order.status) Object.assign(order, { status, changedAt: now });
    if (status === 'confirmed' || answer.body.erpOrderRef) {
      Object.assign(order, { final: true, confirmedAfterMs: now - order.acceptedAt });
      counts.confirmed++;
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
  const line = `sent ${counts.sent}/${options.count}  accepted ${counts.accepted}  confirmed ${counts.confirmed}  rejected ${counts.rejected}  failed ${counts.failed}${watched}`;
  process.stdout.write(tty ? `\r${line}\x1b[K${done ? '\n' : ''}` : `${line}\n`);
}

function summary() {
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
  lines.push(`Follow them in the console: ${baseUrl}/console`);
  process.stdout.write(lines.join('\n') + '\n');
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
