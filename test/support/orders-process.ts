import { freePort } from '../../src/platform/database/embedded-postgres.js';
import type { BusinessCentralSimulator } from '../../src/simulators/business-central/bc-simulator.js';
import { startService, waitForStatus, type ServiceProcess } from './processes.js';
import { ADMIN_TOKEN, type Answer, type RequestOptions, type TestApp } from './test-app.js';

/**
 * The compiled service as a child process on one database and one port, which a test kills with SIGKILL and
 * starts again in place. `app` speaks to whichever run is current (for the helpers that take a TestApp and use
 * only its `request`); `up()` resolves once the current run is ready, so clients wait out a restart.
 */
export async function restartableService(env: Record<string, string>) {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const runs: ServiceProcess[] = [];
  let ready = gate();

  async function request(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
    const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const headers = {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...opts.headers,
    };
    const response = await fetch(baseUrl + path, { method, headers, body, signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  const current = () => runs.at(-1);
  return {
    baseUrl,
    app: { request } as TestApp,
    request,
    up: () => ready.promise,
    async start(): Promise<void> {
      const run = startService({ CROSSDOCK_ADMIN_TOKEN: ADMIN_TOKEN, PORT: String(port), HOST: '127.0.0.1', ...env });
      runs.push(run);
      await waitForStatus(`${baseUrl}/health/ready`, 200, run);
      ready.resolve();
    },
    /** Sends SIGKILL at once (synchronously), and closes the gate until the next `start`. */
    kill(): Promise<unknown> {
      const run = current();
      if (!run || run.child.exitCode !== null || run.child.signalCode !== null) throw new Error('no running service to kill');
      ready = gate();
      run.child.kill('SIGKILL');
      return run.exited;
    },
    /** Every run's output, in order, for failure messages. */
    output(): string {
      return runs.map((run, i) => `--- run ${i + 1} stdout:\n${run.stdout()}--- run ${i + 1} stderr:\n${run.stderr()}`).join('\n');
    },
    async stop(): Promise<void> {
      const run = current();
      if (run && run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill('SIGKILL');
        await run.exited;
      }
    },
  };
}

export type RestartableService = Awaited<ReturnType<typeof restartableService>>;

function gate() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Calls `act` synchronously when the simulator records its next sales order create (201), before the answer
 * leaves for the caller: a kill there falls between the ERP's create and the caller's record of it.
 * Resolves with the created order's externalDocumentNumber.
 */
export function onNextErpCreate(sim: BusinessCentralSimulator, act: (reference: string) => void): Promise<string> {
  const requests = sim.state.requests;
  return new Promise((resolve) => {
    requests.push = function push(...items) {
      const length = Array.prototype.push.apply(this, items);
      const created = items.find((r) => r.method === 'POST' && r.status === 201 && r.path.endsWith('/salesOrders'));
      if (created) {
        Reflect.deleteProperty(requests, 'push'); // back to Array.prototype.push
        const reference = String((created.body as { externalDocumentNumber?: unknown }).externalDocumentNumber);
        act(reference);
        resolve(reference);
      }
      return length;
    };
  });
}
