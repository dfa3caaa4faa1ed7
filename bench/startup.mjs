// Time from `node dist/main.js` to GET /health/ready answering 200, in demo mode on the embedded database:
// first run (creates the PostgreSQL cluster) and next run (reuses it). `npm start` adds the build (under 1 s).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dataDir = mkdtempSync(join(tmpdir(), 'crossdock-startup-'));
chmodSync(dataDir, 0o755);
const port = 3911;

async function timeToReady() {
  const started = performance.now();
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), CROSSDOCK_DATA_DIR: dataDir, LOG_FORMAT: 'json' },
    stdio: 'ignore',
  });
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200) break;
    } catch {}
    if (child.exitCode !== null) throw new Error('the service exited before it was ready');
    await new Promise((r) => setTimeout(r, 25));
  }
  const ms = performance.now() - started;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return ms;
}

const first = await timeToReady();
const next = [await timeToReady(), await timeToReady(), await timeToReady()];
rmSync(dataDir, { recursive: true, force: true });
console.log(`Date: ${new Date().toISOString().slice(0, 10)}; Node ${process.version}`);
console.log('| run | time to ready |');
console.log('|---|---:|');
console.log(`| first (creates the embedded cluster, migrates, seeds the demo) | ${(first / 1000).toFixed(2)} s |`);
next.forEach((ms, i) => console.log(`| next #${i + 1} (reuses it) | ${(ms / 1000).toFixed(2)} s |`));
