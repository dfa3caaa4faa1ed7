import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxMessage } from '../src/platform/outbox/message.js';
import { maxInWindow } from './support/fault-target.js';
import { addMessages, orderViolations, statusCounts, waitUntil } from './support/messaging.js';
import type { ServiceProcess } from './support/processes.js';
import { startFleet, type Fleet } from './support/worker-fleet.js';

// Three instances (the api-role producer and two worker processes) under steady load, restarted one at a time
// (SIGTERM), then one killed (SIGKILL): nothing lost or doubled, the target's limits held, readiness honest.
const MESSAGES = Number(process.env.TEST_ROLLING_MESSAGES ?? 3_000);
const KEYS = 60;
const LIMITS = { ratePerSecond: 400, burst: 50, concurrency: 8 };

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ faults: { latencyMs: [2, 10] }, limits: LIMITS });
}, 120_000);
afterAll(() => fleet?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The port from the banner the service prints once it is ready.
const portOf = (worker: ServiceProcess) => Number(/Health\s+http:\/\/[^:\s]+:(\d+)\//.exec(worker.stdout())?.[1] ?? 0);

/** Readiness as an orchestrator sees it, sampled until stopped: the statuses each worker answered. */
function probe(worker: ServiceProcess) {
  const seen: Array<number | 'refused'> = [];
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      const port = portOf(worker);
      if (port) {
        try {
          seen.push((await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2_000) })).status);
        } catch {
          seen.push('refused');
        }
      }
      await sleep(100);
    }
  })();
  return { seen, stop: async () => ((stopped = true), await running) };
}

async function startReady(): Promise<{ worker: ServiceProcess; probe: ReturnType<typeof probe> }> {
  const worker = await fleet.startWorker();
  await waitUntil('worker ready', async () => {
    const port = portOf(worker);
    return port > 0 && (await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status === 200, () => false));
  }, 60_000);
  return { worker, probe: probe(worker) };
}

describe('rolling restarts of the workers under steady load', () => {
  it('lose and double nothing, keep the target within its limits, and readiness says the truth', { timeout: 300_000 }, async () => {
    const { producer, target } = fleet;
    const first = [await startReady(), await startReady()];
    const messages: OutboxMessage[] = Array.from({ length: MESSAGES }, (_, i) => ({ type: 'test.command', kind: 'command' as const, key: `key-${i % KEYS}`, payload: { seq: Math.floor(i / KEYS) } }));
    // Steady load: batches of 50 every 150 ms, written by the api instance while the workers come and go.
    const load = (async () => {
      for (let i = 0; i < messages.length; i += 50) {
        await addMessages(producer.app, messages.slice(i, i + 50), 50);
        await sleep(150);
      }
    })();

    const stopped: Array<{ seen: Array<number | 'refused'>; code: number | null; signal: string | null }> = [];
    const replaced = [];
    for (const { worker, probe: p } of first) {
      await sleep(1_500);
      worker.child.kill('SIGTERM');
      const exit = await worker.exited;
      await p.stop();
      stopped.push({ seen: p.seen, ...exit });
      replaced.push(await startReady());
    }
    await sleep(1_000);
    const killed = replaced.shift()!;
    killed.worker.child.kill('SIGKILL');
    await killed.worker.exited;
    await killed.probe.stop();
    const last = await startReady();
    await load;

    await waitUntil('all delivered', async () => (await statusCounts(producer)).delivered === MESSAGES, 180_000, 500);
    const survivors = [...replaced, last];
    for (const s of survivors) await s.probe.stop();

    // Nothing lost, nothing doubled, in order per key.
    expect(target.effects).toHaveLength(MESSAGES);
    expect(new Set(target.effects.map((e) => e.id)).size).toBe(MESSAGES);
    expect(orderViolations(target.effects)).toEqual([]);
    expect(await statusCounts(producer)).toEqual({ delivered: MESSAGES });
    // The target's limits held across every instance and every restart.
    expect(maxInWindow(target.requests.map((r) => r.at), 1_000)).toBeLessThanOrEqual(LIMITS.burst + LIMITS.ratePerSecond + 1);
    expect(target.maxInFlight).toBeLessThanOrEqual(LIMITS.concurrency);
    // A SIGTERM stops cleanly; until then the worker said ready, and while stopping, 503 or nothing.
    for (const s of stopped) {
      expect(s).toMatchObject({ code: 0 });
      const firstNotReady = s.seen.findIndex((status) => status !== 200);
      expect(s.seen.slice(0, Math.max(1, firstNotReady === -1 ? s.seen.length : firstNotReady)).every((status) => status === 200)).toBe(true);
      expect(s.seen.every((status) => status === 200 || status === 503 || status === 'refused')).toBe(true);
    }
    // A worker left alone was ready all along.
    for (const s of survivors) expect(s.probe.seen.length > 0 && s.probe.seen.every((status) => status === 200)).toBe(true);
  });
});
