import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/platform/database/embedded-postgres.js';
import { FaultTarget, TARGET_SECRET, type Faults } from './fault-target.js';
import { SinkSubscriptionsModule } from './messaging.js';
import { startService, type ServiceProcess } from './processes.js';
import { ADMIN_TOKEN, freshDatabase, startTestApp, type TestApp } from './test-app.js';

export interface Fleet {
  target: FaultTarget;
  /** An api-role instance in this process: it writes messages, and never delivers. */
  producer: TestApp;
  /** Starts one more worker process (the compiled service, role worker) on the same database. */
  startWorker: () => Promise<ServiceProcess>;
  workers: ServiceProcess[];
  /** Kills what is left and removes the files. */
  close: () => Promise<void>;
}

/**
 * A fault-injecting webhook target named `sink`, a producer, and worker processes that relay and deliver to
 * it, configured by a YAML file as a real deployment is.
 */
export async function startFleet(options: { faults: Partial<Faults>; limits: { ratePerSecond: number; burst: number; concurrency: number }; workerEnv?: Record<string, string> }): Promise<Fleet> {
  const target = new FaultTarget();
  await target.start();
  target.faults = { ...target.faults, ...options.faults };
  const databaseUrl = await freshDatabase();
  const producer = await startTestApp({ databaseUrl, additionalModules: [SinkSubscriptionsModule], env: { CROSSDOCK_ROLE: 'api', LOG_LEVEL: 'warn' } });
  const dir = mkdtempSync(join(tmpdir(), 'crossdock-fleet-'));
  chmodSync(dir, 0o755);
  const configFile = join(dir, 'crossdock.yaml');
  const { ratePerSecond, burst, concurrency } = options.limits;
  writeFileSync(configFile, `channels:
  sink:
    kind: webhook
    config: { url: "${target.url}", secret: "${TARGET_SECRET}" }
    inventory: { warehouses: [WH-1], safetyStock: 0, allocationPercent: 100 }
    oversell: reject
    limits: { ratePerSecond: ${ratePerSecond}, burst: ${burst}, concurrency: ${concurrency} }
`);
  const workers: ServiceProcess[] = [];
  const startWorker = async () => {
    const worker = startService({
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
      ...options.workerEnv,
    });
    workers.push(worker);
    return worker;
  };
  const close = async () => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await producer.close();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { target, producer, startWorker, workers, close };
}

/** SIGKILLs a worker and starts another in its place. */
export async function killAndReplace(fleet: Fleet, worker: ServiceProcess): Promise<ServiceProcess> {
  worker.child.kill('SIGKILL');
  await worker.exited;
  return fleet.startWorker();
}
