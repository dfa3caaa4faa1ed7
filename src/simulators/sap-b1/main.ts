import { createSapB1Simulator } from './sap-b1-simulator.js';

// The SAP Business One Service Layer simulator on its own (PORT, default 4030): `npm run build`, then
// `node dist/simulators/sap-b1/main.js`. Company, user and password are accepted as sent unless B1_SIM_COMPANY_DB,
// B1_SIM_USER and B1_SIM_PASSWORD are set; B1_SIM_SESSION_IDLE_SECONDS ends idle sessions (default 1800);
// B1_SIM_TAX_RATE_PERCENT taxes document lines (default 8.25).
const simulator = createSapB1Simulator({
  latencyMs: [Number(process.env.B1_SIM_LATENCY_MIN_MS ?? 20), Number(process.env.B1_SIM_LATENCY_MAX_MS ?? 120)],
  companyDb: process.env.B1_SIM_COMPANY_DB,
  userName: process.env.B1_SIM_USER,
  password: process.env.B1_SIM_PASSWORD,
  sessionIdleSeconds: process.env.B1_SIM_SESSION_IDLE_SECONDS ? Number(process.env.B1_SIM_SESSION_IDLE_SECONDS) : undefined,
  pageSize: process.env.B1_SIM_PAGE_SIZE ? Number(process.env.B1_SIM_PAGE_SIZE) : undefined,
  taxRatePercent: process.env.B1_SIM_TAX_RATE_PERCENT ? Number(process.env.B1_SIM_TAX_RATE_PERCENT) : undefined,
});
const url = await simulator.listen(Number(process.env.PORT ?? 4030), process.env.HOST ?? '127.0.0.1');
process.stdout.write(
  `SAP Business One Service Layer simulator on ${url}\n` +
    `  API      ${url}/b1s/v1/ and ${url}/b1s/v2/: POST Login, Logout; Orders (+ (n)/Cancel, (n)/Close), DeliveryNotes, BusinessPartners, Items,\n` +
    `           PriceLists, Warehouses, SpecialPrices, PaymentTermsTypes, Returns, Invoices, CreditNotes, InventoryGenEntries, InventoryGenExits, StockTransfers\n` +
    `  control  ${url}/_control/state, /_control/requests, POST /_control/settings {...}, /_control/maintenance {"on": true, "retryAfterSeconds"},\n` +
    `           POST /_control/expire-sessions, /_control/lose-next-create {"count"}, /_control/fault {"status", "body", "reset", "count"},\n` +
    `           POST /_control/stock {"ItemCode", "WarehouseCode", "Quantity"}, /_control/orders/<DocEntry>/deliver,\n` +
    `           POST /_control/business-partners/<CardCode>/edit-before-next-patch {"fields", "count"},\n` +
    `           PUT /_control/items/<ItemCode>, /_control/business-partners/<CardCode>, /_control/price-lists/<PriceListNo>,\n` +
    `           PUT and DELETE /_control/special-prices/<CardCode>/<ItemCode>\n`,
);
const stop = () => void simulator.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
