// The CPU one outbound call costs with each client Node offers: `fetch` and undici's `request` (the service's).
// One process posts a webhook-sized body 64 at a time to a local server that answers 204; CPU is the process's
// own (client and server together), so the difference between the rows is the client's.
import http from 'node:http';
import os from 'node:os';
import { request } from 'undici';

const calls = Number(process.env.BENCH_CALLS ?? 20000);
const concurrency = 64;
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = 204; res.end(); }); });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/hook`;
const body = JSON.stringify({ specversion: '1.0', id: crypto.randomUUID(), type: 'inventory.availability.changed', data: { channelId: 'portal', sku: 'SKU-000001', available: 10, version: 3 } });
const headers = { 'content-type': 'application/cloudevents+json', 'webhook-id': 'msg_1', 'webhook-timestamp': '1764633600', 'webhook-signature': 'v1,c2lnbmF0dXJl', 'x-correlation-id': 'c', 'user-agent': 'Crossdock' };

const clients = {
  fetch: async () => { const r = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(5000) }); await r.text(); },
  'undici request': async () => { const r = await request(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) }); await r.body.text(); },
};

async function measure(send) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let started = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (started++ < calls) await send(); }));
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: calls / ((performance.now() - t0) / 1000), cpuMicros: (cpu.user + cpu.system) / calls };
}

console.log(`Date: ${new Date().toISOString().slice(0, 10)}; ${os.cpus().length} x ${os.cpus()[0].model}; Node ${process.version}; ${calls} calls per round, ${concurrency} at once, three rounds each, alternating.`);
const results = Object.fromEntries(Object.keys(clients).map((name) => [name, []]));
for (let round = 0; round < 3; round++) for (const [name, send] of Object.entries(clients)) results[name].push(await measure(send));
console.log('| client | calls/s (median of 3) | CPU per call, client + server, µs (median) |');
console.log('|---|---|---|');
const median = (xs) => [...xs].sort((a, b) => a - b)[1];
for (const [name, rows] of Object.entries(results)) {
  console.log(`| ${name} | ${median(rows.map((r) => r.perSecond)).toFixed(0)} | ${median(rows.map((r) => r.cpuMicros)).toFixed(0)} |`);
}
server.close();
