import { createBusinessCentralSimulator } from './bc-simulator.js';

// `npm run sim:bc`: the Business Central simulator on its own (PORT, default 4010). Client id and secret are
// accepted as sent unless BC_SIM_CLIENT_ID / BC_SIM_CLIENT_SECRET are set; BC_SIM_PAGE_SIZE sets entities per page;
// BC_SIM_CUSTOMER_PRICES_API serves the custom prices page (`contoso/pricing/v1.0/customerPrices`); BC_SIM_TAX_RATE_PERCENT
// taxes order lines (default 8.25).
const simulator = createBusinessCentralSimulator({
  latencyMs: [Number(process.env.BC_SIM_LATENCY_MIN_MS ?? 20), Number(process.env.BC_SIM_LATENCY_MAX_MS ?? 120)],
  ratePerSecond: Number(process.env.BC_SIM_RATE_PER_SECOND ?? 20),
  clientId: process.env.BC_SIM_CLIENT_ID,
  clientSecret: process.env.BC_SIM_CLIENT_SECRET,
  pageSize: process.env.BC_SIM_PAGE_SIZE ? Number(process.env.BC_SIM_PAGE_SIZE) : undefined,
  customerPricesApi: process.env.BC_SIM_CUSTOMER_PRICES_API,
  taxRatePercent: process.env.BC_SIM_TAX_RATE_PERCENT ? Number(process.env.BC_SIM_TAX_RATE_PERCENT) : undefined,
});
const url = await simulator.listen(Number(process.env.PORT ?? 4010), process.env.HOST ?? '127.0.0.1');
process.stdout.write(
  `Business Central simulator on ${url}\n` +
    `  API       ${url}/v2.0/<tenant>/<environment>/api/v2.0/companies(<id>)/salesOrders, customers, paymentTerms, items, locations, itemLedgerEntries\n` +
    `  webhooks  ${url}/v2.0/<tenant>/<environment>/api/v2.0/subscriptions (the validation-token handshake; customers' changes notified)\n` +
    `  analytics ${url}/v2.0/<tenant>/<environment>/api/microsoft/analytics/v1.0/companies(<id>)/itemLedgerEntries\n` +
    `  token     ${url}/oauth2/v2.0/token\n` +
    `  control   ${url}/_control/state, POST /_control/maintenance {"on": true}, /_control/throttle {"next": n, "after": k},\n` +
    `            POST /_control/stock {"itemNumber", "locationCode", "quantity"}, POST /_control/orders/<id>/ship,\n` +
    `            PUT /_control/items/<number>, PUT and DELETE /_control/price-list-lines/<lineNo>, PUT /_control/customers/<number>,\n` +
    `            POST /_control/customers/<number>/edit-before-next-patch {"fields", "count"}, /_control/stale-next-patch {"count"},\n` +
    `            DELETE /_control/customers/<number>, GET /_control/subscriptions, POST /_control/subscriptions/<id>/expire,\n` +
    `            GET /_control/notifications, GET /_control/handshakes\n`,
);
const stop = () => void simulator.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
