// The PostgreSQL ceiling for the rows one accepted order writes, with plain `pg` and no service in front: per
// order, one transaction of the Idempotency-Key record (insert, then its answer), the order, its lines, its
// first status, and the ERP command in the outbox (its row is its `stored` step: no trace row), on `connections`
// connections at once. Used by orders-bench.mjs beside the HTTP intake, on the same schema. The intake also takes
// its SKUs' locks and writes their reservations; this does not.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { percentile } from './support.mjs';

const SHIP_TO = JSON.stringify({ name: 'Adatum Corporation', line1: 'Station Road, 21', city: 'Cambridge', postalCode: 'CB1 2FB', country: 'GB' });

async function insertOrder(client, n, { channelId, backendId }) {
  const orderId = randomUUID();
  const key = randomUUID();
  const principal = `channel:${channelId}`;
  const lines = [
    { sku: '1896-S', quantity: 2, unitPrice: 100.5 },
    { sku: '1900-S', quantity: 1.5, unitPrice: 20 },
    ...(n % 2 ? [{ sku: '1906-S', quantity: 3, unitPrice: 150 }] : []),
  ];
  const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
  await client.query('begin');
  await client.query('insert into idempotency_record (principal, key, request_hash) values ($1, $2, $3)', [principal, key, key.padEnd(64, '0')]);
  const { rows: [order] } = await client.query(
    `insert into sales_order (id, channel_id, channel_order_id, source, customer_account, customer_verified, erp_backend_id, currency, total, ship_to, status, correlation_id)
     values ($1, $2, $3, 'api', '10000', true, $4, 'EUR', $5, $6::jsonb, 'accepted', $7) returning reference, created_at::date::text as order_date`,
    [orderId, channelId, `RAW-${key}`, backendId, total, SHIP_TO, orderId],
  );
  const values = lines.flatMap((l, i) => [orderId, i, String(i + 1), l.sku, 'WH-EAST', l.quantity, l.unitPrice]);
  const placeholders = lines.map((_, i) => `($${i * 7 + 1}, $${i * 7 + 2}, $${i * 7 + 3}, $${i * 7 + 4}, $${i * 7 + 5}, $${i * 7 + 6}, $${i * 7 + 7}, false, '{}')`);
  await client.query(`insert into sales_order_line (order_id, position, line_id, sku, warehouse, quantity, unit_price, backordered, metadata) values ${placeholders.join(', ')}`, values);
  await client.query(`insert into sales_order_status (order_id, status) values ($1, 'accepted')`, [orderId]);
  const messageId = randomUUID();
  const deliveryId = randomUUID();
  const destination = `erp:${backendId}`;
  const payload = { externalDocumentNumber: order.reference, customerNumber: '10000', orderDate: order.order_date, lines };
  await client.query(
    `insert into outbox (message_id, delivery_id, type, kind, key, destination, payload, correlation_id) values ($1, $2, 'erp.sales-order.create', 'command', $3, $4, $5::jsonb, $3)`,
    [messageId, deliveryId, orderId, destination, JSON.stringify(payload)],
  );
  await client.query('update idempotency_record set status = 202, body = $3::jsonb where principal = $1 and key = $2', [
    principal, key, JSON.stringify({ orderId, status: 'accepted', correlationId: orderId }),
  ]);
  await client.query('commit');
}

/**
 * `connections` connections to `databaseUrl` (where `channelId` must exist: a foreign key), warmed up for two
 * seconds; `run(seconds)` answers orders per second and transaction latency (ms); `pids` are their backends.
 */
export async function openCeiling(databaseUrl, { connections, channelId, backendId }) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  pool.on('error', () => {});
  const clients = [];
  let n = 0;
  const loop = async (client, until, latencies) => {
    while (performance.now() < until) {
      const started = performance.now();
      await insertOrder(client, n++, { channelId, backendId });
      latencies.push(performance.now() - started);
    }
  };
  const run = async (seconds) => {
    const latencies = [];
    const started = performance.now();
    await Promise.all(clients.map((c) => loop(c, started + seconds * 1000, latencies)));
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return { ordersPerSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  };
  const close = async () => {
    clients.forEach((c) => c.release());
    await pool.end();
  };
  try {
    for (let i = 0; i < connections; i++) clients.push(await pool.connect());
    await run(2);
  } catch (error) {
    await close();
    throw error;
  }
  return { pids: clients.map((c) => c.processID), run, close };
}
