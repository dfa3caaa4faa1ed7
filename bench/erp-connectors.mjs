// The ERP connectors side by side, Business Central and SAP Business One, each against its simulator holding the
// same company (BENCH_CUSTOMERS customers, BENCH_ITEMS items in two warehouses), with the same latency per request:
//   1. the customer pull (every customer with its balance, page by page);
//   2. the full stock read (every item's on-hand and reserved per mapped warehouse);
//   3. order creates (each looked up by its reference first), BENCH_ORDERS of them, BENCH_CONCURRENCY at once.
// The connectors run in this process with no governor (each call admitted at once), as the delivery adapter
// calls them; the simulators run in it too, so the CPU figure is both sides' together.
// Usage: npm run bench:erp   (BENCH_CUSTOMERS 2000, BENCH_ITEMS 2000, BENCH_ORDERS 200, BENCH_CONCURRENCY 4,
// BENCH_LATENCY_MS "10,30")
import { BusinessCentralErp } from '../dist/connectors/erp/business-central/business-central.delivery.js';
import { SapB1Erp } from '../dist/connectors/erp/sap-b1/sap-b1.delivery.js';
import { createBusinessCentralSimulator } from '../dist/simulators/business-central/bc-simulator.js';
import { createSapB1Simulator, sapB1Company } from '../dist/simulators/sap-b1/sap-b1-simulator.js';
import { machineLine, numberOption, percentile } from './support.mjs';

const CUSTOMERS = numberOption('BENCH_CUSTOMERS', 2000);
const ITEMS = numberOption('BENCH_ITEMS', 2000);
const ORDERS = numberOption('BENCH_ORDERS', 200);
const CONCURRENCY = numberOption('BENCH_CONCURRENCY', 4);
const LATENCY = (process.env.BENCH_LATENCY_MS ?? '10,30').split(',').map(Number);

// One company for both ERPs.
const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({ number: `C${String(i + 1).padStart(5, '0')}`, name: `Customer ${i + 1}`, creditLimit: 10_000 + i, balance: i % 500 }));
const items = Array.from({ length: ITEMS }, (_, i) => ({ number: `I${String(i + 1).padStart(5, '0')}`, price: 10 + (i % 90), east: 50 + (i % 40), west: 20 + (i % 15) }));
const orderOf = (n) => ({
  externalDocumentNumber: `BENCH-${n}`, customerNumber: customers[n % CUSTOMERS].number, orderDate: '2026-12-02',
  lines: [0, 1].map((k) => ({ lineObjectNumber: items[(n * 7 + k) % ITEMS].number, quantity: 1 + k, unitPrice: items[(n * 7 + k) % ITEMS].price, warehouse: k ? 'WH-WEST' : 'WH-EAST' })),
});

async function businessCentral() {
  const sim = createBusinessCentralSimulator({
    clientId: 'crossdock', clientSecret: 'secret-1', latencyMs: LATENCY, concurrency: 100, ratePerSecond: 100_000,
    data: {
      customers: customers.map((c) => ({ id: crypto.randomUUID(), number: c.number, displayName: c.name, blocked: ' ', creditLimit: c.creditLimit, balanceDue: c.balance })),
      items: items.map((i) => ({ id: crypto.randomUUID(), number: i.number, displayName: `Item ${i.number}`, unitPrice: i.price })),
      openingStock: items.flatMap((i) => [{ itemNumber: i.number, locationCode: 'EAST', quantity: i.east }, { itemNumber: i.number, locationCode: 'WEST', quantity: i.west }]),
    },
  });
  const url = await sim.listen();
  const locations = Object.fromEntries([...sim.state.locations.values()].map((l) => [l.code, l.id]));
  const erp = new BusinessCentralErp({
    tenantId: 't1', environment: 'production', companyId: 'c0ffee00-0000-0000-0000-000000000001', clientId: 'crossdock', clientSecret: 'secret-1',
    baseUrl: `${url}/v2.0/t1/production/api/v2.0`, tokenUrl: `${url}/oauth2/v2.0/token`,
    locationCodes: { 'WH-EAST': 'EAST', 'WH-WEST': 'WEST' }, locations: { 'WH-EAST': locations.EAST, 'WH-WEST': locations.WEST },
  });
  return { name: 'Business Central API v2.0', erp, requests: () => sim.state.requests.length, close: () => sim.close() };
}

async function sapBusinessOne() {
  const warehouses = [{ WarehouseCode: '01', WarehouseName: 'East' }, { WarehouseCode: '02', WarehouseName: 'West' }];
  const sim = createSapB1Simulator({
    latencyMs: LATENCY, companyDb: 'SBODEMOUS', userName: 'manager', password: 'secret-1',
    data: sapB1Company({
      warehouses,
      customers: customers.map((c) => ({ CardCode: c.number, CardName: c.name, CreditLimit: c.creditLimit, CurrentAccountBalance: c.balance })),
      items: items.map((i) => ({ code: i.number, name: `Item ${i.number}`, price: i.price, inStock: { '01': i.east, '02': i.west } })),
    }),
  });
  const url = await sim.listen();
  const erp = new SapB1Erp({ baseUrl: `${url}/b1s/v1`, companyDb: 'SBODEMOUS', username: 'manager', password: 'secret-1', warehouseCodes: { 'WH-EAST': '01', 'WH-WEST': '02' }, currencies: { $: 'USD' } });
  return { name: 'SAP Business One Service Layer v1', erp, requests: () => sim.state.requests.length, close: async () => { await erp.close(); await sim.close(); } };
}

const call = (work) => work(AbortSignal.timeout(120_000));

/** Seconds, requests and CPU milliseconds (this process) of `work`. */
async function measured(target, work) {
  const requests = target.requests();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const { user, system } = process.cpuUsage(cpu);
  return { result, seconds: (performance.now() - started) / 1000, requests: target.requests() - requests, cpuMs: (user + system) / 1000 };
}

const rows = [];
for (const open of [businessCentral, sapBusinessOne]) {
  const target = await open();
  try {
    await target.erp.customers(call); // warm up: token or session, connections
    const pull = await measured(target, () => target.erp.customers(call));
    const stock = await measured(target, () => target.erp.stockSince(call, undefined, new Map()));
    const latencies = [];
    let next = 0;
    const creates = await measured(target, () => Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < ORDERS) {
        const order = orderOf(next++);
        const started = performance.now();
        const created = await target.erp.createSalesOrder(order, AbortSignal.timeout(30_000));
        if (!created.created) throw new Error(`${order.externalDocumentNumber} was there already`);
        latencies.push(performance.now() - started);
      }
    })));
    latencies.sort((a, b) => a - b);
    rows.push({ name: target.name, pull, stock, creates, latencies });
  } finally {
    await target.close();
  }
}

const per = (n, m) => (m === 0 ? '-' : (n / m).toFixed(2));
console.log(machineLine());
console.log(`${CUSTOMERS} customers and ${ITEMS} items in two warehouses in each ERP's simulator, ${LATENCY[0]}-${LATENCY[1]} ms a request; ${ORDERS} order creates, ${CONCURRENCY} at once; connector and simulator in one process.`);
console.log('');
console.log('| ERP | customer pull | full stock read | order creates (lookup, then create) |');
console.log('|---|---|---|---|');
for (const { name, pull, stock, creates, latencies } of rows) {
  console.log(`| ${name} | ${pull.result.customers.length} customers (${pull.result.rejected.length} rejected) in ${pull.seconds.toFixed(2)} s, ${pull.requests} requests, ${per(pull.cpuMs, pull.result.customers.length)} ms CPU each `
    + `| ${stock.result.levels.length} levels in ${stock.seconds.toFixed(2)} s, ${stock.requests} requests, ${per(stock.cpuMs, stock.result.levels.length)} ms CPU each `
    + `| ${Math.round(ORDERS / creates.seconds)} orders/s, p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, ${per(creates.requests, ORDERS)} requests and ${per(creates.cpuMs, ORDERS)} ms CPU each |`);
}
process.exit(0);
