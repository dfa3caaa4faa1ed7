import { writeFileSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/platform/database/embedded-postgres.js';
import type { OutboxMessage } from '../src/platform/outbox/message.js';
import { FaultTarget, TARGET_SECRET } from './support/fault-target.js';
import { addMessages, orderViolations, SinkSubscriptionsModule, statusCounts, waitUntil } from './support/messaging.js';
import { startService, type ServiceProcess } from './support/processes.js';
import { ADMIN_TOKEN, freshDatabase, startTestApp, type TestApp } from './support/test-app.js';

const MESSAGES = Number(process.env.TEST_RELIABILITY_MESSAGES ?? 5_000);
const KEYS = 100;

const dirs: string[] = [];
const workers: ServiceProcess[] = [];
afterAll(() => {
  for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An api-role instance that only writes; worker processes (the compiled service) relay and deliver. */
async function setUp() {
  const target = new FaultTarget();
  await target.start();
  target.faults = { ...target.faults, latencyMs: [0, 5], serverErrorRate: Number(process.env.TEST_5XX ?? 0.02), throttleRate: Number(process.env.TEST_429 ?? 0.005), retryAfterSeconds: 0.2 as never };
  const databaseUrl = await freshDatabase();
  const producer = await startTestApp({ databaseUrl, additionalModules: [SinkSubscriptionsModule], env: { CROSSDOCK_ROLE: 'api', LOG_LEVEL: 'warn' } });
  const dir = mkdtempSync(join(tmpdir(), 'crossdock-reliability-'));
  chmodSync(dir, 0o755);
  dirs.push(dir);
  const configFile = join(dir, 'crossdock.yaml');
  writeFileSync(configFile, `channels:
  sink:
    kind: webhook
    config: { url: "${target.url}", secret: "${TARGET_SECRET}" }
    inventory: { warehouses: [WH-1], safetyStock: 0, allocationPercent: 100 }
    oversell: reject
    limits: { ratePerSecond: 5000, burst: 5000, concurrency: 32 }
`);
  const workerEnv = async () => ({
    CROSSDOCK_ROLE: 'worker',
    DATABASE_URL: databaseUrl,
    CROSSDOCK_ADMIN_TOKEN: ADMIN_TOKEN,
    CROSSDOCK_CONFIG: configFile,
    CROSSDOCK_DATA_DIR: dir,
    PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    CROSSDOCK_DELIVERY_BASE_DELAY_MS: '50',
    CROSSDOCK_DELIVERY_MAX_DELAY_MS: '500',
    CROSSDOCK_CALL_TIMEOUT_MS: '2000',
    CROSSDOCK_JOB_HEARTBEAT_SECONDS: '10',
    CROSSDOCK_JOB_SUPERVISE_SECONDS: '1',
    CROSSDOCK_WORKER_CONCURRENCY: '16',
  });
  const startWorker = async () => {
    const worker = startService(await workerEnv());
    workers.push(worker);
    return worker;
  };
  return { target, producer, startWorker };
}

const commands = (): OutboxMessage[] =>
  Array.from({ length: MESSAGES }, (_, i) => ({ type: 'test.command', kind: 'command' as const, key: `key-${i % KEYS}`, payload: { seq: Math.floor(i / KEYS) } }));

function expectExactlyOnceInOrder(target: FaultTarget) {
  expect(target.effects).toHaveLength(MESSAGES);
  expect(new Set(target.effects.map((e) => e.id)).size).toBe(MESSAGES);
  expect(orderViolations(target.effects)).toEqual([]);
  expect(target.badSignatures).toBe(0);
}

describe(`${MESSAGES} commands through two worker processes`, () => {
  let producer: TestApp;
  let target: FaultTarget;
  beforeAll(async () => {
    ({ producer, target } = await setUp().then(async (s) => {
      await addMessages(s.producer.app, commands(), 250);
      await Promise.all([s.startWorker(), s.startWorker()]);
      return s;
    }));
  }, 120_000);
  afterAll(async () => {
    await producer.close();
    await target.stop();
  });

  it('reach the target exactly once each, in order per key', { timeout: 600_000 }, async () => {
    await waitUntil('all delivered', async () => (await statusCounts(producer)).delivered === MESSAGES, 540_000, 500);
    expectExactlyOnceInOrder(target);
    expect(await statusCounts(producer)).toEqual({ delivered: MESSAGES });
  });
});

describe(`${MESSAGES} commands while workers are killed with SIGKILL and restarted`, () => {
  let producer: TestApp;
  let target: FaultTarget;
  let startWorker: () => Promise<ServiceProcess>;
  beforeAll(async () => {
    ({ producer, target, startWorker } = await setUp());
    await addMessages(producer.app, commands(), 250);
  }, 120_000);
  afterAll(async () => {
    await producer.close();
    await target.stop();
  });

  it('still reach the target exactly once each, in order per key', { timeout: 600_000 }, async () => {
    let pair = [await startWorker(), await startWorker()];
    let kills = 0;
    while (kills < 4 && (await statusCounts(producer)).delivered !== MESSAGES) {
      await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 2_000));
      const victim = Math.floor(Math.random() * 2);
      pair[victim]!.child.kill('SIGKILL');
      await pair[victim]!.exited;
      kills++;
      pair = pair.map((w, i) => (i === victim ? w : w));
      pair[victim] = await startWorker();
    }
    expect(kills).toBeGreaterThan(0);
    await waitUntil('all delivered after the kills', async () => (await statusCounts(producer)).delivered === MESSAGES, 540_000, 500);
    expectExactlyOnceInOrder(target);
  });
});
