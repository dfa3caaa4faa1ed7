import { createShopifySimulator } from './shopify-simulator.js';

// `npm run sim:shopify`: the Shopify Admin API simulator on its own (PORT, default 4020). Any access token is
// accepted unless SHOPIFY_SIM_ACCESS_TOKEN is set.
const simulator = createShopifySimulator({
  accessToken: process.env.SHOPIFY_SIM_ACCESS_TOKEN,
  currency: process.env.SHOPIFY_SIM_CURRENCY,
  latencyMs: [Number(process.env.SHOPIFY_SIM_LATENCY_MIN_MS ?? 20), Number(process.env.SHOPIFY_SIM_LATENCY_MAX_MS ?? 80)],
  maximumAvailable: Number(process.env.SHOPIFY_SIM_BUCKET ?? 2000),
  restoreRate: Number(process.env.SHOPIFY_SIM_RESTORE_RATE ?? 100),
});
const url = await simulator.listen(Number(process.env.PORT ?? 4020), process.env.HOST ?? '127.0.0.1');
process.stdout.write(
  `Shopify simulator on ${url}\n` +
    `  GraphQL  ${url}/admin/api/<version>/graphql.json (X-Shopify-Access-Token)\n` +
    `  control  ${url}/_control/state, /_control/mutations, PUT /_control/inventory-levels {"sku", "locationId", "available"},\n` +
    `           POST /_control/bucket {"currentlyAvailable": n}, POST /_control/webhooks/send {"url", "secret", "topic", "payload", "copies"},\n` +
    `           /_control/price-lists (POST {"currency", "id"?}), /_control/price-mutations, /_control/customers (POST a customer),\n` +
    `           /_control/companies (POST a company with its locations), POST /_control/companies/<id>, POST /_control/company-locations/<id>\n` +
    `           (a merchant's edit), POST /_control/webhooks/subscription {"url", "secret", "topics"?} (companies' webhooks;\n` +
    `           inventory_levels/update when "topics" names it), GET /_control/webhooks/sent\n`,
);
const stop = () => void simulator.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
