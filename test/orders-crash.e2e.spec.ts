import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { waitUntil } from './support/messaging.js';
import { onNextErpCreate, restartableService, type RestartableService } from './support/orders-process.js';
import { erpOrdersWithReference, orderBody, ordersWorld, orderStatus, submitOrder, type OrdersWorld } from './support/orders.js';
import { freshDatabase, type Answer } from './support/test-app.js';

const ORDERS = Number(process.env.TEST_CRASH_ORDERS ?? 300);
const CLIENTS = Number(process.env.TEST_CRASH_CLIENTS ?? 16);
/** The first SIGKILL comes once this many requests of the burst have been answered. */
const KILL_AFTER = Number(process.env.TEST_CRASH_KILL_AFTER ?? Math.ceil(ORDERS / 3));
/** The ERP backend's limits; the simulator takes 3x the rate, since a create is a look-up and a POST. */
const ERP_LIMITS = { ratePerSecond: 30, burst: 10, concurrency: 4 };
/** Orders are stuck once none has moved on for this long (a killed worker's jobs wait out a 10 s heartbeat first). */
const STALL_MS = Number(process.env.TEST_CRASH_STALL_MS ?? 30_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Attempt {
  /** How many times the service had been killed when the request was sent. */
  kills: number;
  status: number | 'connection error' | 'timeout';
  orderId?: string;
  replayed?: boolean;
  detail?: string;
}

let service: RestartableService;
let world: OrdersWorld;

beforeAll(async () => {
  service = await restartableService({
    CROSSDOCK_ROLE: 'all',
    DATABASE_URL: await freshDatabase(),
    LOG_LEVEL: 'info',
    // Per-key request limits above the burst: the test is about the crash, not 429s from the API.
    CROSSDOCK_API_KEY_RATE_PER_SECOND: '100000',
    CROSSDOCK_API_KEY_RATE_BURST: '100000',
    // A killed worker's jobs and governor leases come back within seconds rather than a minute.
    CROSSDOCK_JOB_HEARTBEAT_SECONDS: '10',
    CROSSDOCK_JOB_SUPERVISE_SECONDS: '1',
    CROSSDOCK_CALL_TIMEOUT_MS: '2000',
    CROSSDOCK_DELIVERY_BASE_DELAY_MS: '100',
    CROSSDOCK_DELIVERY_MAX_DELAY_MS: '1000',
  });
  await service.start();
  world = await ordersWorld(service.app, {
    sim: { latencyMs: [5, 20], ratePerSecond: ERP_LIMITS.ratePerSecond * 3 },
    limits: ERP_LIMITS,
  });
});

afterAll(async () => {
  await service?.stop();
  await world?.close();
});

describe(`${ORDERS} orders from ${CLIENTS} clients while Crossdock is killed with SIGKILL and restarted`, () => {
  it('puts every accepted order in the ERP exactly once, and confirms every one', { timeout: 300_000 }, async () => {
    const started = Date.now();
    const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const timeline: string[] = [];
    onTestFailed(() => {
      const statuses = Object.entries(Object.groupBy(world.sim.state.requests, (r) => `${r.method} ${r.path.split('/').pop()} ${r.status}`)).map(([k, v]) => `${k}: ${v!.length}`);
      console.error([...timeline, `at ${elapsed()}: ${answered} answers, ${kills} kills, ${world.sim.state.orders.size} ERP orders, ERP requests: ${statuses.join(', ')}`, warnings(service.output())].join('\n'));
    });
    const bodies = Array.from({ length: ORDERS }, () => orderBody());
    const keys = bodies.map((_, i) => `crash-order-${i}`);
    const attempts: Attempt[][] = bodies.map(() => []);
    let kills = 0;
    let answered = 0;

    /**
     * A channel's client: sends order `i` until it has an answer other than a connection error, a timeout, a
     * 5xx, a 429 or a 409 "in progress", each time with the same Idempotency-Key; every try goes in `tries`.
     */
    async function send(i: number, tries: Attempt[]): Promise<void> {
      for (;;) {
        await service.up();
        const sentAt = kills;
        let answer: Answer;
        try {
          answer = await submitOrder(service.app, world.portalKey, bodies[i], keys[i]);
        } catch (error) {
          const status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'connection error';
          tries.push({ kills: sentAt, status, detail: String((error as Error).cause ?? error) });
          await sleep(20);
          continue;
        }
        answered++;
        tries.push({ kills: sentAt, status: answer.status, orderId: answer.body?.orderId, replayed: answer.headers.get('idempotent-replayed') === 'true', detail: answer.status === 202 ? undefined : answer.text });
        const inProgress = answer.status === 409 && /in progress/.test(answer.body?.detail ?? '');
        if (!inProgress && answer.status !== 429 && answer.status < 500) return;
        await sleep(Math.min(1_000, Number(answer.headers.get('retry-after') ?? 0.05) * 1_000));
      }
    }
    /** Every order through `CLIENTS` clients at once. */
    const everyOrder = (work: (i: number) => Promise<void>) => {
      let next = 0;
      return Promise.all(Array.from({ length: CLIENTS }, async () => {
        for (let i = next++; i < ORDERS; i = next++) await work(i);
      }));
    };

    const burst = everyOrder((i) => send(i, attempts[i]!)).then(() => timeline.push(`${elapsed()}: burst answered`));

    // First kill: in the middle of the burst, with a call to the ERP under way.
    await waitUntil(`${KILL_AFTER} answers`, () => answered >= KILL_AFTER, 30_000, 1);
    await waitUntil('a call in flight at the ERP', () => world.sim.state.inFlight > 0, 30_000, 1);
    const firstKill = { answered, erpInFlight: world.sim.state.inFlight, erpOrders: world.sim.state.orders.size };
    kills++;
    const firstExit = service.kill();
    timeline.push(`${elapsed()}: SIGKILL 1 after ${firstKill.answered} answers, ${firstKill.erpInFlight} ERP calls in flight, ${firstKill.erpOrders} ERP orders`);
    await firstExit;
    await service.start();
    timeline.push(`${elapsed()}: restarted`);
    await burst;

    const unaccepted = keys.flatMap((key, i) => (attempts[i]!.at(-1)?.status === 202 ? [] : [{ key, attempts: attempts[i] }]));
    expect(unaccepted, 'requests that never got a 202').toEqual([]);
    const accepted = attempts.map((list) => list.at(-1)!.orderId!);
    expect(new Set(accepted).size).toBe(ORDERS);

    // Second kill: during the delivery backlog, between the ERP's create of an order and Crossdock's record of it.
    const remaining = ORDERS - world.sim.state.orders.size;
    let secondExit: Promise<unknown> | undefined;
    const createdAtKill = await Promise.race([
      onNextErpCreate(world.sim, () => {
        kills++;
        secondExit = service.kill();
      }),
      sleep(30_000).then(() => undefined),
    ]);
    expect(createdAtKill, 'an ERP create after the burst, to kill the service at').toBeDefined();
    timeline.push(`${elapsed()}: SIGKILL 2 as the ERP created ${createdAtKill} (${remaining} orders were not yet in the ERP)`);
    await secondExit;
    await service.start();
    timeline.push(`${elapsed()}: restarted`);

    // Every accepted order ends confirmed. The ERP flow's counts are watched until nothing is left to send
    // (asking for each order all along would load the service the test is timing); then each order is read.
    let progressAt = Date.now();
    let lastCounts = '';
    for (;;) {
      const flow = ((await service.request('GET', '/v1/ops/flows')).body?.flows as any[] | undefined)?.find((f) => f.flow === 'erp.sales-order.create' && f.destination === 'erp:bc');
      if (flow && flow.waiting + flow.queued + flow.sending === 0) break;
      const counts = JSON.stringify([flow?.waiting, flow?.queued, flow?.sending, flow?.dead, flow?.deliveredLastHour]);
      if (counts !== lastCounts) [lastCounts, progressAt] = [counts, Date.now()];
      if (Date.now() - progressAt > STALL_MS) break;
      await sleep(500);
    }
    const orders = new Map<string, any>();
    const pending = new Set(accepted);
    progressAt = Date.now();
    while (pending.size > 0 && Date.now() - progressAt < STALL_MS) {
      const before = pending.size;
      const ids = [...pending];
      for (let i = 0; i < ids.length; i += 8) {
        await Promise.all(ids.slice(i, i + 8).map(async (id) => {
          const order = await orderStatus(service.app, id);
          orders.set(id, order);
          if (order?.status === 'confirmed' || order?.status === 'rejected' || order?.status === 'failed') pending.delete(id);
        }));
      }
      if (pending.size < before) progressAt = Date.now();
      if (pending.size > 0) await sleep(1_000);
    }
    const confirmed = accepted.filter((id) => orders.get(id)?.status === 'confirmed').length;
    timeline.push(`${elapsed()}: ${confirmed} of ${ORDERS} confirmed${pending.size > 0 ? `; ${pending.size} still on their way, none moved on for ${STALL_MS / 1000} s` : ''}`);
    const failedWith = (status: Attempt['status']) => attempts.filter((list) => list.some((a) => a.status === status));
    const cutRequests = failedWith('connection error').length;
    const lostAnswers = attempts.filter((list) => list.length > 1 && list.at(-1)!.replayed).length;
    const retried = attempts.filter((list) => list.some((a) => typeof a.status === 'number' && a.status !== 202)).length;
    timeline.push(`${cutRequests} requests failed with a connection error and ${failedWith('timeout').length} timed out; ${retried} were answered 409/429/5xx; `
      + `all were sent again with their key, and ${lostAnswers} found the order stored by a request whose answer was lost (replayed)`);
    console.info(timeline.join('\n'));

    // Each check is soft, so that a failure shows every way the run went wrong.
    const notConfirmed = accepted.filter((id) => orders.get(id)?.status !== 'confirmed');
    if (notConfirmed.length > 0) {
      const evidence = await Promise.all(notConfirmed.slice(0, 10).map((id) => describeOrder(orders.get(id) ?? { orderId: id })));
      expect.soft(notConfirmed.map((id) => `${id}: ${orders.get(id)?.status} (${orders.get(id)?.statusReason ?? ''})`),
        `orders not confirmed; the first of them:\n${evidence.join('\n')}`,
      ).toEqual([]);
    }

    // The ERP holds exactly one sales order per accepted order, the one Crossdock recorded, and nothing else.
    const references = new Map(accepted.map((id) => [orders.get(id)?.reference as string, id]));
    expect.soft(references.size).toBe(ORDERS);
    const wrong = accepted.flatMap((id) => {
      const order = orders.get(id);
      const inErp = erpOrdersWithReference(world.sim, order?.reference);
      return inErp.length === 1 && inErp[0]!.number === order?.erpOrderRef ? [] : [`${id} ${order?.reference} ${order?.status}: erpOrderRef ${order?.erpOrderRef}, in the ERP: [${inErp.map((o) => o.number).join(', ')}]`];
    });
    expect.soft(wrong, 'orders missing, duplicated or recorded under another number in the ERP').toEqual([]);
    const strangers = [...world.sim.state.orders.values()].filter((o) => !references.has(o.externalDocumentNumber));
    expect.soft(strangers.map((o) => `${o.number} ${o.externalDocumentNumber}`), 'ERP orders of no accepted order').toEqual([]);
    expect.soft(world.sim.state.orders.size, 'sales orders in the ERP').toBe(ORDERS);

    // The order whose create the second kill cut off was found by its reference afterwards, not created again.
    const cutOff = orders.get(references.get(createdAtKill!)!);
    expect.soft(cutOff, `the order whose ERP create the second kill cut off\n${await describeOrder(cutOff)}`).toMatchObject({
      status: 'confirmed', erpOrderRef: erpOrdersWithReference(world.sim, createdAtKill!)[0]?.number,
    });
    const trace = (await service.request('GET', `/v1/ops/trace/${cutOff?.correlationId}`)).body;
    const erpDelivered = trace?.timeline?.filter((step: any) => step.step === 'delivered' && step.destination === 'erp:bc') ?? [];
    expect.soft(erpDelivered.map((step: any) => step.detail?.result?.created), 'its delivery found the ERP order (created: false)').toEqual([false]);

    // Every 202 for a key named the same order, and the key still answers it.
    const split = keys.filter((_, i) => new Set(attempts[i]!.filter((a) => a.status === 202).map((a) => a.orderId)).size !== 1);
    expect.soft(split, 'keys answered 202 with different orders').toEqual([]);
    const replays: string[] = [];
    await everyOrder(async (i) => {
      const tries: Attempt[] = [];
      await send(i, tries);
      const last = tries.at(-1)!;
      if (last.status !== 202 || last.orderId !== accepted[i] || !last.replayed) replays.push(`${keys[i]}: ${JSON.stringify(last)} (first answered ${accepted[i]})`);
    });
    expect.soft(replays, 'keys whose replay answered otherwise').toEqual([]);
    expect.soft(firstKill.answered, 'answers before the first kill').toBeLessThan(ORDERS);
    expect.soft(cutRequests, 'requests cut off by the first kill').toBeGreaterThan(0);
  });
});

/** An order in a few lines: status and history, its ERP orders, its deliveries and their steps. */
async function describeOrder(order: any): Promise<string> {
  if (!order?.correlationId) return JSON.stringify(order);
  const trace = (await service.request('GET', `/v1/ops/trace/${order.correlationId}`)).body;
  return [
    `order ${order.orderId} ${order.reference}: ${order.status} (${order.statusReason ?? ''}), erpOrderRef ${order.erpOrderRef}`,
    `  history: ${order.history?.map((h: any) => `${h.at} ${h.status}${h.reason ? ` (${h.reason})` : ''}`).join('; ')}`,
    `  in the ERP: [${erpOrdersWithReference(world.sim, order.reference).map((o) => o.number).join(', ')}]`,
    ...(trace?.deliveries ?? []).map((d: any) => `  delivery ${d.deliveryId} ${d.type} to ${d.destination}: ${d.status}, ${d.attempts} attempts`),
    ...(trace?.timeline ?? []).map((t: any) => `    ${t.at} ${t.step} ${t.destination ?? ''} ${t.detail ? JSON.stringify(t.detail) : ''}`),
  ].join('\n');
}

/** The warning and error lines of the service's output, for failure messages. */
function warnings(output: string): string {
  return output.split('\n').filter((line) => /"level":(40|50|60)|^---|Error/.test(line)).slice(-200).join('\n');
}
