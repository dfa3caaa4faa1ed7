// The channels' side of the inventory and pricing benchmarks: one plain HTTP server that takes the webhooks of several
// channels (one path each), verifies each Standard Webhooks signature with the channel's secret, and records
// every figure it receives (one event a request, or CloudEvents batches) with the time it was received.
import { createServer } from 'node:http';
import { verifyWebhook } from '../dist/connectors/channels/webhook/standard-webhooks.js';

const AVAILABILITY_CHANGED = 'inventory.availability.changed';

/**
 * `secrets`: channel id to its `whsec_` secret; the channel's webhooks go to `urlOf(channelId)`. `type`: the event
 * type recorded (others are counted).
 */
export async function startReceiver(secrets, { type = AVAILABILITY_CHANGED } = {}) {
  const state = {
    /** Per channel, in the order received: {sku, version, available, unitPrice, asOf, at, correlationId}. */
    received: new Map(Object.keys(secrets).map((id) => [id, []])),
    ids: new Set(),
    duplicates: 0,
    badSignatures: 0,
    otherTypes: 0,
  };
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const at = Date.now();
    const body = Buffer.concat(chunks).toString('utf8');
    const channelId = decodeURIComponent(req.url.slice(1));
    const secret = secrets[channelId];
    const headers = { id: String(req.headers['webhook-id'] ?? ''), timestamp: String(req.headers['webhook-timestamp'] ?? ''), signature: String(req.headers['webhook-signature'] ?? '') };
    if (!secret || !verifyWebhook(secret, headers, body)) {
      state.badSignatures++;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
      return;
    }
    // One event, or a CloudEvents batch (a channel in batch mode): each event counts on its own.
    const parsed = JSON.parse(body);
    for (const event of String(req.headers['content-type']).startsWith('application/cloudevents-batch+json') ? parsed : [parsed]) {
      if (event.type !== type) state.otherTypes++;
      else if (state.ids.has(`${channelId}/${event.id}`)) state.duplicates++;
      else {
        state.ids.add(`${channelId}/${event.id}`);
        const { sku, version, available, unitPrice, asOf } = event.data;
        state.received.get(channelId).push({ sku, version, available, unitPrice, asOf, at, correlationId: event.correlationid });
      }
    }
    state.requests = (state.requests ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    state,
    urlOf: (channelId) => `http://127.0.0.1:${port}/${encodeURIComponent(channelId)}`,
    /** Figures received so far, all channels. */
    count: () => [...state.received.values()].reduce((n, list) => n + list.length, 0),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}
