// Requests/s and p99 latency through Crossdock's HTTP stack, beside a bare Fastify hello-world in the same run.
//   npm run bench:http                       (embedded PostgreSQL in a temporary directory)
//   DATABASE_URL=postgres://... npm run bench:http
// Options: BENCH_CONNECTIONS (64), BENCH_SECONDS (10).
import { fork } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { issueApiKey, machineLine, startService, stopService, waitFor } from './support.mjs';

const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const duration = Number(process.env.BENCH_SECONDS ?? 10);
const adminToken = 'bench-admin-token-0123456789';
const bare = 3901;
const service = 3902;

const dataDir = mkdtempSync(join(tmpdir(), 'crossdock-bench-'));
chmodSync(dataDir, 0o755);
const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function run(title, url, headers = {}) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration, headers, pipelining: 1 }, (error, result) => {
      if (error) return reject(error);
      const non2xx = result.non2xx + result.errors;
      resolve({ title, rps: result.requests.average, p99: result.latency.p99, p50: result.latency.p50, non2xx });
    });
  });
}

const bareChild = fork(new URL('./bare-fastify.mjs', import.meta.url), { env: { PORT: String(bare) }, stdio: 'ignore' });
children.push(bareChild);
const env = {
  PORT: String(service),
  CROSSDOCK_ADMIN_TOKEN: adminToken,
  CROSSDOCK_DATA_DIR: dataDir,
  CROSSDOCK_CONFIG: new URL('./bench-config.yaml', import.meta.url).pathname,
  CROSSDOCK_API_KEY_RATE_PER_SECOND: '1000000',
  CROSSDOCK_API_KEY_RATE_BURST: '1000000',
  LOG_FORMAT: 'json',
  LOG_LEVEL: 'info',
};
// Every request writes its log line, to a file.
const serviceChild = await startService(env, join(dataDir, 'service.log'));

await waitFor(`http://127.0.0.1:${bare}/`);
const key = await issueApiKey(`http://127.0.0.1:${service}`, adminToken, 'channels/bench-portal', ['inventory:read']);
const keyHeader = { authorization: `Bearer ${key}` };

// Warm up each target so that JIT and pools are hot.
for (const [url, headers] of [[`http://127.0.0.1:${bare}/`, {}], [`http://127.0.0.1:${service}/health/live`, {}], [`http://127.0.0.1:${service}/v1/me`, keyHeader]]) {
  await new Promise((resolve) => autocannon({ url, connections, duration: 2, headers }, resolve));
}

const results = [];
results.push(await run('bare Fastify hello-world', `http://127.0.0.1:${bare}/`));
results.push(await run('GET /health/live', `http://127.0.0.1:${service}/health/live`));
results.push(await run('GET /v1/me (API key: auth, rate limit, correlation, log line, metrics)', `http://127.0.0.1:${service}/v1/me`, keyHeader));

const base = results[0].rps;
const lines = [
  `${machineLine()};`,
  `autocannon, ${connections} connections, ${duration} s per row, client on the same machine.`,
  '',
  '| target | requests/s | p50 ms | p99 ms | share of bare | non-2xx |',
  '|---|---:|---:|---:|---:|---:|',
  ...results.map((r) => `| ${r.title} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${Math.round((r.rps / base) * 100)}% | ${r.non2xx} |`),
];
lines.push('', `The service wrote ${Math.round(statSync(join(dataDir, 'service.log')).size / 1024 / 1024)} MiB of JSON log lines during the run.`);
console.log(lines.join('\n'));

await stopService(serviceChild);
bareChild.kill('SIGKILL');
rmSync(dataDir, { recursive: true, force: true });
process.exit(results.every((r) => r.non2xx === 0) ? 0 : 1);
